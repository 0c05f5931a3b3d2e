package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Partition cuts pods off the network with NetworkPolicies of kdrill's
// own: the pods a selector picks lose ingress, egress or both, from every
// other pod or only from those another selector picks (from). The policies
// carry the label kdrill.dev/partition and are removed when a heal step
// names the partition, when duration is up, when the scenario ends (passed,
// failed or interrupted), and by kdrill restore after a run was killed.
// NetworkPolicy only allows: where the namespace's own policies let some
// traffic in, it still flows. A partition between two selectors is made of
// ingress rules (all pods but the others), so traffic from outside the
// pod network (nodes, load balancers) is cut too while it lasts. Before it
// cuts anything, kdrill checks that the cluster enforces NetworkPolicy
// (as connect does): where it does not, or the pods are simulated, the
// step is not applicable and nothing is cut.
//
// Example:
//
//	steps:
//	- name: cut the backend off
//	  partition: {selector: app=backend, from: {selector: app=frontend}}
//	- name: heal
//	  heal: {partition: cut the backend off}
type Partition struct {
	// Selector picks the pods to cut off, by labels.
	Selector string `json:"selector"`
	// Namespace of those pods (default: the scenario's).
	Namespace string `json:"namespace,omitempty"`
	// From limits the partition to the traffic between these pods and
	// the selector's (default: every other pod).
	From *PartitionPeer `json:"from,omitempty"`
	// Direction is ingress (nothing reaches the pods), egress (the pods
	// reach nothing) or both (default).
	Direction string `json:"direction,omitempty" enum:"ingress,egress,both"`
	// Duration heals the partition after this long, the step waiting
	// meanwhile (give it background: true to go on); default: until a
	// heal step or the scenario's end.
	Duration model.Duration `json:"duration,omitempty"`
	// AllowUnsafe permits a partition in a system namespace.
	AllowUnsafe bool `json:"allowUnsafe,omitempty"`
}

// PartitionPeer is the other side of a partition between two sets of pods.
type PartitionPeer struct {
	// Selector picks the pods by labels.
	Selector string `json:"selector"`
	// Namespace of those pods (default: the scenario's).
	Namespace string `json:"namespace,omitempty"`
}

// PartitionLabel is on kdrill's partition policies: kdrill restore removes
// every NetworkPolicy that carries it.
const PartitionLabel = "kdrill.dev/partition"

// Default cuts both ways.
func (p *Partition) Default() {
	if p.Direction == "" {
		p.Direction = "both"
	}
}

// Validate checks the selectors: each must be one a NetworkPolicy can
// express and negate.
func (p *Partition) Validate() error {
	var errs scenario.FieldErrors
	if p.Selector == "" {
		errs.Add("selector", "required: the pods to cut off, such as app=backend")
	} else if _, err := policySelector(p.Selector); err != nil {
		errs.Add("selector", "%v", err)
	}
	if p.From != nil {
		if p.From.Selector == "" {
			errs.Add("from.selector", "required: the pods on the other side, such as app=frontend")
		} else if _, err := negatedPeers(p.From.Selector, "x"); err != nil {
			errs.Add("from.selector", "%v", err)
		}
	}
	switch p.Direction {
	case "ingress", "egress", "both":
	default:
		errs.Add("direction", "%q: ingress, egress or both", p.Direction)
	}
	if p.Duration.Duration < 0 {
		errs.Add("duration", "must not be negative")
	}
	return errs.Err()
}

// TargetNamespaces names where the pods are, for the safety policy.
func (p *Partition) TargetNamespaces() []string {
	ns := []string{p.Namespace}
	if p.From != nil {
		ns = append(ns, p.From.Namespace)
	}
	return ns
}

// AllowsUnsafe says whether the step lifted the safety policy.
func (p *Partition) AllowsUnsafe() bool { return p.AllowUnsafe }

// Plan says what would be cut; a dry run cuts nothing.
func (p *Partition) Plan(_ context.Context, env *step.Env) (string, error) {
	what := "from every other pod"
	if p.From != nil {
		what = "from -l " + p.From.Selector + " in " + namespaceOr(p.From.Namespace, env)
	}
	return fmt.Sprintf("would cut pods -l %s in %s off (%s) %s with NetworkPolicies (not sent in a dry run)", p.Selector, namespaceOr(p.Namespace, env), p.Direction, what), nil
}

