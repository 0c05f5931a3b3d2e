package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// FuzzParse feeds arbitrary bytes to the scenario loader: it must return a
// scenario or LoadErrors naming the file, and never panic. The seed corpus
// is every shipped scenario and every file in testdata/bad.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/bad/*.yaml", "../scenarios/*/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("fuzz.yaml", data, steps.Registry)
		if err == nil {
			if s == nil || s.Metadata.Name == "" || len(s.Spec.Steps) == 0 {
				t.Fatalf("loaded an incomplete scenario: %+v", s)
			}
			return
		}
		if !scenario.IsInvalidInput(err) || !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error is not a load error naming the file: %T %v", err, err)
		}
	})
}

// FuzzScenarioWithManifests loads a scenario that applies a manifest file
// beside it, both made of fuzzed text, through the same loader the
// commands use: a scenario or load errors naming a file, never a panic, and
// no file read outside the directory.
func FuzzScenarioWithManifests(f *testing.F) {
	text := `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: fuzz}
spec:
  vars: {app: web, replicas: 2}
  steps:
  - name: deploy
    apply: {file: manifest.yaml, wait: true}
  - name: scale
    scale: {kind: Deployment, name: "${{ vars.app }}", replicas: "${{ vars.replicas }}"}
  - name: check
    assert: {resource: {kind: Deployment, name: web}, expr: object.spec.replicas == steps.scale.replicas}
`
	manifests, _ := filepath.Glob("../scenarios/*/manifests/*.yaml")
	for _, m := range manifests {
		if data, err := os.ReadFile(m); err == nil {
			f.Add([]byte(text), data)
		}
	}
	f.Add([]byte(text), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${{ vars.ap }}}\n"))
	f.Add([]byte(strings.Replace(text, "file: manifest.yaml", "inline: |\n        apiVersion: v1\n        kind: [", 1)), []byte{})
	f.Fuzz(func(t *testing.T, scenarioText, manifestText []byte) {
		if len(scenarioText)+len(manifestText) > 64<<10 {
			t.Skip("the size limits have their own tests")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(path, scenarioText, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), manifestText, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := scenario.LoadWith(path, steps.Registry, scenario.LoadOptions{Set: map[string]string{"replicas": "3"}})
		if err == nil {
			if s == nil || len(s.Spec.Steps) == 0 {
				t.Fatalf("loaded an incomplete scenario: %+v", s)
			}
			return
		}
		if !scenario.IsInvalidInput(err) || !strings.HasPrefix(err.Error(), path) {
			t.Fatalf("error is not a load error naming the file: %T %v", err, err)
		}
	})
}

// FuzzIncludeMatrixKustomize loads a scenario with a matrix that includes a
// steps file and applies a kustomization, the three made of fuzzed text:
// every instance loads, or the errors are load errors naming a file (the
// scenario, or one it reaches), never a panic; kustomize stays in the
// directory's in-memory copy, so nothing is fetched.
func FuzzIncludeMatrixKustomize(f *testing.F) {
	text := `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: fuzz}
spec:
  vars: {app: web, replicas: 2}
  matrix: {replicas: [1, 3]}
  steps:
  - name: deploy
    apply: {kustomize: k}
  - name: checks
    include: {file: checks.yaml, with: {app: "${{ vars.app }}-x"}}
`
	checks := `apiVersion: kdrill.dev/v1alpha1
kind: Steps
metadata: {name: checks}
spec:
  vars: {app: ""}
  steps:
  - name: there
    assert: {resource: {kind: Deployment, name: "${{ vars.app }}"}, expr: object.spec.replicas >= 1}
`
	kust := "resources: [deploy.yaml]\nnamePrefix: fuzz-\n"
	deploy, _ := os.ReadFile("../scenarios/real/manifests/demo-app.yaml")
	f.Add([]byte(text), []byte(checks), []byte(kust), deploy)
	f.Add([]byte(text), []byte(checks), []byte("resources: [https://example.com/x.yaml]\n"), deploy)
	f.Add([]byte(text), []byte(strings.Replace(checks, `"${{ vars.app }}"`, `"${{ vars.ap`, 1)), []byte(kust), deploy)
	f.Fuzz(func(t *testing.T, scenarioText, stepsText, kustText, resourceText []byte) {
		if len(scenarioText)+len(stepsText)+len(kustText)+len(resourceText) > 64<<10 {
			t.Skip("the size limits have their own tests")
		}
		dir := t.TempDir()
		for name, data := range map[string][]byte{"s.yaml": scenarioText, "checks.yaml": stepsText, "k/kustomization.yaml": kustText, "k/deploy.yaml": resourceText} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, "s.yaml")
		s, err := scenario.Load(path, steps.Registry)
		if err == nil {
			_, err = scenario.Instances(s, steps.Registry, scenario.LoadOptions{})
		}
		if err == nil {
			return
		}
		if !scenario.IsInvalidInput(err) || !strings.HasPrefix(err.Error(), dir) {
			t.Fatalf("error is not a load error naming a file of the scenario: %T %v", err, err)
		}
	})
}
