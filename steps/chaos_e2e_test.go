package steps_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

var fleet = testdata("fleet.yaml")

func TestKillCountAndPercent(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 10}
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: three
    kill: {selector: app=fleet, count: 3}
  - name: half
    kill: {workload: {kind: Deployment, name: fleet}, percent: 50}
`, map[string]string{"fleet.yaml": fleet})
	three := stepNamed(t, sr, "three")
	wantOutcome(t, three, model.Passed)
	out := three.Output.(*model.KillOutput)
	if out.Killed != 3 || out.Eligible != 10 || len(out.Victims) != 3 {
		t.Errorf("kill 3: %+v", out)
	}
	half := stepNamed(t, sr, "half").Output.(*model.KillOutput)
	// The three replacements may not be Running yet: half of what is.
	if half.Killed != half.Eligible/2 || half.Killed < 3 {
		t.Errorf("kill 50%%: %+v", half)
	}
	if len(sr.Timeline) != 2 || sr.Timeline[0].Count != 3 || sr.Timeline[0].Kind != "kill" {
		t.Errorf("timeline %+v", sr.Timeline)
	}
	for _, v := range out.Victims {
		p, err := c.Typed.CoreV1().Pods(ns).Get(context.Background(), v, metav1.GetOptions{})
		if err == nil && p.DeletionTimestamp == nil {
			t.Errorf("victim %s still running", v)
		}
	}
}

func TestChaosRefusesSystemNamespaces(t *testing.T) {
	c := testcluster.Connect(t)
	before, err := c.Typed.CoreV1().Pods("kube-system").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// -n kube-system: runner.Run refuses before anything is sent, whoever
	// calls it.
	sr := runScenario(t, c, "kube-system", `
spec:
  steps:
  - name: kill
    kill: {selector: app=anything, count: 1}
`, nil)
	if sr.Outcome != model.Errored || !strings.Contains(sr.Error, "kube-system is a system namespace (given with -n)") {
		t.Errorf("outcome %s, error %q", sr.Outcome, sr.Error)
	}
	wantOutcome(t, stepNamed(t, sr, "kill"), model.Skipped)
	after, err := c.Typed.CoreV1().Pods("kube-system").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Items) != len(before.Items) {
		t.Errorf("kube-system pods changed: %d → %d", len(before.Items), len(after.Items))
	}
}

// availabilityWatch is the test's own watcher of a Deployment, independent
// of kdrill's monitor: it records available and desired replicas as the
// watch delivers them.
type availabilityPoint struct {
	at                 time.Time
	available, desired int32
}

func watchAvailability(t *testing.T, c *kube.Cluster, ns, name string) func() []availabilityPoint {
	t.Helper()
	w, err := c.Typed.AppsV1().Deployments(ns).Watch(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var points []availabilityPoint
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok {
				continue
			}
			desired := int32(1)
			if d.Spec.Replicas != nil {
				desired = *d.Spec.Replicas
			}
			points = append(points, availabilityPoint{time.Now(), d.Status.AvailableReplicas, desired})
		}
	}()
	return func() []availabilityPoint {
		w.Stop()
		<-done
		return points
	}
}

// independentRecovery applies the documented definition to the test's own
// points: from the batch, the first point at the desired count after one
// below it.
func independentRecovery(points []availabilityPoint, batch time.Time) (time.Duration, bool) {
	dipped := false
	for _, p := range points {
		if p.at.Before(batch) {
			continue
		}
		if p.available < p.desired {
			dipped = true
		} else if dipped {
			return p.at.Sub(batch), true
		}
	}
	return 0, !dipped
}

func TestPoissonKillsWithMonitor(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	stopWatch := watchAvailability(t, c, ns, "fleet")
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 30}
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: watch
    background: true
    monitor: {workloads: [{kind: Deployment, name: fleet}]}
  - name: poisson
    background: true
    killPoisson: {selector: app=fleet, mean: 3, interval: 1500ms, rounds: 4, seed: 7}
  - name: kills done
    wait: {steps: [poisson]}
  - name: recovered
    timeout: 60s
    assert:
      resource: {kind: Deployment, name: fleet}
      expr: object.status.availableReplicas == vars.replicas
  - name: stop watching
    stop: {steps: [watch]}
  - name: measured
    assert:
      expr: >-
        steps.watch.kills == steps.poisson.total && steps.poisson.total > 0 &&
        steps.watch.recovery.unrecovered == 0 &&
        steps.watch.recovery.max > duration("0s") && steps.watch.recovery.p95 < duration("60s") &&
        steps.watch.minAvailable < vars.replicas && steps.watch.belowDesired > duration("0s")
`, map[string]string{"fleet.yaml": fleet})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	kp := stepNamed(t, sr, "poisson").Output.(*model.KillPoissonOutput)
	if kp.Seed != 7 || len(kp.Rounds) != 4 {
		t.Fatalf("killPoisson output %+v", kp)
	}
	for i, r := range kp.Rounds {
		if r.Killed != min(r.Drawn, r.Eligible/2) {
			t.Errorf("round %d: drew %d of %d eligible, killed %d (cap is half)", i, r.Drawn, r.Eligible, r.Killed)
		}
		if i > 0 {
			gap := r.Time.Sub(kp.Rounds[i-1].Time)
			if gap < 1400*time.Millisecond || gap > 2500*time.Millisecond {
				t.Errorf("round %d came %s after the previous, want about 1.5s", i, gap)
			}
		}
	}
	mon := stepNamed(t, sr, "watch").Output.(*model.MonitorOutput)
	w := mon.Workloads[0]
	if w.Name != "fleet" || w.Desired != 30 || len(w.Samples) < 4 {
		t.Errorf("series: %s desired %d samples %d", w.Name, w.Desired, len(w.Samples))
	}
	batches := 0
	for _, r := range kp.Rounds {
		if r.Killed > 0 {
			batches++
		}
	}
	if len(mon.Recovery.Batches) != batches {
		t.Errorf("monitor saw %d batches, killPoisson made %d", len(mon.Recovery.Batches), batches)
	}
	for i := 1; i < len(w.Samples); i++ {
		if w.Samples[i].Time.Before(w.Samples[i-1].Time) {
			t.Fatal("samples out of order")
		}
	}
	points := stopWatch()
	for _, b := range mon.Recovery.Batches {
		want, ok := independentRecovery(points, b.Time)
		if !ok {
			t.Errorf("batch at %s: the test's watcher saw no recovery", b.Time.Format(time.StampMilli))
			continue
		}
		if diff := (b.Recovery.Duration - want).Abs(); diff > 50*time.Millisecond {
			t.Errorf("batch at %s: kdrill says recovery took %s, the test's watcher %s", b.Time.Format(time.StampMilli), b.Recovery, want)
		}
	}
	var drawn []int
	for _, r := range kp.Rounds {
		drawn = append(drawn, r.Drawn)
	}
	t.Logf("seed 7 drew %v; recovery p50 %s p95 %s", drawn, mon.Recovery.P50, mon.Recovery.P95)
}

