package steps

import (
	"context"
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/kubectl/pkg/drain"

	"github.com/kdrill/kdrill/internal/nodestate"
	"github.com/kdrill/kdrill/step"
)

// Which nodes a node step acts on.

// targets lists the nodes the step acts on, chosen with the seed, and
// refuses what the safety policy forbids.
func (n *Node) targets(ctx context.Context, env *step.Env) ([]*corev1.Node, error) {
	list, err := env.Cluster.Typed.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	all := make([]*corev1.Node, len(list.Items))
	byName := map[string]*corev1.Node{}
	for i := range list.Items {
		all[i] = &list.Items[i]
		byName[all[i].Name] = all[i]
	}
	var chosen []*corev1.Node
	switch names := n.names(); {
	case len(names) > 0:
		for _, name := range names {
			node, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("node %s does not exist (the cluster has %d nodes)", name, len(all))
			}
			if name == env.SelfNode && n.disrupts() {
				return nil, fmt.Errorf("node %s is where kdrill itself runs: a run never takes its own node away", name)
			}
			chosen = append(chosen, node)
		}
	case n.Selector != "":
		sel, err := labels.Parse(n.Selector)
		if err != nil {
			return nil, err
		}
		var matched []string
		hosts, err := n.hosts(ctx, env)
		if err != nil {
			return nil, err
		}
		self := false
		for _, node := range all {
			switch {
			case !sel.Matches(labels.Set(node.Labels)):
			case hosts != nil && !hosts[node.Name]:
			case node.Name == env.SelfNode && n.disrupts():
				self = true // kdrill's own node is never chosen
			default:
				matched = append(matched, node.Name)
			}
		}
		if len(matched) == 0 && self {
			return nil, fmt.Errorf("only node %s matches %q, and kdrill itself runs there", env.SelfNode, n.Selector)
		}
		if len(matched) == 0 && hosts != nil {
			return nil, fmt.Errorf("no node matches %q and runs a Running pod -l %s in %s", n.Selector, n.Hosting, env.Namespace)
		}
		if len(matched) == 0 {
			return nil, fmt.Errorf("no node matches %q", n.Selector)
		}
		if matched, err = n.spareNeighbours(ctx, env, matched); err != nil {
			return nil, err
		}
		k := len(matched)
		switch {
		case n.Count > 0:
			k = min(n.Count, k)
		case n.Percent > 0:
			k = max(1, int(math.Floor(n.Percent/100*float64(k))))
		}
		for _, name := range pickByScore(matched, k, seedBits(env.Seed)^seedBits(int64(env.Step.Index+1))) {
			chosen = append(chosen, byName[name])
		}
	default: // restore with no target: every node kdrill marked
		for _, node := range all {
			if nodestate.Marked(node) {
				chosen = append(chosen, node)
			}
		}
	}
	if !n.disrupts() || n.AllowUnsafe {
		return chosen, nil
	}
	if len(chosen) == len(all) {
		return nil, fmt.Errorf("%s would take every node of the cluster (%d) out of service; set allowUnsafe: true if that is really meant", n.Action, len(all))
	}
	for _, node := range chosen {
		for _, l := range controlPlaneLabels {
			if _, ok := node.Labels[l]; ok {
				return nil, fmt.Errorf("node %s is a control plane node (label %s); set allowUnsafe: true to %s it", node.Name, l, n.Action)
			}
		}
	}
	return chosen, nil
}

// spareNeighbours leaves out of a drain's choice the nodes where pods of
// other namespaces run that no controller manages: a drain would delete
// them for good (kubectl drain refuses them without --force). With force,
// or when no node is left, the step says which pods stand in the way.
func (n *Node) spareNeighbours(ctx context.Context, env *step.Env, matched []string) ([]string, error) {
	if n.Action != nodeDrain || n.Force {
		return matched, nil
	}
	var free, held []string
	for _, node := range matched {
		pods, err := unmanagedPods(n.helper(ctx, env.Cluster.Typed), node, env.Namespace)
		if err != nil {
			return nil, err
		}
		if len(pods) == 0 {
			free = append(free, node)
			continue
		}
		held = append(held, fmt.Sprintf("%s (%s)", node, strings.Join(pods, ", ")))
	}
	if len(free) == 0 {
		return nil, fmt.Errorf("every node matching %q runs pods of other namespaces that no controller manages, which a drain would delete for good: %s; set force: true to drain them anyway", n.Selector, strings.Join(held, "; "))
	}
	if len(held) > 0 {
		env.Log.Info("drain leaves out nodes running other namespaces' unmanaged pods", "nodes", strings.Join(held, "; "))
	}
	return free, nil
}

// unmanagedPods are the pods on a node, outside namespace, that a drain
// would delete and that no controller recreates, by kubectl's drain rules.
func unmanagedPods(h *drain.Helper, node, namespace string) ([]string, error) {
	h.Force = true // see them all, rather than stop at the first one
	var pods []string
	h.AdditionalFilters = append(h.AdditionalFilters, func(p corev1.Pod) drain.PodDeleteStatus {
		finished := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		if p.Namespace != namespace && !finished && metav1.GetControllerOf(&p) == nil {
			pods = append(pods, p.Namespace+"/"+p.Name)
		}
		return drain.MakePodDeleteStatusOkay()
	})
	if _, errs := h.GetPodsForDeletion(node); len(errs) > 0 {
		return nil, fmt.Errorf("list pods on %s: %w", node, errs[0])
	}
	return pods, nil
}

// hosts are the nodes running a Running pod that hosting matches, in the
// scenario's namespace; nil without hosting (every node counts).
func (n *Node) hosts(ctx context.Context, env *step.Env) (map[string]bool, error) {
	if n.Hosting == "" {
		return nil, nil
	}
	pods, err := env.Cluster.Typed.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: n.Hosting})
	if err != nil {
		return nil, fmt.Errorf("list pods -l %s: %w", n.Hosting, err)
	}
	out := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = true
		}
	}
	return out, nil
}
