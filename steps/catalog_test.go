package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// TestEveryKindIsDocumentedWithAWorkingExample checks that each registered
// kind has a summary, documented fields, and an example that loads.
func TestEveryKindIsDocumentedWithAWorkingExample(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests", "blue.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: blue}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range steps.Registry.Kinds() {
		d := steps.Describe(kind)
		if d.Summary == "" || d.Example == "" {
			t.Errorf("%s: missing summary or example", kind)
			continue
		}
		for _, f := range d.Fields {
			if f.Doc == "" {
				t.Errorf("%s: field %s has no doc comment", kind, f.Name)
			}
		}
		if !strings.HasPrefix(d.Example, "steps:\n") {
			t.Errorf("%s: the example should start with steps:", kind)
		}
		text := "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: example}\nspec:\n  vars: {replicas: 3}\n" + indent(d.Example, "  ")
		path := filepath.Join(dir, kind+".yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := scenario.Load(path, steps.Registry)
		if err != nil {
			t.Errorf("%s: the example does not load: %v", kind, err)
			continue
		}
		shown := false
		for _, st := range s.Spec.Steps {
			shown = shown || st.Kind == kind
		}
		if !shown {
			t.Errorf("%s: the example has no %s step", kind, kind)
		}
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// Every kind that writes has a plan for --dry-run, and every kind that
// disrupts is held to the safety policy: with -n kube-system a scenario of
// it is refused before it runs.
func TestEveryWritingKindPlansAndEveryDisruptingKindIsGuarded(t *testing.T) {
	for _, kind := range steps.Registry.Kinds() {
		info := steps.Registry[kind]
		if info.Effect == scenario.Reads {
			continue
		}
		if _, ok := info.New().(step.Planner); !ok {
			t.Errorf("%s %s but has no Plan: --dry-run cannot say what it would do", kind, info.Effect)
		}
		if info.Effect != scenario.Disrupts {
			continue
		}
		st := &scenario.Step{Name: kind, Kind: kind, Info: info, Action: info.New(), Phase: "steps"}
		s := &scenario.Scenario{File: kind + ".yaml", Spec: scenario.Spec{Steps: []*scenario.Step{st}}}
		err := scenario.CheckPolicy([]*scenario.Scenario{s}, scenario.PolicyOptions{Namespace: "kube-system", Context: "kind-x"})
		if err == nil || !strings.Contains(err.Error(), "kube-system is a system namespace") {
			t.Errorf("%s disrupts, yet -n kube-system is not refused: %v", kind, err)
		}
	}
}
