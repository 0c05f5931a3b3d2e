package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/runner"
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
		s, err := runner.Load(path, steps.Registry)
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
