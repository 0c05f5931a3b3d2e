package scenario_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// A scenario's file, and each steps file it includes, is read and parsed
// once per load: the schema check reads the loader's document, and a
// matrix's instances are built from it with typed values, not by loading
// the file again with their values written as --set text.
func TestEachFileIsParsedOnce(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"checks/quota.yaml": quotaChecks,
		"grid.yaml": `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: grid}
spec:
  vars: {replicas: 2, version: "1.0", debug: false, sizes: [a]}
  matrix:
    replicas: [3, "300"]
    version: ["1.0", 2]
  steps:
  - name: first
    include: {file: checks/quota.yaml}
  - name: again
    include: {file: checks/quota.yaml, with: {quota: other}}
  - name: size
    scale: {kind: Deployment, name: web, replicas: "${{ vars.replicas }}"}
  - name: versioned
    assert: {expr: 'vars.version != "" && !vars.debug && len(vars.sizes) == 2'}
`,
	})
	reads := scenario.CountFileReads(t)
	var checked []string
	opts := scenario.LoadOptions{
		Set: map[string]string{"debug": "false", "sizes": "[a, b]"},
		Check: func(file string, doc scenario.Document) error {
			checked = append(checked, filepath.Base(file))
			if doc.Line != 1 || doc.Value.(map[string]any)["kind"] != "Scenario" {
				t.Errorf("the check was given %+v", doc)
			}
			return nil
		},
	}
	s, err := scenario.LoadWith(filepath.Join(dir, "grid.yaml"), steps.Registry, opts)
	if err != nil {
		t.Fatal(err)
	}
	instances, err := scenario.Instances(s, steps.Registry, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d file reads for a scenario and the one steps file it includes twice, over 4 instances; want 2", n)
	}
	if diff := cmp.Diff([]string{"grid.yaml"}, checked); diff != "" {
		t.Errorf("checked (-want +got):\n%s", diff)
	}
	var got []map[string]any
	for _, inst := range instances {
		if inst.Digest != s.Digest || len(inst.Spec.Steps) != 6 {
			t.Errorf("%s: digest %s (first %s), %d steps", inst.DisplayName(), inst.Digest, s.Digest, len(inst.Spec.Steps))
		}
		got = append(got, map[string]any{"replicas": inst.Spec.Vars["replicas"], "version": inst.Spec.Vars["version"]})
		if inst.Spec.Vars["debug"] != false || len(inst.Spec.Vars["sizes"].([]any)) != 2 {
			t.Errorf("%s: --set applied as %v", inst.DisplayName(), inst.Spec.Vars)
		}
	}
	// Typed as each var is declared: a number from "300", text from 2.
	want := []map[string]any{
		{"replicas": float64(3), "version": "1.0"},
		{"replicas": float64(3), "version": "2"},
		{"replicas": int64(300), "version": "1.0"},
		{"replicas": int64(300), "version": "2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instance vars (-want +got):\n%s", diff)
	}
}
