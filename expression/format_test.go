package expression

import (
	"encoding/json"
	"strings"
	"testing"
)

func pod(name, phase string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "team", "labels": map[string]any{"app": "web", "pod-template-hash": "5d8f7c9b6"}},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": "registry.example/web:1.0"}}},
		"status":   map[string]any{"phase": phase, "podIP": "10.0.0.1"},
	}
}

func TestFailureMessagesShowTheValues(t *testing.T) {
	objects := []any{pod("web-1", "Running"), pod("web-2", "Pending")}
	for _, tc := range []struct {
		expr string
		want []string
	}{
		// A list of objects shows their names and the count.
		{`len(objects) == 3`, []string{"len(objects) = 2"}},
		{`all(objects, .status.phase == "Running")`, []string{`objects = "<list of 2: Pod/web-1, Pod/web-2>"`}},
		// Computed sub-expressions show their value.
		{`len(filter(objects, .status.phase == "Running")) == 2`, []string{`len(filter(objects, .status.phase == "Running")) = 1`}},
		{`mean(vars.samples) < 2`, []string{"mean(vars.samples) = 3"}},
		{`max(vars.samples) < 4`, []string{"max(vars.samples) = 5"}},
	} {
		var e Expr
		e.Source = tc.expr
		if err := e.Compile(map[string]any{"objects": []any{}}); err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		ok, seen, err := e.Eval(map[string]any{"objects": objects, "vars": map[string]any{"samples": []any{1, 3, 5}}, "steps": map[string]any{}, "namespace": "team"})
		if ok || err != nil {
			t.Fatalf("%s: %v %v", tc.expr, ok, err)
		}
		got := Seen(seen, nil)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.expr, got, w)
			}
		}
	}
}

func TestTrimShowsTheFirstItemsOfALongList(t *testing.T) {
	var xs []any
	for i := range 40 {
		xs = append(xs, i*1000000)
	}
	if got := FormatValue(Trim(xs)); !strings.Contains(got, "<list of 40: 0, 1000000, 2000000, 3000000, 4000000, … 35 more>") {
		t.Errorf("%s", got)
	}
	big := map[string]any{}
	for _, k := range []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"} {
		big[k] = strings.Repeat("x", 60)
	}
	if got := FormatValue(Trim(big)); !strings.Contains(got, "<object with 7 fields: alpha, bravo, charlie, delta, echo, … 2 more>") {
		t.Errorf("%s", got)
	}
}

// A method the expression calls is not a value to show, and what is shown
// can always be written as JSON.
func TestSeenLeavesOutMethods(t *testing.T) {
	var e Expr
	e.Source = `now().UnixMilli() % 2000 < 0`
	if err := e.Compile(nil); err != nil {
		t.Fatal(err)
	}
	_, seen, err := e.Eval(map[string]any{"vars": map[string]any{}, "steps": map[string]any{}, "namespace": "team"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(seen); err != nil {
		t.Errorf("seen %v: %v", seen, err)
	}
}
