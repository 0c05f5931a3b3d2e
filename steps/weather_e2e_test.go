package steps_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/internal/testfiles"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// runShipped runs a shipped scenario through the fault-injecting proxy,
// with the proxy's context allowed to be disrupted.
func runShipped(t *testing.T, proxy *testcluster.Proxy, file string, set map[string]string, observers ...model.Observer) *model.Results {
	t.Helper()
	s, err := scenario.LoadWith(file, steps.Registry, scenario.LoadOptions{Set: set})
	if err != nil {
		t.Fatal(err)
	}
	c := proxy.Cluster(t)
	return runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{
		Cluster: c, CleanupTimeout: time.Minute, AllowContexts: []string{c.Context}, Observers: observers,
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

// A namespace the run cannot delete within the cleanup timeout is named,
// the run does not pass, and kdrill's label lets it be found again.
func TestBadWeatherNamespaceLeftBehindIsNamed(t *testing.T) {
	proxy := testcluster.StartProxy(t)
	s := loadInline(t, "weather", `
spec:
  steps:
  - name: config
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}}
`, nil)
	proxy.FailNext(http.MethodDelete, 100000, http.StatusServiceUnavailable)
	res := runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{Cluster: proxy.Cluster(t), CleanupTimeout: 2 * time.Second})
	proxy.FailNext(http.MethodDelete, 0, 0)
	sr := res.Scenarios[0]
	t.Cleanup(func() {
		_ = testcluster.Admin(t).CoreV1().Namespaces().Delete(context.Background(), sr.Namespace, metav1.DeleteOptions{})
	})
	if sr.Outcome != model.Errored || len(sr.LeftBehind) != 1 || !strings.Contains(sr.LeftBehind[0], "namespace "+sr.Namespace+" not deleted") {
		t.Errorf("outcome %s, left behind %q, error %q", sr.Outcome, sr.LeftBehind, sr.Error)
	}
	ns, err := testcluster.Admin(t).CoreV1().Namespaces().Get(context.Background(), sr.Namespace, metav1.GetOptions{})
	if err != nil || ns.Labels[step.LabelManagedBy] != "kdrill" {
		t.Errorf("the namespace left behind: %v %v", err, ns.Labels)
	}
}

// loadInline loads a scenario written in the test, with files beside it.
func loadInline(t *testing.T, name, body string, files map[string]string) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	testfiles.Write(t, dir, files)
	file := filepath.Join(dir, "scenario.yaml")
	text := "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: " + name + "}\n" + body
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Load(file, steps.Registry)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A holdFor window that an outage cuts into says how long the assert could
// not watch.
func TestBadWeatherHoldForSaysWhatItCouldNotWatch(t *testing.T) {
	proxy := testcluster.StartProxy(t)
	ns := testcluster.Namespace(t, testcluster.Connect(t))
	outage := &onStep{name: "holds", fn: func() {
		pause(t, time.Second)
		proxy.Down()
		pause(t, 1500*time.Millisecond)
		proxy.Up()
	}}
	res := runner.Run(context.Background(), []*scenario.Scenario{loadInline(t, "hold", `
spec:
  steps:
  - name: config
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {n: "1"}}}
  - name: holds
    assert:
      resource: {kind: ConfigMap, name: a}
      expr: object.data.n == "1"
      holdFor: 4s
`, nil)}, runner.Options{Cluster: proxy.Cluster(t), Namespace: ns, CleanupTimeout: 10 * time.Second, Observers: []model.Observer{outage}})
	st := stepNamed(t, res.Scenarios[0], "holds")
	var out model.AssertOutput
	if err := model.DecodeOutput(st.Output, &out); err != nil {
		t.Fatal(err)
	}
	if st.Outcome != model.Passed || out.UnwatchedSeconds < 1 {
		t.Errorf("%s %q; unwatched %.2fs, want about 1.5s", st.Outcome, st.Error, out.UnwatchedSeconds)
	}
}

// A noisy link through the shipped Poisson kill drill: every request 20 ms
// late, deletes and lists throttled with Retry-After, connections reset
// before the server sees them, and deletes whose answer is lost after the
// server did them. The verdict is the fair-weather one, the drill's count
// of kills is the count of pods the server deleted, and no pod was deleted
// twice.
func TestBadWeatherNoisyLinkDuringPoissonKills(t *testing.T) {
	proxy := testcluster.StartProxy(t)
	proxy.Latency(20 * time.Millisecond)
	noisy := &onStep{name: "poisson kills", fn: func() {
		proxy.Throttle(http.MethodDelete, 3, 1)
		pause(t, 4*time.Second)
		proxy.ResetNext(http.MethodDelete, 3)
		pause(t, 4*time.Second)
		proxy.FailAfter(http.MethodDelete, 3, http.StatusBadGateway)
		proxy.ResetNext(http.MethodGet, 5)
	}}
	res := runShipped(t, proxy, "../scenarios/chaos/poisson-kill.yaml", map[string]string{"replicas": "100"}, noisy)
	wantFairWeather(t, res)
	sr := res.Scenarios[0]
	kills := stepNamed(t, sr, "poisson kills").Output.(*model.KillPoissonOutput)
	deletedPods, twice := 0, 0
	for path, statuses := range proxy.Deleted() {
		if !strings.Contains(path, "/pods/") {
			continue
		}
		ok := 0
		for _, s := range statuses {
			if s < 300 {
				ok++
			}
		}
		if ok > 0 {
			deletedPods++
		}
		if ok > 1 {
			twice++
			t.Errorf("pod %s deleted %d times (%v)", path, ok, statuses)
		}
	}
	if deletedPods != kills.Total {
		t.Errorf("the drill counts %d kills; the server deleted %d pods", kills.Total, deletedPods)
	}
	t.Logf("%d kills, %d pods deleted, %d twice; requests retried: %d", kills.Total, deletedPods, twice, retriesOf(sr))
}

// retriesOf counts the requests a scenario's steps sent again.
func retriesOf(sr *model.ScenarioResult) int {
	n := 0
	for _, st := range sr.Steps {
		n += st.Retries
	}
	return n
}
