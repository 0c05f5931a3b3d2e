package scenario_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// TestBadScenarios loads every file in testdata/bad. Each starts with a
// "# want: LINE: TEXT" comment: the load must fail with a LoadError at that
// line (0: any line) whose message contains TEXT.
func TestBadScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			spec, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line must be # want: LINE: TEXT, got %q", first)
			}
			lineText, want, _ := strings.Cut(spec, ": ")
			wantLine, err := strconv.Atoi(lineText)
			if err != nil {
				t.Fatalf("bad want line %q", lineText)
			}
			_, err = scenario.Load(file, steps.Registry)
			if err == nil {
				t.Fatal("loaded without error")
			}
			var errs scenario.LoadErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, not LoadErrors: %v", err, err)
			}
			if !scenario.IsInvalidInput(err) {
				t.Error("IsInvalidInput is false")
			}
			for _, le := range errs {
				// An included file's problem names it, reached from this file.
				if le.File != file && (len(le.Via) == 0 || le.Via[0].File != file) {
					t.Errorf("error names file %q, want %q or a file it includes", le.File, file)
				}
				if strings.Contains(le.Error(), want) && (wantLine == 0 || le.Line == wantLine) {
					return
				}
			}
			t.Errorf("want an error at line %d containing %q, got:\n%v", wantLine, want, err)
		})
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDocumentedDefaults decodes a minimal scenario and checks every default
// the README and the step reference promise.
func TestDocumentedDefaults(t *testing.T) {
	path := write(t, "min.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: min}
spec:
  steps:
  - {name: d, delete: {kind: Pod, name: p}}
  - {name: s, scale: {kind: Deployment, name: web, replicas: 1}}
  - {name: p, patch: {kind: Service, name: svc, patch: {metadata: {labels: {a: b}}}}}
  - {name: a, apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}}}
  - apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}}
`)
	s, err := scenario.Load(path, steps.Registry)
	if err != nil {
		t.Fatal(err)
	}
	if s.Spec.Namespace != "" {
		t.Errorf("namespace %q, want empty (a fresh one per run)", s.Spec.Namespace)
	}
	if s.Spec.Timeout.Duration != 30*time.Minute || s.Spec.StepTimeout.Duration != 2*time.Minute {
		t.Errorf("timeouts %s/%s, want 30m/2m", s.Spec.Timeout, s.Spec.StepTimeout)
	}
	del := s.Spec.Steps[0].Action.(*steps.Delete)
	if del.Propagation != "Background" || !*del.Wait || del.MustExist {
		t.Errorf("delete defaults: %+v", del)
	}
	if sc := s.Spec.Steps[1].Action.(*steps.Scale); !*sc.Wait {
		t.Error("scale waits by default")
	}
	if p := s.Spec.Steps[2].Action.(*steps.Patch); p.Type != "merge" {
		t.Errorf("patch type %q, want merge", p.Type)
	}
	if a := s.Spec.Steps[3].Action.(*steps.Apply); a.Wait {
		t.Error("apply does not wait by default")
	}
	if got := s.Spec.Steps[4].Name; got != "apply-4" {
		t.Errorf("unnamed step is called %q, want apply-4", got)
	}
	if s.Spec.Steps[1].Line != 7 || s.Spec.Steps[1].Label() != `steps[1] "s"` {
		t.Errorf("step 1 line %d label %s", s.Spec.Steps[1].Line, s.Spec.Steps[1].Label())
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	path := write(t, "many.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: many}
spec:
  steps:
  - {name: a, scale: {kind: Deployment, replicas: 1}}
  - {name: b, assert: {expr: "nope == 1"}}
  finally:
  - {name: c, sleep: {duration: -1s}}
`)
	_, err := scenario.Load(path, steps.Registry)
	var errs scenario.LoadErrors
	if !errors.As(err, &errs) {
		t.Fatalf("want LoadErrors, got %v", err)
	}
	got := fmt.Sprint(err)
	for _, want := range []string{
		path + `:6: steps[0] "a": scale.name: required`,
		path + `:7: steps[1] "b": assert.expr: expression does not compile: unknown name nope`,
		path + `:9: finally[0] "c": sleep.duration`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, scenario.MaxScenarioBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(dir, "deep.yaml")
	if err := os.WriteFile(deep, []byte("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: d}\nspec:\n  vars:\n    x: "+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "file not found"},
		{dir, "is a directory"},
		{big, "larger than"},
		{deep, "deeper than"},
	} {
		_, err := scenario.Load(tc.path, steps.Registry)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.path) {
			t.Errorf("Load(%s): got %v, want an error naming the file and containing %q", tc.path, err, tc.want)
		}
	}
}
