package scenario_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

const matrixScenario = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: grid}
spec:
  vars: {replicas: 1, strategy: RollingUpdate}
  matrix:
    replicas: [3, 300]
    strategy: [RollingUpdate, Recreate]
  steps:
  - name: size
    scale: {kind: Deployment, name: web, replicas: "${{ vars.replicas }}"}
`

func TestMatrixInstances(t *testing.T) {
	dir := writeTree(t, map[string]string{"grid.yaml": matrixScenario})
	file := filepath.Join(dir, "grid.yaml")
	instances := func(set map[string]string) []*scenario.Scenario {
		t.Helper()
		opts := scenario.LoadOptions{Set: set}
		s, err := scenario.LoadWith(file, steps.Registry, opts)
		if err != nil {
			t.Fatal(err)
		}
		out, err := scenario.Instances(s, steps.Registry, opts)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var names []string
	for _, s := range instances(nil) {
		names = append(names, s.DisplayName())
		// Each instance is loaded with its values: the scale's template was
		// expanded with them.
		if got := s.Spec.Steps[0].Action.(*steps.Scale).Replicas; got == nil || fmt.Sprint(*got) != fmt.Sprint(s.InstanceVars["replicas"]) {
			t.Errorf("%s scales to %v", s.DisplayName(), got)
		}
	}
	want := "grid[replicas=3,strategy=RollingUpdate],grid[replicas=3,strategy=Recreate],grid[replicas=300,strategy=RollingUpdate],grid[replicas=300,strategy=Recreate]"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("instances %s\nwant %s", got, want)
	}
	// --set pins a dimension.
	names = nil
	for _, s := range instances(map[string]string{"strategy": "Recreate"}) {
		names = append(names, s.DisplayName())
	}
	if got := strings.Join(names, ","); got != "grid[replicas=3],grid[replicas=300]" {
		t.Errorf("with strategy pinned: %s", got)
	}
}

func TestMatrixMistakes(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"an undeclared var", "    strategy: [RollingUpdate, Recreate]", "    stratgy: [RollingUpdate, Recreate]", `grid.yaml:8: spec.matrix.stratgy: no var named "stratgy" in spec.vars (did you mean "strategy"?)`},
		{"a value of the wrong type", "[3, 300]", "[3, many]", `grid.yaml:7: spec.matrix.replicas.1: "many" is not a number`},
		{"an empty list", "[3, 300]", "[]", `grid.yaml:7: spec.matrix.replicas: must be a list of at least one value`},
		{"too many", "[3, 300]", "[" + strings.Repeat("1, ", 200) + "2]", `spec.matrix: 402 combinations; a matrix may have at most 256`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"grid.yaml": strings.Replace(matrixScenario, tc.from, tc.to, 1)})
			_, err := scenario.Load(filepath.Join(dir, "grid.yaml"), steps.Registry)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
