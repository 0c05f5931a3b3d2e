package scenario_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf16"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

const minimal = `metadata: {name: x}
spec:
  steps:
  - name: s
    assert: {expr: "true"}
`

// TestDiscoverDecidesFromTheEnvelope: what makes a file a scenario is its
// parsed envelope, however it is written; what claims to be kdrill's is
// never skipped, and a directory without a scenario is an error.
func TestDiscoverDecidesFromTheEnvelope(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"quoted.yaml":    "apiVersion: \"kdrill.dev/v1alpha1\"\nkind: \"Scenario\"\n" + minimal,
		"flow.yaml":      `{"apiVersion": "kdrill.dev/v1alpha1", "kind": "Scenario", "metadata": {"name": "x"}, "spec": {"steps": [{"name": "s", "assert": {"expr": "true"}}]}}`,
		"json.json":      `{"apiVersion": "kdrill.dev/v1alpha1", "kind": "Scenario", "metadata": {"name": "x"}, "spec": {"steps": []}}`,
		"long-head.yaml": strings.Repeat("# a long comment header, longer than any peek\n", 200) + "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\n" + minimal,
		"wrong-api.yml":  "apiVersion: kdrill.dev/v2\nkind: Scenario\n" + minimal,
		"kind-only.yaml": "apiVersion: example.com/v1\nkind: Scenario\n" + minimal,
		"broken.yaml":    "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: [x\n",
		"manifest.yaml":  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
		"helm.yaml":      "{{ if .Values.x }}\nkind: ConfigMap\n{{ end }}\n",
		"steps.yaml":     "apiVersion: kdrill.dev/v1alpha1\nkind: Steps\nmetadata: {name: checks}\nspec: {steps: []}\n",
		"notes.txt":      "kind: Scenario",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	utf16Scenario := utf16.Encode([]rune("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\n" + minimal))
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16Scenario {
		b = append(b, byte(u), byte(u>>8))
	}
	if err := os.WriteFile(filepath.Join(dir, "utf16.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop.yaml", filepath.Join(dir, "loop.yaml")); err != nil {
		t.Fatal(err)
	}

	found, err := scenario.Discover([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range found.Files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"broken.yaml", "flow.yaml", "json.json", "kind-only.yaml", "long-head.yaml", "loop.yaml", "pipe.yaml", "quoted.yaml", "utf16.yaml", "wrong-api.yml"}
	if !slices.Equal(names, want) {
		t.Errorf("scenarios:\n got %v\nwant %v", names, want)
	}
	reasons := map[string]string{}
	for _, s := range found.Skipped {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	for name, reason := range map[string]string{
		"manifest.yaml": "not a scenario",
		"helm.yaml":     "not YAML",
		"steps.yaml":    "a steps file",
	} {
		if !strings.Contains(reasons[name], reason) {
			t.Errorf("%s: skipped for %q, want %q", name, reasons[name], reason)
		}
	}

	// Each candidate loads, or says what is wrong with it.
	for name, msg := range map[string]string{
		"wrong-api.yml":  `apiVersion: must be kdrill.dev/v1alpha1, not "kdrill.dev/v2"`,
		"kind-only.yaml": "apiVersion: must be kdrill.dev/v1alpha1",
		"broken.yaml":    "did not find expected",
		"pipe.yaml":      "is a named pipe, not a regular file",
		"loop.yaml":      "symbolic link loop",
		"utf16.yaml":     "the file is UTF-16 text; save it as UTF-8",
		"json.json":      "spec.steps: required",
	} {
		_, err := scenario.Load(filepath.Join(dir, name), nil)
		if err == nil || !strings.Contains(err.Error(), msg) || !scenario.IsInvalidInput(err) {
			t.Errorf("%s: got %v, want %q", name, err, msg)
		}
	}

	// A named pipe or a link loop given as a manifest is refused, not read.
	for _, manifest := range []string{"pipe.yaml", "loop.yaml"} {
		file := filepath.Join(dir, "uses-"+manifest)
		text := "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: x}\nspec:\n  steps:\n  - name: s\n    apply: {file: " + manifest + "}\n"
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := scenario.Load(file, steps.Registry)
		if err == nil || !strings.Contains(err.Error(), ":7: ") || !strings.Contains(err.Error(), map[string]string{"pipe.yaml": "named pipe", "loop.yaml": "symbolic link loop"}[manifest]) {
			t.Errorf("%s as a manifest: %v", manifest, err)
		}
	}

	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "manifest.yaml"), []byte(files["manifest.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Discover([]string{empty}); err == nil || !strings.Contains(err.Error(), "no scenario in this directory") || !scenario.IsInvalidInput(err) {
		t.Errorf("a directory of manifests: %v", err)
	}
	if _, err := scenario.Discover([]string{filepath.Join(dir, "loop.yaml")}); err == nil {
		t.Error("a link loop named on the command line is taken as a file")
	}
}
