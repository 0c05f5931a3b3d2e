package steps_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/diagnose"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

// onStep calls fn once, when the named step starts.
type onStep struct {
	name string
	once sync.Once
	fn   func()
}

func (o *onStep) Observe(ev model.Event, _ *model.Results, _ *model.ScenarioResult, st *model.StepResult) {
	if ev == model.StepStarted && st.Name == o.name {
		o.once.Do(func() { go o.fn() })
	}
}

func runThrough(t *testing.T, c *kube.Cluster, ns, body string, observers ...model.Observer) *model.Results {
	t.Helper()
	s := loadInline(t, "outage", body, map[string]string{"deployment.yaml": deployment})
	return runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{Cluster: c, Namespace: ns, CleanupTimeout: 30 * time.Second, Observers: observers})
}

// The local kube-apiserver is stopped for 10 s while a monitor samples and
// an assert waits, then started again: kdrill reconnects, the assert passes
// when its condition comes true, the monitor's series has a gap instead of
// invented values, and the results record the outage.
func TestKubeAPIServerStoppedMidScenario(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	script, err := filepath.Abs("../hack/localcluster/cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(script, "kubeconfig").Output(); err != nil || strings.TrimSpace(string(out)) != kubeconfig {
		t.Skipf("%s is not the local cluster's kubeconfig (%s): stopping its API server is not this test's to do", kubeconfig, out)
	}
	admin := testcluster.Connect(t)
	ns := testcluster.Namespace(t, admin)
	outage := &onStep{name: "flag comes true", fn: func() {
		pause(t, time.Second)
		if out, err := exec.Command(script, "stop-apiserver", "10").CombinedOutput(); err != nil {
			t.Errorf("stop-apiserver: %v\n%s", err, out)
		}
		// The condition comes true once the API server is back.
		_, err := admin.Typed.CoreV1().ConfigMaps(ns).Create(context.Background(),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "flag"}, Data: map[string]string{"ok": "yes"}}, metav1.CreateOptions{})
		if err != nil {
			t.Error(err)
		}
	}}
	res := runThrough(t, testcluster.Connect(t), ns, `
spec:
  vars: {replicas: 3}
  steps:
  - name: deploy
    apply: {file: deployment.yaml, wait: true}
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: web}]}
  - name: flag comes true
    timeout: 60s
    assert:
      resource: {kind: ConfigMap, name: flag}
      expr: object != nil && object.data.ok == "yes"
  - name: still available
    timeout: 60s
    assert:
      resource: {kind: Deployment, name: web}
      expr: object.status.availableReplicas == 3
  - name: end monitoring
    stop: {steps: [availability]}
`, outage)
	sr := res.Scenarios[0]
	for _, st := range sr.Steps {
		if st.Outcome != model.Passed {
			t.Errorf("step %q: %s %s", st.Name, st.Outcome, st.Error)
		}
	}
	if flag := stepNamed(t, sr, "flag comes true"); flag.DurationSeconds < 10 {
		t.Errorf("the assert passed after %.1fs, before the API server was back", flag.DurationSeconds)
	}
	if len(res.Outages) != 1 || res.Outages[0].Seconds < 9.5 || res.Outages[0].End.IsZero() {
		t.Fatalf("outages recorded: %+v", res.Outages)
	}
	var mon model.MonitorOutput
	if err := model.DecodeOutput(stepNamed(t, sr, "availability").Output, &mon); err != nil {
		t.Fatal(err)
	}
	w := mon.Workloads[0]
	if len(w.Gaps) != 1 || !strings.Contains(w.Gaps[0].Reason, "unreachable") {
		t.Fatalf("monitor gaps: %+v", w.Gaps)
	}
	for _, smp := range w.Samples {
		if smp.Time.After(w.Gaps[0].Start) && smp.Time.Before(w.Gaps[0].End) {
			t.Errorf("a sample at %s lies inside the gap %s – %s", smp.Time, w.Gaps[0].Start, w.Gaps[0].End)
		}
	}
	if last := w.Samples[len(w.Samples)-1]; last.Available != 3 {
		t.Errorf("the series ends with %d available, want 3", last.Available)
	}
}

