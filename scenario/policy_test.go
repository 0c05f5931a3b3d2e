package scenario

import (
	"strings"
	"testing"
)

type fakeAction struct {
	unsafe     bool
	namespaces []string
}

func (f *fakeAction) Default()                   {}
func (f *fakeAction) Validate() error            { return nil }
func (f *fakeAction) AllowsUnsafe() bool         { return f.unsafe }
func (f *fakeAction) TargetNamespaces() []string { return f.namespaces }
func (f *fakeAction) String() string             { return "fake" }

// onCluster puts the scenario's step on a named cluster with that context.
func onCluster(s *Scenario, context string) *Scenario {
	s.Spec.Clusters = map[string]ClusterRef{"there": {Context: context}}
	s.Spec.Steps[0].Cluster = "there"
	return s
}

func TestCheckPolicy(t *testing.T) {
	scenario := func(ns string, effect Effect, action *fakeAction) *Scenario {
		st := &Step{Name: "kill", Kind: "fake", Phase: "steps", Line: 7, Action: action, Info: KindInfo{Effect: effect}}
		return &Scenario{File: "s.yaml", Spec: Spec{Namespace: ns, Steps: []*Step{st}}}
	}
	local := PolicyOptions{Context: "kwok-kdrill"}
	for _, tc := range []struct {
		name string
		s    *Scenario
		opts PolicyOptions
		want string
	}{
		{"-n kube-system", scenario("", Disrupts, &fakeAction{}), PolicyOptions{Context: "kind-x", Namespace: "kube-system"}, `s.yaml:7: steps[0] "kill": fake: kube-system is a system namespace (given with -n)`},
		{"scenario namespace", scenario("kube-public", Disrupts, &fakeAction{}), local, "kube-public is a system namespace, the scenario's namespace"},
		{"named namespace", scenario("", Disrupts, &fakeAction{namespaces: []string{"kube-node-lease"}}), local, "kube-node-lease is a system namespace;"},
		{"undeclared effect counts as disrupting", scenario("kube-system", Effect(0), &fakeAction{}), local, "kube-system is a system namespace"},
		{"allowUnsafe", scenario("kube-system", Disrupts, &fakeAction{unsafe: true}), local, ""},
		{"a writing step may write there", scenario("kube-system", Writes, &fakeAction{}), local, ""},
		{"-n elsewhere", scenario("", Disrupts, &fakeAction{}), PolicyOptions{Context: "kind-x", Namespace: "team-a"}, ""},
		{"unknown context", scenario("", Disrupts, &fakeAction{}), PolicyOptions{Context: "prod"}, `context "prod" is not one it may touch`},
		{"in-cluster", scenario("", Disrupts, &fakeAction{}), PolicyOptions{}, `context "(in-cluster)"`},
		{"allowed context", scenario("", Disrupts, &fakeAction{}), PolicyOptions{Context: "prod", AllowContexts: []string{"pr*"}}, ""},
		{"dry run ignores the context", scenario("", Disrupts, &fakeAction{}), PolicyOptions{Context: "prod", DryRun: true}, ""},
		{"readers go anywhere", scenario("", Reads, &fakeAction{}), PolicyOptions{Context: "prod"}, ""},
		{"a step on a named cluster is held to its context", onCluster(scenario("", Disrupts, &fakeAction{}), "production"), local, `context "production" is not one it may touch`},
		{"a named local cluster", onCluster(scenario("", Disrupts, &fakeAction{}), "kind-spoke"), PolicyOptions{Context: "prod"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPolicy([]*Scenario{tc.s}, tc.opts)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want %q", err, tc.want)
			case err != nil && !IsInvalidInput(err):
				t.Errorf("%v is not invalid input (exit 2)", err)
			}
		})
	}
}
