package runner

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, text string
		want          bool
	}{
		{"kwok-*", "kwok-kdrill", true},
		{"kwok-*", "kwok", false},
		{"*-east", "prod-east", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"prod", "prod", true},
		{"prod", "production", false},
		{"steps[*].duration", "steps[scale up].duration", true},
	} {
		if got := GlobMatch(tc.pattern, tc.text); got != tc.want {
			t.Errorf("%q ~ %q = %v, want %v", tc.pattern, tc.text, got, tc.want)
		}
	}
}

// TestGuardTransportRefusesSystemNamespaces sends requests through the wire
// guard: what it refuses never reaches the next transport.
func TestGuardTransportRefusesSystemNamespaces(t *testing.T) {
	reached := 0
	next := roundTripperFunc(func(*http.Request) (*http.Response, error) {
		reached++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	guard := guardTransport(next)
	unsafeStep := &Step{Name: "x", Action: &fakeAction{unsafe: true}}
	safeStep := &Step{Name: "x", Action: &fakeAction{}}
	for _, tc := range []struct {
		method, path string
		step         *Step
		refused      string
	}{
		{"DELETE", "/api/v1/namespaces/kube-system/pods/coredns-1", safeStep, "refused to delete pods/coredns-1: kube-system is a system namespace"},
		{"DELETE", "/api/v1/namespaces/kube-public/pods", safeStep, "refused to delete pods: kube-public"},
		{"DELETE", "/apis/apps/v1/namespaces/kube-node-lease/deployments/x", nil, "kube-node-lease is a system namespace"},
		{"POST", "/api/v1/namespaces/kube-system/pods/p/eviction", safeStep, "refused to evict pods/p"},
		{"DELETE", "/api/v1/namespaces/kube-system", safeStep, "refused to delete the namespace kube-system"},
		{"DELETE", "/api/v1/namespaces/kube-system/pods/coredns-1", unsafeStep, ""},
		{"DELETE", "/api/v1/namespaces/team-a/pods/web-1", safeStep, ""},
		{"DELETE", "/api/v1/namespaces/team-a", safeStep, ""},
		{"GET", "/api/v1/namespaces/kube-system/pods", safeStep, ""},
		{"PATCH", "/apis/apps/v1/namespaces/kube-system/deployments/x", safeStep, ""},
		{"POST", "/api/v1/namespaces/kube-system/pods", safeStep, ""},
		{"DELETE", "/api/v1/nodes/n1", safeStep, ""},
	} {
		ctx := context.Background()
		if tc.step != nil {
			ctx = withStepPolicy(ctx, tc.step)
		}
		req, _ := http.NewRequestWithContext(ctx, tc.method, "https://api.example"+tc.path, nil)
		before := reached
		_, err := guard.RoundTrip(req)
		var pe *PolicyError
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s %s: refused: %v", tc.method, tc.path, err)
		case tc.refused != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s %s: got %v, want a refusal with %q", tc.method, tc.path, err, tc.refused)
		case tc.refused != "" && reached != before:
			t.Errorf("%s %s: a refused request reached the server", tc.method, tc.path)
		}
	}
}

type fakeAction struct {
	unsafe     bool
	namespaces []string
}

func (f *fakeAction) Default()                                   {}
func (f *fakeAction) Validate() error                            { return nil }
func (f *fakeAction) Run(context.Context, *Env) (any, error)     { return nil, nil }
func (f *fakeAction) AllowsUnsafe() bool                         { return f.unsafe }
func (f *fakeAction) TargetNamespaces() []string                 { return f.namespaces }
func (f *fakeAction) String() string                             { return "fake" }
func (f *fakeAction) Plan(context.Context, *Env) (string, error) { return "", nil }

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