// An outage that outlasts a step's timeout fails the step as the API
// server's fault (exit code 3), saying so.
func TestAPIServerOutageOutlastingTheTimeout(t *testing.T) {
	proxy := testcluster.StartProxy(t)
	ns := testcluster.Namespace(t, testcluster.Connect(t))
	outage := &onStep{name: "waits", fn: func() {
		pause(t, 500*time.Millisecond)
		proxy.Down()
		pause(t, 6*time.Second)
		proxy.Up()
	}}
	res := runThrough(t, proxy.Cluster(t), ns, `
spec:
  steps:
  - name: waits
    timeout: 3s
    assert:
      resource: {kind: ConfigMap, name: never}
      expr: object != nil
`, outage)
	st := stepNamed(t, res.Scenarios[0], "waits")
	wantOutcome(t, st, model.Errored, "the API server was unreachable")
	if res.Outcome != model.Errored {
		t.Errorf("run outcome %s, want error (exit code 3)", res.Outcome)
	}
	// The diagnostics stay within their bound instead of hanging; collected
	// while the server is still cut off, they say so (the retry policy may
	// also have waited the outage out, and then they read the namespace).
	d := st.Diagnostics
	if d == nil {
		t.Errorf("no diagnostics")
	} else if len(d.Causes) > 0 && !strings.Contains(d.Causes[0], "the API server was unreachable while kdrill collected diagnostics") {
		t.Errorf("diagnostics %+v", d)
	} else if d.Seconds > diagnose.MaxDuration.Seconds()+1 {
		t.Errorf("collection took %.1fs, over its %s bound", d.Seconds, diagnose.MaxDuration)
	} else {
		t.Logf("diagnostics: %.3fs, %d bytes, causes %q", d.Seconds, d.Bytes, d.Causes)
	}
}

// etcd is stopped for 8 s: a write in that time fails as the control
// plane's fault (error, exit 3), naming the outage, not as a regression;
// the outage names the step that waited; a write after it passes.
func TestEtcdStoppedMidScenario(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	script, err := filepath.Abs("../hack/localcluster/cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(script, "kubeconfig").Output(); err != nil || strings.TrimSpace(string(out)) != kubeconfig {
		t.Skipf("%s is not the local cluster's kubeconfig (%s): stopping its etcd is not this test's to do", kubeconfig, out)
	}
	admin := testcluster.Connect(t)
	ns := testcluster.Namespace(t, admin)
	outage := &onStep{name: "write while etcd is down", fn: func() {
		if out, err := exec.Command(script, "stop-etcd", "8").CombinedOutput(); err != nil {
			t.Errorf("stop-etcd: %v\n%s", err, out)
		}
	}}
	res := runThrough(t, testcluster.Connect(t), ns, `
spec:
  steps:
  - name: settle
    sleep: {duration: 1s}
  - name: write while etcd is down
    timeout: 5s
    continueOnError: true
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {n: "1"}}}
  - name: write after
    timeout: 60s
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {n: "1"}}}
`, &onStep{name: "settle", fn: outage.fn})
	sr := res.Scenarios[0]
	down := stepNamed(t, sr, "write while etcd is down")
	wantOutcome(t, down, model.Errored)
	if res.Outcome != model.Errored {
		t.Errorf("run outcome %s, want error (exit 3)", res.Outcome)
	}
	wantOutcome(t, stepNamed(t, sr, "write after"), model.Passed)
	if len(res.Outages) == 0 {
		t.Fatalf("no outage recorded; the step said %q", down.Error)
	}
	t.Logf("outages %+v; the step said %q", res.Outages, down.Error)
}
