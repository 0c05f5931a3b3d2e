package steps_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/describe"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// kdrill's per-node requests and limits equal what kubectl describe node
// prints for the same node, for pods with sidecars (restartable init
// containers), plain init containers, a RuntimeClass's overhead and
// pod-level resources: kubectl's describe code is the oracle.
func TestCapacityAgreesWithKubectlDescribe(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	ctx := context.Background()
	const node = "node-000004"
	rc := &nodev1.RuntimeClass{
		ObjectMeta: metav1.ObjectMeta{Name: "kdrill-test-overhead"},
		Handler:    "kdrill",
		Overhead:   &nodev1.Overhead{PodFixed: corev1.ResourceList{"cpu": resource.MustParse("50m"), "memory": resource.MustParse("32Mi")}},
	}
	admin := testcluster.Admin(t)
	_ = admin.NodeV1().RuntimeClasses().Delete(ctx, rc.Name, metav1.DeleteOptions{})
	if _, err := admin.NodeV1().RuntimeClasses().Create(ctx, rc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.NodeV1().RuntimeClasses().Delete(context.Background(), rc.Name, metav1.DeleteOptions{})
	})

	sr := runScenario(t, c, ns, fmt.Sprintf(`
spec:
  steps:
  - name: pods
    apply:
      file: capacity-pods.yaml
  - name: all run
    assert:
      resource: {kind: Pod, selector: kdrill-test=capacity}
      expr: len(objects) == 4 && all(objects, .status.phase == "Running")
  - name: committed
    capacity: {expr: 'capacity.nodes["%s"].pods > 0'}
`, node), map[string]string{"capacity-pods.yaml": strings.ReplaceAll(capacityPods, "NODE", node)})
	st := stepNamed(t, sr, "committed")
	wantOutcome(t, st, model.Passed)

	pods, err := c.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "kdrill-test=capacity"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		switch p.Name {
		case "pod-level":
			if p.Spec.Resources == nil {
				t.Fatal("the API server dropped spec.resources: pod-level resources are not exercised")
			}
		case "overhead":
			if p.Spec.Overhead == nil {
				t.Fatal("the RuntimeClass admission set no overhead: it is not exercised")
			}
		}
	}

	want := describedNode(t, node)
	got := st.Output.(*model.CapacityOutput).Nodes[node]
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"cpu requests", got.CPU.Requests, want["cpu"][0]},
		{"cpu limits", got.CPU.Limits, want["cpu"][1]},
		{"memory requests", got.Memory.Requests, want["memory"][0]},
		{"memory limits", got.Memory.Limits, want["memory"][1]},
	} {
		if math.Abs(tc.got-tc.want) > 1e-6*math.Max(1, tc.want) {
			t.Errorf("%s on %s: kdrill %v, kubectl describe %v", tc.name, node, tc.got, tc.want)
		}
	}
}

// describedNode runs kubectl's node describer and reads its "Allocated
// resources" table: resource name to requests and limits.
func describedNode(t *testing.T, node string) map[string][2]float64 {
	t.Helper()
	d := describe.NodeDescriber{Interface: testcluster.Admin(t)}
	text, err := d.Describe("", node, describe.DescriberSettings{})
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(text, "Allocated resources:")
	if !ok {
		t.Fatalf("no Allocated resources in:\n%s", text)
	}
	out := map[string][2]float64{}
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || (f[0] != "cpu" && f[0] != "memory") {
			continue
		}
		req, lim := resource.MustParse(f[1]), resource.MustParse(f[3])
		out[f[0]] = [2]float64{req.AsApproximateFloat64(), lim.AsApproximateFloat64()}
	}
	if len(out) != 2 {
		t.Fatalf("cpu and memory not found in:\n%s", table)
	}
	return out
}

// capacityPods are four pods on one node, each counted differently.
var capacityPods = testdata("capacity-pods.yaml")
