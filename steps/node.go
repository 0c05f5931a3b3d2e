package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdrill/kdrill/internal/nodestate"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Node takes nodes out of service and brings them back: cordon, uncordon,
// drain (evicts every pod but DaemonSet and mirror pods through the
// Eviction API, honouring PodDisruptionBudgets, with kubectl's own drain),
// taint, untaint, fail (the node takes no new pods, its pods are deleted as
// when a node is lost, and a node simulated by kwok reports NotReady) and
// restore (undo what kdrill did). Nodes are named or chosen by a label
// selector, a count or a percentage of them with the scenario's seed.
//
// Every change is written to the node together with a record of what it
// was (the annotation kdrill.dev/restore) and undone when the scenario
// ends, whatever the outcome, unless restore is false; kdrill restore
// undoes what a killed run left. All the nodes of the cluster, and nodes
// labelled as control plane, are refused unless allowUnsafe is set.
//
// Example:
//
//	steps:
//	- name: lose one node
//	  node: {action: fail, selector: "kubernetes.io/os=linux", count: 1}
//	- name: no new pods here
//	  node: {action: taint, names: [node-000003], taint: {key: example.com/chaos, value: "yes", effect: NoSchedule}}
type Node struct {
	// Action is cordon, uncordon, drain, taint, untaint, fail or restore.
	Action string `json:"action" enum:"cordon,uncordon,drain,taint,untaint,fail,restore"`
	// Name of one node.
	Name string `json:"name,omitempty" domain:"dns1123Subdomain"`
	// Names of nodes.
	Names []string `json:"names,omitempty" domain:"dns1123Subdomain,unique"`
	// Selector picks nodes by labels: "kubernetes.io/os=linux".
	Selector string `json:"selector,omitempty"`
	// Hosting narrows the selector's nodes to those running a pod of the
	// scenario's namespace that this label selector matches (app=web): the
	// drill takes a node its workload is on, not one it has no pod on.
	Hosting string `json:"hosting,omitempty"`
	// Count of the selected nodes to act on, chosen with the scenario's seed.
	Count int `json:"count,omitempty"`
	// Percent of the selected nodes to act on, rounded down (at least one
	// when above zero).
	Percent float64 `json:"percent,omitempty"`
	// Taint to add (taint) or remove (untaint: by key, and by effect when
	// one is given).
	Taint *NodeTaint `json:"taint,omitempty"`
	// DrainTimeout bounds a drain's evictions: pods a PodDisruptionBudget
	// still holds back then are recorded in blockedByPDB and left. Default
	// 2m.
	DrainTimeout model.Duration `json:"drainTimeout,omitempty"`
	// Force drains pods that no controller manages too (they are not
	// recreated anywhere). Default false: a selector's choice leaves out
	// the nodes where other namespaces run such pods, and such a pod on a
	// node the step names, or of the scenario's own, fails the drain.
	Force bool `json:"force,omitempty"`
	// GracePeriodSeconds overrides the pods' termination grace period for
	// drain and fail.
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
	// Restore undoes the change when the scenario ends (default true);
	// false leaves it, with no record on the node.
	Restore *bool `json:"restore,omitempty"`
	// AllowUnsafe permits acting on every node of the cluster, on control
	// plane nodes, and evicting pods in system namespaces. Default false.
	AllowUnsafe bool `json:"allowUnsafe,omitempty"`
}

// NodeTaint is a taint: key, value and effect.
type NodeTaint struct {
	// Key of the taint: example.com/chaos.
	Key string `json:"key" domain:"qualifiedName"`
	// Value of the taint, optional.
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute; required to add.
	Effect string `json:"effect,omitempty" enum:"NoSchedule,PreferNoSchedule,NoExecute"`
}

// The node actions.
const (
	nodeCordon   = "cordon"
	nodeUncordon = "uncordon"
	nodeDrain    = "drain"
	nodeTaint    = "taint"
	nodeUntaint  = "untaint"
	nodeFail     = "fail"
	nodeRestore  = "restore"
)

// controlPlaneLabels mark control plane nodes.
var controlPlaneLabels = []string{"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"}

// Default sets the drain timeout.
func (n *Node) Default() {
	if n.DrainTimeout.Duration == 0 && n.Action == nodeDrain {
		n.DrainTimeout.Duration = 2 * time.Minute
	}
}

