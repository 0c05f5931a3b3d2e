package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// A partition on the real node: the server is cut off from the client
// only, then healed; a monitor trying the connection twice a second sees
// it lost and back, and measures how long after the heal. A partition
// with a duration heals itself. Nothing of kdrill's is left.
func TestPartitionAndHealOnTheRealNode(t *testing.T) {
	sr := runOnRealNode(t, `
  - name: pods
    apply: {file: pods.yaml, wait: true}
  - name: open
    connect: {from: {selector: app=client}, to: {service: server}, expect: allowed, until: true}
  - name: watch
    background: true
    monitor:
      interval: 500ms
      connections: [{from: {selector: app=client}, to: {service: server}}]
  - name: cut
    partition: {selector: app=server, from: {selector: app=client}, direction: ingress}
  - name: cut off
    connect:
      until: true
      checks:
      - {from: {selector: app=client}, to: {service: server}, expect: denied}
      - {from: {selector: app=stranger}, to: {service: server}, expect: allowed}
  - name: lost a while
    sleep: {duration: 2s}
  - name: heal
    heal: {partition: cut}
  - name: back
    connect: {from: {selector: app=client}, to: {service: server}, expect: allowed, until: true}
  - name: settle
    sleep: {duration: 1s}
  - name: stop watching
    stop: {steps: [watch]}
  - name: everything, a while
    partition: {selector: app=server, duration: 3s}
  - name: back by itself
    connect: {from: {selector: app=stranger}, to: {service: server}, expect: allowed, until: true}
`, map[string]string{"pods.yaml": connectPods})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	cut := stepNamed(t, sr, "cut").Output.(*model.PartitionOutput)
	if len(cut.Policies) != 1 || len(cut.Pods) != 1 || !strings.HasSuffix(cut.Pods[0], "/server") {
		t.Errorf("partition output %+v", cut)
	}
	timed := stepNamed(t, sr, "everything, a while")
	if out := timed.Output.(*model.PartitionOutput); out.Healed.IsZero() || timed.DurationSeconds < 3 {
		t.Errorf("a partition with a duration: healed %v after %.1fs", out.Healed, timed.DurationSeconds)
	}
	mon := stepNamed(t, sr, "watch").Output.(*model.MonitorOutput)
	if len(mon.Connections) != 1 {
		t.Fatalf("monitor connections %+v", mon.Connections)
	}
	c := mon.Connections[0]
	// Lost for the 2s the scenario slept, give or take a try (500ms).
	if len(c.Lost) != 1 || c.Lost[0].Seconds < 1.5 || c.Lost[0].End.IsZero() || c.Failures == 0 || c.Tries <= c.Failures {
		t.Errorf("the connection's losses %+v (tries %d, failures %d)", c.Lost, c.Tries, c.Failures)
	}
	if len(c.Reconnected) != 1 || c.Reconnected[0] < 0 || c.Reconnected[0] > 10 {
		t.Errorf("reconnected after the heal: %v", c.Reconnected)
	}
	kinds := map[string]int{}
	for _, ev := range sr.Timeline {
		kinds[ev.Kind]++
	}
	if kinds["partition"] != 2 || kinds["heal"] != 2 {
		t.Errorf("timeline kinds %v", kinds)
	}
	left, err := testcluster.Admin(t).NetworkingV1().NetworkPolicies(sr.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: steps.PartitionLabel})
	if err != nil || len(left.Items) != 0 {
		t.Errorf("partition policies left (%v): %d", err, len(left.Items))
	}
}

// A partition the scenario does not heal is removed when it ends, failed
// or not; one in a system namespace is refused when the file loads, and a
// selector a NetworkPolicy cannot express or negate is a load error too.
func TestPartitionIsRemovedAtTheEndAndRefusedWhereUnsafe(t *testing.T) {
	sr := runOnRealNode(t, `
  - name: pods
    apply: {file: pods.yaml, wait: true}
  - name: enforced
    connect: {from: {selector: app=client}, to: {selector: app=server, port: 9999}, expect: denied}
  - name: cut
    partition: {selector: app=server, direction: both}
  - name: fails
    assert: {expr: "false"}
    timeout: 1s
`, map[string]string{"pods.yaml": connectPods})
	wantOutcome(t, stepNamed(t, sr, "cut"), model.Passed)
	if !strings.Contains(strings.Join(sr.Restored, "\n"), "removed NetworkPolicy "+sr.Namespace+"/kdrill-partition-") {
		t.Errorf("restored %q", sr.Restored)
	}
	left, err := testcluster.Admin(t).NetworkingV1().NetworkPolicies(sr.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: steps.PartitionLabel})
	if err != nil || len(left.Items) != 0 {
		t.Errorf("partition policies left (%v): %d", err, len(left.Items))
	}
	for body, want := range map[string]string{
		"partition: {selector: k8s-app=kube-dns, namespace: kube-system}":                    "kube-system is a system namespace",
		"partition: {selector: app=server, from: {selector: ''}}":                            "from.selector: required",
		"partition: {selector: 'app=server', from: {selector: 'tier>3'}}":                    "cannot select pods with gt",
		"partition: {selector: app=server, direction: sideways}":                             "direction",
		"heal: {partition: nowhere}":                                                         `no earlier step is named "nowhere"`,
		"monitor: {connections: [{from: {selector: app=a}, to: {service: b, port: 70000}}]}": "70000 is not a port",
	} {
		file := filepath.Join(t.TempDir(), "p.yaml")
		if err := os.WriteFile(file, []byte("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: p}\nspec:\n  steps:\n  - name: x\n    "+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := scenario.Load(file, steps.Registry)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", body, err, want)
		}
	}
}
