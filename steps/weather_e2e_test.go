package steps_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// runShipped runs a shipped scenario through the fault-injecting proxy,
// with the proxy's context allowed to be disrupted.
func runShipped(t *testing.T, proxy *testcluster.Proxy, file string, set map[string]string, observers ...model.Observer) *model.Results {
	t.Helper()
	s, err := scenario.Load(file, steps.Registry)
	if err != nil {
		t.Fatal(err)
	}
	c := proxy.Cluster(t)
	return runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{
		Cluster: c, Set: set, CleanupTimeout: time.Minute, AllowContexts: []string{c.Context}, Observers: observers,
	})
}

func wantFairWeather(t *testing.T, res *model.Results) {
	t.Helper()
	for _, sr := range res.Scenarios {
		for _, st := range sr.Steps {
			if st.Outcome != model.Passed {
				t.Errorf("%s: step %q: %s %s", sr.Name, st.Name, st.Outcome, st.Error)
			}
		}
		if sr.Outcome != model.Passed {
			t.Errorf("%s: %s %s", sr.Name, sr.Outcome, sr.Error)
		}
	}
}

// A 5 s API outage in the middle of the shipped Poisson kill drill: the
// verdict is the fair-weather one, every kill the drill counts was seen by
// the monitor, and the outage is recorded.
func TestBadWeatherOutageDuringPoissonKills(t *testing.T) {
	proxy := testcluster.StartProxy(t)
	outage := &onStep{name: "poisson kills", fn: func() {
		pause(t, 7*time.Second)
		proxy.Down()
		pause(t, 5*time.Second)
		proxy.Up()
	}}
	res := runShipped(t, proxy, "../scenarios/chaos/poisson-kill.yaml", map[string]string{"replicas": "100"}, outage)
	wantFairWeather(t, res)
	if len(res.Outages) == 0 || res.Outages[0].Seconds < 4 {
		t.Errorf("outages recorded: %+v", res.Outages)
	}
}

// Writes answered 500 after the server did them, and 503s before it did,
// all through the shipped blue/green and quota scenarios: the verdicts are
// the fair-weather ones.
func TestBadWeatherFailedWritesInShippedScenarios(t *testing.T) {
	for _, file := range []string{"../scenarios/deploy/blue-green.yaml", "../scenarios/labs/quota-pods.yaml", "../scenarios/deploy/scale.yaml"} {
		t.Run(file, func(t *testing.T) {
			proxy := testcluster.StartProxy(t)
			proxy.FailAfter(http.MethodPatch, 2, http.StatusInternalServerError)
			proxy.FailAfter(http.MethodDelete, 1, http.StatusBadGateway)
			proxy.FailNext(http.MethodPost, 2, http.StatusServiceUnavailable)
			res := runShipped(t, proxy, file, nil)
			wantFairWeather(t, res)
		})
	}
}
