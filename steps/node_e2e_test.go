package steps_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// poolFleet is a Deployment whose pods run on a test's own node pool;
// simulate is the kdrill.dev/simulate label of its pods (the local
// cluster's kwok stages), none when empty.
func poolFleet(p *testcluster.NodePool, name string, replicas int, simulate string) string {
	sel, tol := p.PodSpecYAML()
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s, kdrill.dev/simulate: %[5]q}}
    spec:
      terminationGracePeriodSeconds: 0
      nodeSelector: %[3]s
      tolerations: %[4]s
      containers: [{name: c, image: fleet:1}]
`, name, replicas, sel, tol, simulate)
}

func TestNodeFailReschedulesEveryPodAndRestoreBringsTheNodeBack(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	pool := testcluster.NewNodePool(t, 3)
	lost := pool.Nodes[0]
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: fleet}]}
  - name: lose a node
    node: {action: fail, name: `+lost+`}
  - name: rescheduled
    timeout: 60s
    assert:
      resource: {kind: Deployment, name: fleet}
      expr: object.status.availableReplicas == 12 && object.status.updatedReplicas == 12
  - name: node is down
    timeout: 30s
    assert:
      resource: {kind: Node, name: `+lost+`}
      expr: any(object.status.conditions, .type == "Ready" && .status == "False")
  - name: bring it back
    node: {action: restore, name: `+lost+`}
  - name: node is up
    timeout: 30s
    assert:
      resource: {kind: Node, name: `+lost+`}
      expr: >-
        any(object.status.conditions, .type == "Ready" && .status == "True") && object.spec.unschedulable != true &&
        none(object.spec.taints, hasPrefix(.key, "node.kubernetes.io/"))
  - name: end
    stop: {steps: [availability]}
  - name: measured
    assert:
      expr: >-
        steps.availability.recovery.unrecovered == 0 &&
        len(steps.availability.recovery.batches) == 1 &&
        steps.availability.recovery.max > duration("0s") &&
        steps.availability.kills == len(steps["lose a node"].evicted)
`, map[string]string{"fleet.yaml": poolFleet(pool, "fleet", 12, "")})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	fail := stepNamed(t, sr, "lose a node").Output.(*model.NodeOutput)
	if len(fail.Evicted) == 0 || !slices.Equal(fail.Nodes, []string{lost}) {
		t.Errorf("fail output: %+v", fail)
	}
	// No pod of the fleet is left on the lost node: every one was
	// rescheduled onto the healthy ones.
	pods, err := c.Typed.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=fleet"})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			running++
			if !slices.Contains(pool.Nodes[1:], p.Spec.NodeName) {
				t.Errorf("pod %s on %q, want one of the healthy nodes %v", p.Name, p.Spec.NodeName, pool.Nodes[1:])
			}
		}
	}
	if running != 12 {
		t.Errorf("%d pods, want 12", running)
	}
	mon := stepNamed(t, sr, "availability").Output.(*model.MonitorOutput)
	var seen []string
	for _, ev := range mon.NodeEvents {
		if ev.Node == lost {
			seen = append(seen, ev.Event)
		}
	}
	for _, want := range []string{"cordoned", "NotReady", "uncordoned", "Ready"} {
		if !slices.Contains(seen, want) {
			t.Errorf("monitor's events of %s: %v, want %s among them", lost, seen, want)
		}
	}
	if b := mon.Recovery.Batches; len(b) != 1 || b[0].Cause != "fail "+lost {
		t.Errorf("batches %+v, want one caused by fail %s", b, lost)
	}
	out := mon.Workloads[0].NodesOut
	if len(out) == 0 || out[0].Node != lost || out[0].End.IsZero() {
		t.Errorf("nodes out: %+v, want %s out and back", out, lost)
	}
	pool.AssertUntouched(t, 10*time.Second)
}