// Validate checks the action, the target and the taint.
func (n *Node) Validate() error {
	var errs scenario.FieldErrors
	switch n.Action {
	case nodeCordon, nodeUncordon, nodeDrain, nodeFail, nodeRestore:
		if n.Taint != nil {
			errs.Add("taint", "only taint and untaint take a taint")
		}
	case nodeTaint, nodeUntaint:
		switch {
		case n.Taint == nil:
			errs.Add("taint", "required for %s: {key: K, value: V, effect: NoSchedule}", n.Action)
		case n.Taint.Key == "":
			errs.Add("taint.key", "required")
		case n.Action == nodeTaint && n.Taint.Effect == "":
			errs.Add("taint.effect", "required to add a taint: NoSchedule, PreferNoSchedule or NoExecute")
		}
	case "":
		errs.Add("action", "required: cordon, uncordon, drain, taint, untaint, fail or restore")
	default:
		errs.Add("action", "must be cordon, uncordon, drain, taint, untaint, fail or restore, not %q", n.Action)
	}
	if n.Taint != nil && n.Taint.Effect != "" && !slices.Contains([]string{"NoSchedule", "PreferNoSchedule", "NoExecute"}, n.Taint.Effect) {
		errs.Add("taint.effect", "must be NoSchedule, PreferNoSchedule or NoExecute, not %q", n.Taint.Effect)
	}
	named := n.Name != "" || len(n.Names) > 0
	switch {
	case n.Name != "" && len(n.Names) > 0:
		errs.Add("names", "give name or names, not both")
	case named && n.Selector != "":
		errs.Add("selector", "give names or a selector, not both")
	case !named && n.Selector == "" && n.Action != nodeRestore:
		errs.Add("selector", "give name, names or selector (the nodes to %s)", n.Action)
	case n.Selector != "":
		if _, err := labels.Parse(n.Selector); err != nil {
			errs.Add("selector", "%v", err)
		}
	}
	if n.Hosting != "" && n.Selector == "" {
		errs.Add("hosting", "hosting narrows the nodes a selector picks: give a selector too")
	}
	if (n.Count != 0 || n.Percent != 0) && n.Selector == "" {
		errs.Add("count", "count and percent choose among the nodes a selector picks")
	} else {
		validateAmount(&errs, n.Count, n.Percent)
	}
	if n.DrainTimeout.Duration != 0 && n.Action != nodeDrain {
		errs.Add("drainTimeout", "only drain takes a drainTimeout")
	}
	if n.Force && n.Action != nodeDrain {
		errs.Add("force", "only drain takes force")
	}
	if n.GracePeriodSeconds != nil && *n.GracePeriodSeconds < 0 {
		errs.Add("gracePeriodSeconds", "must be >= 0")
	}
	if n.Restore != nil && (n.Action == nodeRestore) {
		errs.Add("restore", "a restore has nothing to undo")
	}
	return errs.Err()
}

// AllowsUnsafe says whether the step lifted the safety policy.
func (n *Node) AllowsUnsafe() bool { return n.AllowUnsafe }

// TargetNamespaces is none: nodes are not namespaced, and drain and fail
// spare system namespaces' pods unless allowUnsafe is set.
func (n *Node) TargetNamespaces() []string { return nil }

// disrupts says whether the action takes nodes out of service, which the
// all-nodes and control plane guards apply to.
func (n *Node) disrupts() bool {
	switch n.Action {
	case nodeUncordon, nodeUntaint, nodeRestore:
		return false
	case nodeTaint:
		return n.Taint.Effect != string(corev1.TaintEffectPreferNoSchedule)
	}
	return true
}

func (n *Node) names() []string {
	if n.Name != "" {
		return []string{n.Name}
	}
	return n.Names
}

// change is what the action does to a node's spec and labels.
func (n *Node) change(env *step.Env) nodestate.Change {
	var ch nodestate.Change
	switch n.Action {
	case nodeCordon, nodeDrain:
		ch.Unschedulable = ptrTo(true)
	case nodeUncordon:
		ch.Unschedulable = ptrTo(false)
	case nodeFail:
		ch.Unschedulable = ptrTo(true)
		ch.SetLabels = map[string]string{nodestate.NotReadyLabel: "true"}
	case nodeTaint:
		ch.AddTaints = []corev1.Taint{n.Taint.taint()}
	case nodeUntaint:
		ch.RemoveTaints = []corev1.Taint{n.Taint.taint()}
	}
	if n.Restore == nil || *n.Restore {
		ch.By = env.Scenario.Metadata.Name + "/" + env.Step.Name
	}
	return ch
}

