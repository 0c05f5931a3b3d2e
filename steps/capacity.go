package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
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
	// Every reads again at this interval for the duration (both needed):
	// commitment per node over time, as while a load test runs (usually
	// with background: true). The output is the last reading, with every
	// reading's per-node percentages in samples; expr judges the last.
	Every model.Duration `json:"every,omitempty"`
	// Duration of the sampling (with every).
	Duration model.Duration `json:"duration,omitempty"`
}

// Default does nothing: Capacity has no defaults.
func (c *Capacity) Default() {}

// Validate checks that sampling has an interval and a duration.
func (c *Capacity) Validate() error {
	var errs scenario.FieldErrors
	switch {
	case c.Every.IsZero() != c.Duration.IsZero():
		errs.Add("every", "sampling needs every and duration together")
	case c.Every.Duration < 0 || c.Duration.Duration < 0:
		errs.Add("every", "must not be negative")
	case !c.Every.IsZero() && c.Every.Duration < 100*time.Millisecond:
		errs.Add("every", "%s: read at most ten times a second (every: 100ms or more)", c.Every.Duration)
	}
	return errs.Err()
}

// ExprNames adds capacity, typed, so an unknown field is a load error.
func (c *Capacity) ExprNames() map[string]any {
	return map[string]any{"capacity": model.CapacityOutput{}}
}

// Run reads nodes and pods and sums them, once or every interval for
// the duration.
func (c *Capacity) Run(ctx context.Context, env *step.Env) (any, error) {
	out, err := c.read(ctx, env)
	if err != nil || c.Every.IsZero() {
		return c.judge(env, out, err)
	}
	samples := []model.CapacitySample{sampleOf(env.Clock.Now(), out)}
	end := env.Clock.Now().Add(c.Duration.Duration)
	for env.Clock.Now().Before(end) {
		t := env.Clock.NewTimer(c.Every.Duration)
		select {
		case <-ctx.Done():
			t.Stop()
			out.Samples = samples
			return out, nil // stopped: what was read stands
		case <-t.C():
		}
		next, err := c.read(ctx, env)
		if err != nil {
			out.Samples = samples
			return c.judge(env, out, err)
		}
		out = next
		samples = append(samples, sampleOf(env.Clock.Now(), out))
	}
	out.Samples = samples
	return c.judge(env, out, nil)
}

// sampleOf keeps one reading's per-node percentages.
func sampleOf(t time.Time, c *model.CapacityOutput) model.CapacitySample {
	s := model.CapacitySample{Time: t, Nodes: map[string]model.NodeCommitment{}, Cluster: commitmentOf(c.Cluster)}
	for name, n := range c.Nodes {
		s.Nodes[name] = commitmentOf(n)
	}
	return s
}

func commitmentOf(n model.NodeCapacity) model.NodeCommitment {
	return model.NodeCommitment{
		Pods: n.Pods, CPURequestsPercent: n.CPU.RequestsPercent, CPULimitsPercent: n.CPU.LimitsPercent,
		MemoryRequestsPercent: n.Memory.RequestsPercent, MemoryLimitsPercent: n.Memory.LimitsPercent,
	}
}

// judge checks the expression against a reading.
func (c *Capacity) judge(env *step.Env, out *model.CapacityOutput, err error) (any, error) {
	if err != nil || c.Expr.IsZero() {
		return out, err
	}
	ok, values, eerr := c.Expr.Eval(env.ExprEnv(map[string]any{"capacity": *out}))
	env.Observe(c.Expr.Source, values)
	if eerr != nil || !ok {
		msg := fmt.Sprintf("expected %s; it does not hold", c.Expr.Source) + expression.Seen(values, eerr)
		return out, &AssertionError{Msg: msg}
	}
	return out, nil
}

// read lists nodes and pods and sums them.
func (c *Capacity) read(ctx context.Context, env *step.Env) (*model.CapacityOutput, error) {
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
	names := slices.Sorted(maps.Keys(out.Nodes))
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