func TestNodeChangesAreUndoneWhenTheScenarioFails(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	pool := testcluster.NewNodePool(t, 3)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: cordon two
    node: {action: cordon, names: [`+pool.Nodes[0]+`, `+pool.Nodes[1]+`]}
  - name: taint one
    node: {action: taint, name: `+pool.Nodes[2]+`, taint: {key: example.com/chaos, value: "yes", effect: NoSchedule}}
  - name: a check that fails
    assert: {expr: "1 == 2"}
`, nil)
	if sr.Outcome != model.Failed {
		t.Fatalf("outcome %s, want failed", sr.Outcome)
	}
	if len(sr.Restored) != 3 {
		t.Errorf("restored %q, want the three nodes", sr.Restored)
	}
	pool.AssertUntouched(t, 10*time.Second)
}

func TestNodeStepRefusesEveryNodeAndControlPlanes(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	pool := testcluster.NewNodePool(t, 2)
	admin := testcluster.Admin(t)
	ctx := context.Background()
	// A patch: kwok updates the node's status meanwhile.
	label := []byte(`{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}`)
	if _, err := admin.CoreV1().Nodes().Patch(ctx, pool.Nodes[1], types.MergePatchType, label, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: every node
    continueOnError: true
    node: {action: cordon, selector: kubernetes.io/os=linux}
  - name: a control plane
    continueOnError: true
    node: {action: drain, name: `+pool.Nodes[1]+`}
  - name: a missing node
    continueOnError: true
    node: {action: fail, name: no-such-node}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "every node"), model.Failed, "every node of the cluster")
	wantOutcome(t, stepNamed(t, sr, "a control plane"), model.Failed, "control plane")
	wantOutcome(t, stepNamed(t, sr, "a missing node"), model.Failed, "no-such-node does not exist")
	pool.AssertUntouched(t, 0)
}

func TestDrainHonoursTheBudget(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	pool := testcluster.NewNodePool(t, 2)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: budget
    apply:
      inline: |
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: fleet}
        spec:
          minAvailable: 5
          selector: {matchLabels: {app: fleet}}
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: fleet}]}
  - name: drain the busier node
    node: {action: drain, selector: `+pool.Selector()+`, count: 1, drainTimeout: 90s}
  - name: settled
    timeout: 60s
    assert:
      resource: {kind: Deployment, name: fleet}
      expr: object.status.availableReplicas == 6
  - name: end
    stop: {steps: [availability]}
  - name: the budget held
    assert:
      expr: steps.availability.minAvailable >= 5
`, map[string]string{"fleet.yaml": poolFleet(pool, "fleet", 6, "slow-start")})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	out := stepNamed(t, sr, "drain the busier node").Output.(*model.NodeOutput)
	drained := out.Nodes[0]
	pods, err := c.Typed.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=fleet"})
	if err != nil {
		t.Fatal(err)
	}
	onDrained := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName == drained && p.DeletionTimestamp == nil {
			onDrained++
		}
	}
	if onDrained != 0 {
		t.Errorf("%d pods still on the drained node %s", onDrained, drained)
	}
	// With one disruption allowed at a time, a drain of more than one pod
	// is held back at least once.
	if len(out.Evicted) > 1 && len(out.BlockedByPDB)+len(out.DelayedByPDB) == 0 {
		t.Errorf("drain evicted %v and the budget never held one back", out.Evicted)
	}
	pool.AssertUntouched(t, 10*time.Second)
}

func TestKillEvictsThroughBudgetsAndWaitsForRecovery(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 6}
  steps:
  - name: fleet
    apply: {file: fleet.yaml, wait: true}
  - name: five die and come back
    kill: {workload: {kind: Deployment, name: fleet}, count: 5, recover: true}
  # Without recover: true this would fail: five of six pods were just
  # deleted. minReadySeconds counts from a condition time the API server
  # keeps to the second, so the recovery time itself has no useful floor.
  - name: right after
    assert:
      resource: {kind: Deployment, name: fleet}
      expr: object.status.availableReplicas == 6
      holdFor: 100ms
  - name: budget
    apply:
      inline: |
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: fleet}
        spec:
          minAvailable: 6
          selector: {matchLabels: {app: fleet}}
  - name: budget counted
    timeout: 30s
    assert:
      resource: {kind: PodDisruptionBudget, name: fleet}
      expr: object.status.currentHealthy == 6
  - name: evict two
    kill: {workload: {kind: Deployment, name: fleet}, count: 2, evict: true}
  - name: measured
    assert:
      expr: >-
        steps["five die and come back"].recovery > duration("0s") &&
        steps["evict two"].blockedByPDB == 2 && steps["evict two"].killed == 0
`, map[string]string{"fleet.yaml": fleet})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	kill := stepNamed(t, sr, "five die and come back").Output.(*model.KillOutput)
	if !kill.Recovered || kill.Recovery == nil || kill.Killed != 5 {
		t.Errorf("kill output %+v", kill)
	}
	if !strings.Contains(fmt.Sprint(kill.Victims), "fleet-") {
		t.Errorf("victims %v", kill.Victims)
	}
}
