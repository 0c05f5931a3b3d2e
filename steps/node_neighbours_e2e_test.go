package steps_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// The shipped node-failure drill on a shared cluster: another namespace has
// a pod on every node of the pool. The drill passes as it does alone; the
// node step names the neighbour's pod it took among evictedOthers, never
// among its own.
func TestNodeFailureWithNeighboursOnTheNode(t *testing.T) {
	c := testcluster.Connect(t)
	pool := testcluster.NewNodePool(t, 3)
	neighbour := testcluster.Namespace(t, c)
	ctx := context.Background()
	for i, node := range pool.Nodes {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "neighbour-" + string(rune('a'+i))},
			Spec: corev1.PodSpec{
				NodeName:    node,
				Tolerations: []corev1.Toleration{{Key: testcluster.PoolLabel, Operator: corev1.TolerationOpExists}},
				Containers:  []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
			},
		}
		if _, err := c.Typed.CoreV1().Pods(neighbour).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sel, tol := pool.PodSpecYAML()
	s, err := scenario.LoadWith("../scenarios/chaos/node-failure.yaml", steps.Registry, scenario.LoadOptions{Set: map[string]string{
		"nodes": pool.Selector(), "nodeSelector": sel, "tolerations": tol, "replicas": "12",
	}})
	if err != nil {
		t.Fatal(err)
	}
	res := runner.Run(ctx, []*scenario.Scenario{s}, runner.Options{Cluster: c, CleanupTimeout: time.Minute})
	wantFairWeather(t, res)
	pool.AssertUntouched(t, 10*time.Second)
	out, ok := stepNamed(t, res.Scenarios[0], "lose one node").Output.(*model.NodeOutput)
	if !ok {
		t.Fatalf("node output %T", stepNamed(t, res.Scenarios[0], "lose one node").Output)
	}
	if !slices.ContainsFunc(out.EvictedOthers, func(p string) bool { return strings.HasPrefix(p, neighbour+"/neighbour-") }) {
		t.Errorf("the neighbour's pod on %v is not among evictedOthers %v", out.Nodes, out.EvictedOthers)
	}
	for _, p := range out.EvictedOwn {
		if strings.HasPrefix(p, neighbour+"/") {
			t.Errorf("the neighbour's pod %s is among the scenario's own %v", p, out.EvictedOwn)
		}
	}
	t.Logf("own %d, others %v", len(out.EvictedOwn), out.EvictedOthers)
}