func (t *NodeTaint) taint() corev1.Taint {
	return corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)}
}

// Run acts on the nodes.
func (n *Node) Run(ctx context.Context, env *step.Env) (any, error) {
	nodes, err := n.targets(ctx, env)
	if err != nil {
		return nil, err
	}
	out := &model.NodeOutput{Action: n.Action, Nodes: []string{}, Evicted: []string{}, BlockedByPDB: []string{}, DelayedByPDB: []string{}, Spared: []string{}, Started: env.Clock.Now()}
	for _, node := range nodes {
		out.Nodes = append(out.Nodes, node.Name)
	}
	err = n.act(ctx, env, out)
	out.EvictedOwn, out.EvictedOthers = splitByNamespace(out.Evicted, env.Namespace)
	out.Finished = env.Clock.Now()
	out.Duration.Duration = out.Finished.Sub(out.Started)
	env.Record(model.TimelineEvent{Time: out.Started, End: out.Finished, Kind: "node", Action: n.Action, Count: len(out.Evicted), Objects: out.Evicted, Nodes: out.Nodes})
	env.Log.Info("node "+n.Action, "nodes", strings.Join(out.Nodes, ","), "evicted", len(out.Evicted), "blockedByPDB", len(out.BlockedByPDB))
	return out, err
}

func (n *Node) act(ctx context.Context, env *step.Env, out *model.NodeOutput) error {
	client := env.Cluster.Typed
	if n.Action == nodeRestore {
		for _, name := range out.Nodes {
			msg, err := nodestate.Restore(ctx, client, name)
			if err != nil {
				return fmt.Errorf("restore node %s: %w", name, err)
			}
			if msg != "" {
				out.Restored = append(out.Restored, msg)
			}
		}
		return nil
	}
	ch := n.change(env)
	for _, name := range out.Nodes {
		if ch.By != "" {
			// Deferred before the change: a change that lands and then
			// fails to answer is undone too.
			env.Defer("node "+name, func(ctx context.Context) (string, error) { return nodestate.Restore(ctx, client, name) })
		}
		if err := nodestate.Apply(ctx, client, name, ch, env.Clock.Now()); err != nil {
			return fmt.Errorf("%s node %s: %w", n.Action, name, err)
		}
	}
	switch n.Action {
	case nodeDrain:
		return n.drain(ctx, env, out)
	case nodeFail:
		return n.fail(ctx, env, out)
	}
	return nil
}

// Plan names the nodes the seed chooses and the pods a drain or a failure
// would move.
func (n *Node) Plan(ctx context.Context, env *step.Env) (string, error) {
	nodes, err := n.targets(ctx, env)
	if err != nil {
		return "", err
	}
	var names []string
	for _, node := range nodes {
		names = append(names, node.Name)
	}
	if len(names) == 0 {
		return "restore: no node carries kdrill's record now (an earlier step of the run would make one)", nil
	}
	what := fmt.Sprintf("%s %d nodes (seed %d): %s", n.Action, len(names), env.Seed, strings.Join(names, ", "))
	if n.Action != nodeDrain && n.Action != nodeFail {
		return what, nil
	}
	out := &model.NodeOutput{}
	h := n.helper(ctx, env.Cluster.Typed)
	moved := 0
	for _, node := range names {
		pods, err := podsToMove(h, node, out)
		if err != nil {
			return "", err
		}
		moved += len(pods)
	}
	return fmt.Sprintf("%s; %d pods would be moved, %d spared", what, moved, len(out.Spared)), nil
}

// splitByNamespace splits namespace/name pods into those of ns and the rest.
func splitByNamespace(pods []string, ns string) (own, others []string) {
	own, others = []string{}, []string{}
	for _, p := range pods {
		if strings.HasPrefix(p, ns+"/") {
			own = append(own, p)
		} else {
			others = append(others, p)
		}
	}
	return own, others
}
