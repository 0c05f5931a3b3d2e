package scenario_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/internal/testfiles"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// writeTree writes files under a new directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testfiles.Write(t, dir, files)
	return dir
}

const quotaChecks = `apiVersion: kdrill.dev/v1alpha1
kind: Steps
metadata: {name: quota}
spec:
  vars: {pods: 2, quota: pod-demo}
  steps:
  - name: quota exists
    assert:
      resource: {kind: ResourceQuota, name: "${{ vars.quota }}"}
      expr: object != nil
  - name: allows the pods
    assert:
      expr: steps["quota exists"].evaluations > 0 && vars.pods > 1
`

func TestIncludedStepsAreNamedScopedAndTyped(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"checks/quota.yaml": quotaChecks,
		"lab.yaml": `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: lab}
spec:
  vars: {pods: 10}
  steps:
  - name: first
    include: {file: checks/quota.yaml, with: {pods: "3"}}
  - name: again
    include: {file: checks/quota.yaml, with: {quota: other}}
  - name: after
    assert: {expr: 'steps["first/allows the pods"].evaluations == 1 && vars.pods == 10'}
`,
	})
	s, err := scenario.Load(filepath.Join(dir, "lab.yaml"), steps.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range s.Spec.Steps {
		names = append(names, st.Name)
	}
	want := "first/quota exists,first/allows the pods,again/quota exists,again/allows the pods,after"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("steps %s, want %s", got, want)
	}
	first, again := s.Spec.Steps[0], s.Spec.Steps[2]
	// with is typed as the file declares the var: "3" is the number 3.
	if fmt.Sprintf("%T %v", first.Vars["pods"], first.Vars["pods"]) != fmt.Sprintf("%T 3", again.Vars["pods"]) ||
		first.Vars["quota"] != "pod-demo" || fmt.Sprint(again.Vars["pods"]) != "2" || again.Vars["quota"] != "other" {
		t.Errorf("vars: first %#v, again %#v", first.Vars, again.Vars)
	}
	if s.Spec.Steps[4].Vars != nil || s.Spec.Steps[1].Index != 1 || s.Spec.Steps[4].Index != 4 {
		t.Errorf("the scenario's own step: vars %v, indices %d %d", s.Spec.Steps[4].Vars, s.Spec.Steps[1].Index, s.Spec.Steps[4].Index)
	}
	if first.File != filepath.Join(dir, "checks/quota.yaml") || first.Line != 7 || len(first.Via) != 1 || first.Via[0] != (scenario.Position{File: filepath.Join(dir, "lab.yaml"), Line: 7}) {
		t.Errorf("first/quota exists comes from %s:%d via %v", first.File, first.Line, first.Via)
	}
}