// Run checks that a partition can hold here, makes the policies, and heals
// them after duration when one is given.
func (p *Partition) Run(ctx context.Context, env *step.Env) (any, error) {
	ns := namespaceOr(p.Namespace, env)
	pods, err := (&Connect{}).sources(ctx, env, &ConnectFrom{Selector: p.Selector, Namespace: p.Namespace})
	if err != nil {
		return nil, fmt.Errorf("nothing to cut off: %w", err)
	}
	if why := simulated(ctx, env, pods[0].Spec.NodeName); why != "" {
		return nil, step.NotApplicable("cannot partition pod %s: %s", pods[0].Name, why)
	}
	verdict, err := policyEnforced(ctx, env, func() (*corev1.Pod, string, error) {
		if env.ProbeImage != "" {
			return &pods[0], "", nil
		}
		candidates := pods
		if p.From != nil {
			if peers, err := (&Connect{}).sources(ctx, env, &ConnectFrom{Selector: p.From.Selector, Namespace: p.From.Namespace}); err == nil {
				candidates = append(peers, pods...)
			}
		}
		prober, err := withNC(ctx, env, candidates)
		return prober, "", err
	})
	if err != nil {
		return nil, err
	}
	if !verdict.enforced {
		return nil, step.NotApplicable("cannot partition: %s", verdict.reason)
	}
	policies, err := p.policies(env)
	if err != nil {
		return nil, err
	}
	out := &model.PartitionOutput{Direction: p.Direction, Started: env.Clock.Now()}
	for _, pod := range pods {
		out.Pods = append(out.Pods, ns+"/"+pod.Name)
	}
	for _, np := range policies {
		client := env.Cluster.Typed.NetworkingV1().NetworkPolicies(np.Namespace)
		name := np.Namespace + "/" + np.Name
		env.Defer("networkpolicy "+name, func(ctx context.Context) (string, error) {
			return removePartitionPolicy(ctx, env, name)
		})
		if _, err := client.Create(ctx, np, metav1.CreateOptions{}); err != nil {
			return out, fmt.Errorf("create NetworkPolicy %s: %w", name, err)
		}
		out.Policies = append(out.Policies, name)
	}
	env.Record(model.TimelineEvent{Time: out.Started, Kind: "partition", Action: p.Direction, Count: len(out.Pods), Objects: out.Pods})
	if p.Duration.Duration == 0 {
		return out, nil
	}
	select {
	case <-ctx.Done():
		return out, nil // the scenario's end heals it
	case <-env.Clock.After(p.Duration.Duration):
	}
	healed, err := healPolicies(ctx, env, env.Step.Name, out.Policies)
	out.Healed = healed
	return out, err
}

