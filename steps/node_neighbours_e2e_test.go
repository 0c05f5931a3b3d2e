package steps_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
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
	bareNeighbours(t, c, neighbour, pool.Nodes)
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

// bareNeighbours puts a pod no controller manages on each node, in another
// namespace: someone else's work a drill must not delete for good.
func bareNeighbours(t *testing.T, c *kube.Cluster, ns string, nodes []string) []string {
	t.Helper()
	var names []string
	for i, node := range nodes {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "neighbour-" + string(rune('a'+i))},
			Spec: corev1.PodSpec{
				NodeName:    node,
				Tolerations: []corev1.Toleration{{Key: testcluster.PoolLabel, Operator: corev1.TolerationOpExists}},
				Containers:  []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
			},
		}
		if _, err := c.Typed.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		names = append(names, pod.Name)
	}
	return names
}

// The shipped drain drill on a shared cluster where another namespace runs
// bare pods on two of the pool's three nodes: the drill drains the third
// and passes; the neighbour's pods are all still there. With a bare
// neighbour on every node, the drain refuses and names them.
func TestDrainLeavesNeighboursBarePodsAlone(t *testing.T) {
	c := testcluster.Connect(t)
	pool := testcluster.NewNodePool(t, 3)
	neighbour := testcluster.Namespace(t, c)
	ctx := context.Background()
	bare := bareNeighbours(t, c, neighbour, pool.Nodes[:2])
	sel, tol := pool.PodSpecYAML()
	s, err := scenario.LoadWith("../scenarios/chaos/drain-with-pdb.yaml", steps.Registry, scenario.LoadOptions{Set: map[string]string{
		"nodes": pool.Selector(), "nodeSelector": sel, "tolerations": tol, "replicas": "6", "minAvailable": "5",
	}})
	if err != nil {
		t.Fatal(err)
	}
	res := runner.Run(ctx, []*scenario.Scenario{s}, runner.Options{Cluster: c, CleanupTimeout: time.Minute})
	wantFairWeather(t, res)
	out, ok := stepNamed(t, res.Scenarios[0], "drain one node").Output.(*model.NodeOutput)
	if !ok || !slices.Equal(out.Nodes, pool.Nodes[2:]) {
		t.Fatalf("drained %+v, want %v: the one node with no neighbour's bare pod", out, pool.Nodes[2:])
	}
	for _, name := range bare {
		if _, err := c.Typed.CoreV1().Pods(neighbour).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("the neighbour's bare pod %s: %v", name, err)
		}
	}
	pool.AssertUntouched(t, 10*time.Second)

	other := testcluster.Namespace(t, c)
	bareNeighbours(t, c, other, pool.Nodes[2:3])
	sr := runScenario(t, c, testcluster.Namespace(t, c), `spec:
  steps:
  - name: drain
    node: {action: drain, selector: "`+pool.Selector()+`", count: 1}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "drain"), model.Failed, "runs pods of other namespaces that no controller manages", neighbour+"/neighbour-b", other+"/neighbour-a", "force: true")
	pool.AssertUntouched(t, 10*time.Second)
}