func TestStopEndsAKillerEarlyAndWaitReportsFailures(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	start := time.Now()
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 4}
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: slow killer
    background: true
    killPoisson: {selector: app=fleet, mode: process, rate: 0.01, duration: 1h}
  - name: broken
    background: true
    assert:
      resource: {kind: ConfigMap, name: never}
      expr: object != nil
    timeout: 500ms
  - name: end the killer
    stop: {steps: [slow killer]}
  - name: join the broken one
    wait: {steps: [broken]}
`, map[string]string{"fleet.yaml": fleet})
	if time.Since(start) > 30*time.Second {
		t.Errorf("stop did not end the killer promptly: %s", time.Since(start))
	}
	wantOutcome(t, stepNamed(t, sr, "slow killer"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "end the killer"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "broken"), model.Failed, "expected object != nil")
	wantOutcome(t, stepNamed(t, sr, "join the broken one"), model.Failed, `background step "broken"`)
	if sr.Outcome != model.Failed {
		t.Errorf("scenario %s", sr.Outcome)
	}
}

func TestMonitorRefusesKindsItCannotSample(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: watch
    background: true
    monitor: {workloads: [{kind: ConfigMap, name: cm}]}
`, nil)
	st := stepNamed(t, sr, "watch")
	wantOutcome(t, st, model.Failed, "not ConfigMap")
	if !strings.Contains(st.Error, "Deployments, ReplicaSets and StatefulSets") {
		t.Errorf("error %q", st.Error)
	}
}

// An included file's steps run under their include's name, see their own
// file's vars and steps, and name their own background steps.
func TestIncludedStepsRunInTheirOwnScope(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 4}
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: drill
    include: {file: checks/drill.yaml, with: {deployment: fleet, victims: 2}}
  - name: outputs by full name
    assert:
      expr: steps["drill/kill"].killed == 2 && steps["drill/availability"].kills == 2
`, map[string]string{"fleet.yaml": fleet, "checks/drill.yaml": `apiVersion: kdrill.dev/v1alpha1
kind: Steps
metadata: {name: drill}
spec:
  vars: {deployment: web, victims: 1}
  steps:
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: "${{ vars.deployment }}"}]}
  - name: kill
    kill: {workload: {kind: Deployment, name: "${{ vars.deployment }}"}, count: "${{ vars.victims }}", recover: true}
  - name: end
    stop: {steps: [availability]}
  - name: measured
    assert:
      expr: steps.availability.kills == vars.victims && steps.kill.recovery > duration("0s")
`})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	var names []string
	for _, st := range sr.Steps {
		names = append(names, st.Name)
	}
	if got := strings.Join(names, ","); got != "fleet,drill/availability,drill/kill,drill/end,drill/measured,outputs by full name" {
		t.Errorf("steps %s", got)
	}
}

// killPoisson with recover: true returns only once the workload is back
// at its desired count with none of the victims among its Ready pods, so
// an assert right after cannot pass on a status older than the last kill.
func TestPoissonKillsRecover(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 12}
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: kills
    killPoisson: {workload: {kind: Deployment, name: fleet}, mean: 3, interval: 500ms, rounds: 3, seed: 7, recover: true}
  - name: right after
    assert:
      resource: {kind: Deployment, name: fleet}
      expr: object.status.availableReplicas == 12
      holdFor: 100ms
  - name: recovery is recorded
    assert:
      expr: steps.kills.recovered && steps.kills.recovery > duration("0s") && steps.kills.total > 0
`, map[string]string{"fleet.yaml": fleet})
	for _, name := range []string{"kills", "right after", "recovery is recorded"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
}
