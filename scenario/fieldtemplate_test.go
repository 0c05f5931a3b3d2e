package scenario_test

import (
	"strings"
	"testing"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

const templatedHead = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  vars: {app: web, replicas: 3, ns: Team_A, wait: 2s}
  steps:
`

// Templates in a step's own fields are evaluated, typed and checked at
// load where the vars give their value, never sent as text.
func TestFieldTemplatesAreEvaluatedAtLoad(t *testing.T) {
	s, err := scenario.LoadWith(write(t, "ok.yaml", templatedHead+`  - name: scale
    scale: {kind: Deployment, name: "${{ vars.app }}-v1", replicas: "${{ vars.replicas }}"}
  - name: pause
    sleep: {duration: "${{ vars.wait }}"}
`), steps.Registry, scenario.LoadOptions{Set: map[string]string{"replicas": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Spec.Steps[0].Action.(*steps.Scale)
	if sc.Name != "web-v1" || sc.Replicas == nil || *sc.Replicas != 5 {
		t.Errorf("scale as loaded: name %q replicas %v, want web-v1 and 5 (--set)", sc.Name, sc.Replicas)
	}

	for name, tc := range map[string]struct{ step, want string }{
		"wrong type": {`  - name: scale
    scale: {kind: Deployment, name: web, replicas: "${{ vars.app }}"}
`, `t.yaml:8: steps[0] "scale": scale.replicas: must be a whole number, not a string`},
		"invalid value": {`  - name: check
    assert: {resource: {kind: Deployment, name: web, namespace: "${{ vars.ns }}"}, expr: object != nil}
`, `assert.resource.namespace: "Team_A" must be lower-case`},
		"undeclared var": {`  - name: scale
    scale: {kind: Deployment, name: "${{ vars.ap }}", replicas: 1}
`, `scale.name: ${{ vars.ap }}: vars.ap: no var named "ap" in spec.vars (did you mean "app"?)`},
		"template in an expression": {`  - name: check
    assert: {expr: "${{ vars.replicas }} == 3"}
`, "assert.expr: an expression takes no ${{ }}"},
		"a bad duration from a var": {`  - name: pause
    sleep: {duration: "${{ vars.app }}"}
`, `invalid duration "web"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := scenario.Load(write(t, "t.yaml", templatedHead+tc.step), steps.Registry)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !scenario.IsInvalidInput(err) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