func TestIncludeMistakesAreCaughtAtLoad(t *testing.T) {
	scenarioText := func(steps string) string {
		return "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: lab}\nspec:\n  steps:\n" + steps
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // the whole first line of the error, after the directory
	}{
		{"an error inside the included file names it and the chain", map[string]string{
			"checks/bad.yaml": strings.Replace(quotaChecks, "object != nil", "object.spec.hard.pods > vars.podz", 1),
			"lab.yaml":        scenarioText("  - name: q\n    include: {file: checks/bad.yaml}\n"),
		}, `lab.yaml:6 → DIR/checks/bad.yaml:10: steps[0] "q/quota exists": assert.expr: vars.podz: no var named "podz" in spec.vars (did you mean "pods"?)`},
		{"a step of the included file sees its own steps, not the scenario's", map[string]string{
			"checks/peek.yaml": strings.Replace(quotaChecks, `steps["quota exists"].evaluations > 0`, `steps.before.evaluations > 0`, 1),
			"lab.yaml":         scenarioText("  - name: before\n    assert: {expr: 'true'}\n  - name: q\n    include: {file: checks/peek.yaml}\n"),
		}, `steps.before: no earlier step is named "before"`},
		{"a cycle", map[string]string{
			"a.yaml":   strings.Replace(quotaChecks, "  - name: quota exists\n", "  - name: loop\n    include: {file: b.yaml}\n  - name: quota exists\n", 1),
			"b.yaml":   strings.Replace(quotaChecks, "  - name: quota exists\n", "  - name: back\n    include: {file: a.yaml}\n  - name: quota exists\n", 1),
			"lab.yaml": scenarioText("  - name: q\n    include: {file: a.yaml}\n"),
		}, `include cycle: DIR/a.yaml → DIR/b.yaml → DIR/a.yaml`},
		{"a scenario is not a steps file", map[string]string{
			"other.yaml": scenarioText("  - name: x\n    assert: {expr: 'true'}\n"),
			"lab.yaml":   scenarioText("  - name: q\n    include: {file: other.yaml}\n"),
		}, `other.yaml:2: kind: an included file must be kind: Steps, not "Scenario"`},
		{"a missing file", map[string]string{
			"lab.yaml": scenarioText("  - name: q\n    include: {file: checks/nope.yaml}\n"),
		}, `lab.yaml:7: steps[0] "q": include.file: checks/nope.yaml: file not found`},
		{"an include with other fields", map[string]string{
			"checks/quota.yaml": quotaChecks,
			"lab.yaml":          scenarioText("  - name: q\n    points: 2\n    include: {file: checks/quota.yaml}\n"),
		}, `steps[0] "q": points: an include step has a name and include only`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			_, err := scenario.Load(filepath.Join(dir, "lab.yaml"), steps.Registry)
			if err == nil {
				t.Fatal("loaded")
			}
			got := strings.ReplaceAll(err.Error(), dir+"/", "")
			want := strings.ReplaceAll(tc.want, "DIR/", "")
			if !strings.Contains(got, want) {
				t.Errorf("got:\n%s\nwant it to contain:\n%s", got, want)
			}
		})
	}
}

// Files that include each other over and over multiply: the loader stops
// at a bound instead of building millions of steps.
func TestIncludesCannotMultiplyWithoutBound(t *testing.T) {
	files := map[string]string{}
	// level N includes level N+1 ten times; seven levels would be 10^7 steps.
	for n := range 7 {
		var steps strings.Builder
		for i := range 10 {
			if n == 6 {
				fmt.Fprintf(&steps, "  - name: s%d\n    assert: {expr: 'true'}\n", i)
			} else {
				fmt.Fprintf(&steps, "  - name: i%d\n    include: {file: level%d.yaml}\n", i, n+1)
			}
		}
		files[fmt.Sprintf("level%d.yaml", n)] = "apiVersion: kdrill.dev/v1alpha1\nkind: Steps\nmetadata: {name: l}\nspec:\n  steps:\n" + steps.String()
	}
	files["lab.yaml"] = "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: lab}\nspec:\n  steps:\n  - name: all\n    include: {file: level0.yaml}\n"
	dir := writeTree(t, files)
	_, err := scenario.Load(filepath.Join(dir, "lab.yaml"), steps.Registry)
	if err == nil || !strings.Contains(err.Error(), "includes bring in more than 2000 steps") {
		t.Fatalf("got %v", err)
	}
}

// include.with takes templates of the including file's vars, a matrix's
// among them: each instance's included steps get its own value, typed as the
// included file declares the var.
func TestIncludeWithTemplatesOfVars(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"checks/quota.yaml": quotaChecks,
		"lab.yaml": `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: lab}
spec:
  vars: {team: a, size: 2}
  matrix: {team: [a, b]}
  steps:
  - name: q
    include: {file: checks/quota.yaml, with: {quota: "quota-${{ vars.team }}", pods: "${{ vars.size * 2 }}"}}
`,
	})
	s, err := scenario.Load(filepath.Join(dir, "lab.yaml"), steps.Registry)
	if err != nil {
		t.Fatal(err)
	}
	instances, err := scenario.Instances(s, steps.Registry, scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range instances {
		st := in.Spec.Steps[0]
		got = append(got, fmt.Sprintf("%v %v", st.Vars["quota"], st.Vars["pods"]))
	}
	if want := "quota-a 4,quota-b 4"; strings.Join(got, ",") != want {
		t.Errorf("included vars %v, want %s", got, want)
	}
}
