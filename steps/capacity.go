package steps

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
)

// Capacity reads the nodes and the pods on them and computes, per node and
// for the cluster, allocatable CPU and memory against the sums of the pods'
// requests and limits: how much of the cluster is committed. Terminated
// pods do not count; namespaces gives the sums per namespace. With expr, an expression over capacity must hold;
// it is checked against the output's fields when the scenario loads.
//
// Example:
//
//	steps:
//	- name: committed
//	  capacity:
//	    expr: capacity.cluster.memory.limitsPercent < 80 && capacity.cluster.cpu.requestsPercent < 90
type Capacity struct {
	// Expr, when set, must hold; it sees capacity (nodes by name, and
	// cluster).
	Expr expression.Expr `json:"expr,omitempty"`
	// Selector limits the nodes to those with these labels.
	Selector string `json:"selector,omitempty"`
}

// Default does nothing: Capacity has no defaults.
func (c *Capacity) Default() {}

// Validate has nothing to check beyond the expression, compiled at load.
func (c *Capacity) Validate() error { return nil }

// ExprNames adds capacity, typed, so an unknown field is a load error.
func (c *Capacity) ExprNames() map[string]any {
	return map[string]any{"capacity": model.CapacityOutput{}}
}

// Run reads nodes and pods and sums them.
func (c *Capacity) Run(ctx context.Context, env *runner.Env) (any, error) {
	nodes, err := env.Cluster.Typed.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: c.Selector})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	pods, err := env.Cluster.Typed.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	out := &model.CapacityOutput{Nodes: map[string]model.NodeCapacity{}, Namespaces: map[string]model.NodeCapacity{}}
	for _, n := range nodes.Items {
		out.Nodes[n.Name] = model.NodeCapacity{
			CPU:    model.ResourceCapacity{Allocatable: n.Status.Allocatable.Cpu().AsApproximateFloat64()},
			Memory: model.ResourceCapacity{Allocatable: n.Status.Allocatable.Memory().AsApproximateFloat64()},
		}
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		nc, ok := out.Nodes[p.Spec.NodeName]
		if !ok || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		req, lim := podResources(p)
		countPod(&nc, req, lim)
		out.Nodes[p.Spec.NodeName] = nc
		ns := out.Namespaces[p.Namespace]
		countPod(&ns, req, lim)
		out.Namespaces[p.Namespace] = ns
	}
	names := make([]string, 0, len(out.Nodes))
	for name := range out.Nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		nc := out.Nodes[name]
		setPercents(&nc.CPU)
		setPercents(&nc.Memory)
		out.Nodes[name] = nc
		out.Cluster.Pods += nc.Pods
		addCapacity(&out.Cluster.CPU, nc.CPU)
		addCapacity(&out.Cluster.Memory, nc.Memory)
	}
	setPercents(&out.Cluster.CPU)
	setPercents(&out.Cluster.Memory)
	env.Log.Info("capacity", "nodes", len(names), "cpuRequestsPercent", out.Cluster.CPU.RequestsPercent, "memoryLimitsPercent", out.Cluster.Memory.LimitsPercent)
	if c.Expr.IsZero() {
		return out, nil
	}
	ok, values, err := c.Expr.Eval(env.ExprEnv(map[string]any{"capacity": *out}))
	env.Observe(c.Expr.Source, values)
	if err != nil || !ok {
		msg := fmt.Sprintf("expected %s; it does not hold", c.Expr.Source) + expression.Seen(values, err)
		return out, &AssertionError{Msg: msg}
	}
	return out, nil
}

// countPod adds one pod's requests and limits.
func countPod(n *model.NodeCapacity, req, lim corev1.ResourceList) {
	n.Pods++
	n.CPU.Requests += req.Cpu().AsApproximateFloat64()
	n.CPU.Limits += lim.Cpu().AsApproximateFloat64()
	n.Memory.Requests += req.Memory().AsApproximateFloat64()
	n.Memory.Limits += lim.Memory().AsApproximateFloat64()
}

func addCapacity(r *model.ResourceCapacity, o model.ResourceCapacity) {
	r.Allocatable += o.Allocatable
	r.Requests += o.Requests
	r.Limits += o.Limits
}

func setPercents(r *model.ResourceCapacity) {
	if r.Allocatable > 0 {
		r.RequestsPercent = 100 * r.Requests / r.Allocatable
		r.LimitsPercent = 100 * r.Limits / r.Allocatable
	}
}

// podResources is a pod's requests and limits as the scheduler and
// kubectl describe node count them (component-helpers' PodRequests and
// PodLimits): containers summed, restartable init containers (sidecars)
// added, other init containers as a maximum, pod-level resources when
// the pod sets them, and the pod overhead.
func podResources(p *corev1.Pod) (req, lim corev1.ResourceList) {
	return resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}), resourcehelper.PodLimits(p, resourcehelper.PodResourcesOptions{})
}