// policies are the NetworkPolicies that make the partition.
func (p *Partition) policies(env *step.Env) ([]*networkingv1.NetworkPolicy, error) {
	ns := namespaceOr(p.Namespace, env)
	meta := func(namespace string) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:      "kdrill-partition-" + rand.String(8),
			Namespace: namespace,
			Labels:    map[string]string{step.LabelManagedBy: "kdrill", PartitionLabel: partitionValue(env.Step.Name)},
			Annotations: map[string]string{
				"kdrill.dev/step": env.Step.Name, "kdrill.dev/scenario": env.Scenario.Metadata.Name,
			},
		}
	}
	self, err := policySelector(p.Selector)
	if err != nil {
		return nil, err
	}
	if p.From == nil {
		spec := networkingv1.NetworkPolicySpec{PodSelector: self}
		if p.Direction != "egress" {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		}
		if p.Direction != "ingress" {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
		return []*networkingv1.NetworkPolicy{{ObjectMeta: meta(ns), Spec: spec}}, nil
	}
	// Between two sets: each side admits every pod but the other's.
	peerNS := namespaceOr(p.From.Namespace, env)
	var out []*networkingv1.NetworkPolicy
	admitAllBut := func(at string, selected metav1.LabelSelector, otherSelector, otherNS string) error {
		peers, err := negatedPeers(otherSelector, otherNS)
		if err != nil {
			return err
		}
		out = append(out, &networkingv1.NetworkPolicy{ObjectMeta: meta(at), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: selected,
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
		}})
		return nil
	}
	if p.Direction != "egress" {
		if err := admitAllBut(ns, self, p.From.Selector, peerNS); err != nil {
			return nil, err
		}
	}
	if p.Direction != "ingress" {
		other, err := policySelector(p.From.Selector)
		if err != nil {
			return nil, err
		}
		if err := admitAllBut(peerNS, other, p.Selector, ns); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// partitionValue is a step's name as a label value.
func partitionValue(step string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(step) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	v := strings.Trim(b.String(), "-")
	if len(v) > 63 {
		v = strings.Trim(v[:63], "-")
	}
	if v == "" {
		v = "partition"
	}
	return v
}

// policySelector is a label selector as a NetworkPolicy's podSelector.
func policySelector(text string) (metav1.LabelSelector, error) {
	sel, err := labels.Parse(text)
	if err != nil {
		return metav1.LabelSelector{}, fmt.Errorf("%q is not a label selector: %w", text, err)
	}
	reqs, _ := sel.Requirements()
	var out metav1.LabelSelector
	for _, r := range reqs {
		op, ok := map[selection.Operator]metav1.LabelSelectorOperator{
			selection.Equals: metav1.LabelSelectorOpIn, selection.DoubleEquals: metav1.LabelSelectorOpIn, selection.In: metav1.LabelSelectorOpIn,
			selection.NotEquals: metav1.LabelSelectorOpNotIn, selection.NotIn: metav1.LabelSelectorOpNotIn,
			selection.Exists: metav1.LabelSelectorOpExists, selection.DoesNotExist: metav1.LabelSelectorOpDoesNotExist,
		}[r.Operator()]
		if !ok {
			return out, fmt.Errorf("%q: a NetworkPolicy cannot select pods with %s", text, r.Operator())
		}
		e := metav1.LabelSelectorRequirement{Key: r.Key(), Operator: op}
		if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
			e.Values = r.ValuesUnsorted()
		}
		out.MatchExpressions = append(out.MatchExpressions, e)
	}
	return out, nil
}

// negatedPeers admit every pod but those the selector picks in namespace
// ns: the pods of every other namespace, and in ns each pod that fails one
// of the selector's requirements.
func negatedPeers(text, ns string) ([]networkingv1.NetworkPolicyPeer, error) {
	sel, err := policySelector(text)
	if err != nil {
		return nil, err
	}
	if len(sel.MatchExpressions) == 0 {
		return nil, fmt.Errorf("%q selects every pod: the partition would cut everything; leave from out for that", text)
	}
	const nsName = corev1.LabelMetadataName
	peers := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: nsName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{ns}},
	}}}}
	negate := map[metav1.LabelSelectorOperator]metav1.LabelSelectorOperator{
		metav1.LabelSelectorOpIn: metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpNotIn: metav1.LabelSelectorOpIn,
		metav1.LabelSelectorOpExists: metav1.LabelSelectorOpDoesNotExist, metav1.LabelSelectorOpDoesNotExist: metav1.LabelSelectorOpExists,
	}
	for _, r := range sel.MatchExpressions {
		r.Operator = negate[r.Operator]
		peers = append(peers, networkingv1.NetworkPolicyPeer{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{nsName: ns}},
			PodSelector:       &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{r}},
		})
	}
	return peers, nil
}

// removePartitionPolicy deletes one of kdrill's partition policies,
// namespace/name; one already gone is fine.
func removePartitionPolicy(ctx context.Context, env *step.Env, name string) (string, error) {
	ns, n, _ := strings.Cut(name, "/")
	err := env.Cluster.Typed.NetworkingV1().NetworkPolicies(ns).Delete(ctx, n, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return "removed NetworkPolicy " + name + " (partition)", nil
}

// healPolicies removes a partition's policies and records the heal.
func healPolicies(ctx context.Context, env *step.Env, partition string, policies []string) (time.Time, error) {
	var errs []string
	for _, name := range policies {
		if _, err := removePartitionPolicy(ctx, env, name); err != nil {
			errs = append(errs, name+": "+err.Error())
		}
	}
	at := env.Clock.Now()
	if len(errs) > 0 {
		return time.Time{}, fmt.Errorf("heal %s: %s", partition, strings.Join(errs, "; "))
	}
	env.Record(model.TimelineEvent{Time: at, Kind: "heal", Action: partition, Count: len(policies), Objects: policies})
	return at, nil
}
