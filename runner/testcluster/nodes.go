package testcluster

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// NodePool is a set of simulated nodes a test has to itself: node chaos on
// them touches no other test's pods. They carry the label PoolLabel=Name
// and the taint PoolLabel=Name:NoSchedule, so only pods that select and
// tolerate the pool land there.
type NodePool struct {
	Name  string
	Nodes []string
	admin kubernetes.Interface
}

var poolCount atomic.Int64

// PoolLabel marks a test's node pool.
const PoolLabel = "kdrill.dev/test-pool"

// NewNodePool adds n nodes that kwok simulates, waits until they are
// Ready, and deletes them when the test ends.
func NewNodePool(t testing.TB, n int) *NodePool {
	t.Helper()
	admin := Admin(t)
	// Unique among the test processes sharing the cluster.
	p := &NodePool{Name: fmt.Sprintf("p%d-%d", os.Getpid(), poolCount.Add(1)), admin: admin}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range n {
		name := fmt.Sprintf("kdrill-test-%s-%d", p.Name, i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      map[string]string{PoolLabel: p.Name, "type": "kwok", "kubernetes.io/os": "linux", "kubernetes.io/hostname": name},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: PoolLabel, Value: p.Name, Effect: corev1.TaintEffectNoSchedule}}},
		}
		if _, err := admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create node %s: %v", name, err)
		}
		p.Nodes = append(p.Nodes, name)
		t.Cleanup(func() {
			_ = admin.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
		})
		res := corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("1000"),
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Status.Capacity, n.Status.Allocatable = res, res
			_, err = admin.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatalf("set node %s's capacity: %v", name, err)
		}
	}
	for _, name := range p.Nodes {
		for {
			node, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err == nil && ready(node) && node.Status.Allocatable.Pods().Value() > 0 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("node %s never became Ready", name)
			}
			<-time.After(100 * time.Millisecond)
		}
	}
	return p
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Selector is the label selector of the pool's nodes.
func (p *NodePool) Selector() string { return PoolLabel + "=" + p.Name }

// PodSpecYAML is what a pod template's spec needs to run on the pool, as
// YAML flow mappings: nodeSelector and tolerations.
func (p *NodePool) PodSpecYAML() (nodeSelector, tolerations string) {
	return fmt.Sprintf(`{%q: %q}`, PoolLabel, p.Name),
		fmt.Sprintf(`[{key: %q, operator: Equal, value: %q, effect: NoSchedule}]`, PoolLabel, p.Name)
}

// AssertUntouched fails the test when a node of the pool is cordoned,
// carries a taint besides the pool's own and the node controller's, is
// not Ready, or carries kdrill's record or its not-ready label. The node
// controller's taints and readiness follow kdrill's restore by a moment,
// so it waits up to wait for them.
func (p *NodePool) AssertUntouched(t testing.TB, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		problems := p.problems()
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("nodes left changed:\n  %s", strings.Join(problems, "\n  "))
			return
		}
		<-time.After(200 * time.Millisecond)
	}
}

func (p *NodePool) problems() []string {
	var out []string
	for _, name := range p.Nodes {
		n, err := p.admin.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			out = append(out, name+": deleted")
			continue
		} else if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if n.Spec.Unschedulable {
			out = append(out, name+": cordoned")
		}
		for _, tn := range n.Spec.Taints {
			if tn.Key != PoolLabel && !strings.HasPrefix(tn.Key, "node.kubernetes.io/") {
				out = append(out, fmt.Sprintf("%s: tainted %s=%s:%s", name, tn.Key, tn.Value, tn.Effect))
			}
		}
		for k := range n.Annotations {
			if strings.HasPrefix(k, "kdrill.dev/") {
				out = append(out, name+": annotated "+k)
			}
		}
		if _, ok := n.Labels["node-not-ready.stage.kwok.x-k8s.io"]; ok {
			out = append(out, name+": still labelled not ready")
		}
		if !ready(n) {
			out = append(out, name+": not Ready")
		}
	}
	return out
}
