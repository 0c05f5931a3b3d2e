package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/runner"
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
		s, err := runner.Parse("fuzz.yaml", data, steps.Registry)
		if err == nil {
			if s == nil || s.Metadata.Name == "" || len(s.Spec.Steps) == 0 {
				t.Fatalf("loaded an incomplete scenario: %+v", s)
			}
			return
		}
		if !runner.IsInvalidInput(err) || !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error is not a load error naming the file: %T %v", err, err)
		}
	})
}

// FuzzExprCompile compiles arbitrary expressions and templates: an error or
// a program, never a panic.
func FuzzExprCompile(f *testing.F) {
	for _, seed := range []string{
		"object.status.availableReplicas == vars.replicas",
		`quantity("128Mi") < quantity("1Gi")`,
		`all(objects, .status.phase == "Running")`,
		`steps["a b"].recovery.p95 < duration("30s")`,
		"len(",
		"${{ vars.x }}-${{ namespace }}",
		"${{",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e := runner.Expr{Source: src}
		if err := e.Compile(map[string]any{"object": map[string]any{}, "objects": []any{}}); err == nil {
			_, _, _ = e.Eval(map[string]any{"vars": map[string]any{}, "steps": map[string]any{}, "namespace": "n", "object": nil, "objects": []any{}})
		}
		if tmpl, err := runner.CompileTemplate(src, nil); err == nil {
			_, _ = tmpl.Expand(map[string]any{"vars": map[string]any{}, "steps": map[string]any{}, "namespace": "n"})
		}
	})
}
