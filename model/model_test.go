package model

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryOutputTypeIsListed: every exported type named ...Output is some
// kind's output, so the reference docs and the reports know it.
func TestEveryOutputTypeIsListed(t *testing.T) {
	var listed []string
	for _, ty := range outputTypes {
		listed = append(listed, ty.Name())
	}
	for key := range docComments {
		if !strings.Contains(key, ".") && strings.HasSuffix(key, "Output") && !slices.Contains(listed, key) {
			t.Errorf("%s is no kind's output in outputTypes, so the reference docs leave it out", key)
		}
	}
}

// A results.json read back decodes into the kind's type, and the measures
// and charts come from the output's methods.
func TestDecodedOutputFromPlainValues(t *testing.T) {
	st := &StepResult{Kind: "monitor", Output: map[string]any{
		"recovery":     map[string]any{"p95": "1.5s"},
		"minAvailable": 3,
		"workloads":    []any{map[string]any{"kind": "Deployment", "name": "web"}},
	}}
	out, err := st.DecodedOutput()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := out.(Measured)
	if !ok {
		t.Fatalf("%T is not Measured", out)
	}
	found := false
	for _, x := range m.Measures() {
		if x.Name == "recovery.p95" && x.Value == 1.5 && x.Seconds {
			found = true
		}
	}
	if !found {
		t.Errorf("measures %+v lack recovery.p95 = 1.5s", m.Measures())
	}
	if c, ok := out.(AvailabilityCharted); !ok || len(c.AvailabilitySeries()) != 1 {
		t.Errorf("%T's availability series: %v", out, ok)
	}
	if out, err := (&StepResult{Kind: "sleep", Output: map[string]any{}}).DecodedOutput(); out != nil || err != nil {
		t.Errorf("a kind without output: %v %v", out, err)
	}
}
