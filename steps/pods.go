package steps

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// PodTarget selects the pods a chaos step may delete: Running pods, not
// already terminating, matched by a label selector or by a workload's own
// selector.
type PodTarget struct {
	// Selector picks pods by labels: "app=web". An empty selector would match
	// every pod in the namespace and is refused unless allowUnsafe is set.
	Selector string `json:"selector,omitempty"`
	// Workload picks the pods of a Deployment, ReplicaSet or StatefulSet
	// through its spec.selector, instead of selector.
	Workload *ObjectRef `json:"workload,omitempty"`
	// Namespace of the pods; defaults to the scenario's namespace.
	Namespace string `json:"namespace,omitempty"`
	// AllowUnsafe permits system namespaces (kube-system, kube-public,
	// kube-node-lease), whichever way they are reached (this field, the
	// workload's namespace, the scenario's, -n), and an empty selector.
	// Default false.
	AllowUnsafe bool `json:"allowUnsafe,omitempty"`
	// GracePeriodSeconds overrides the pods' termination grace period.
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
	// Evict sends the victims through the Eviction API, so
	// PodDisruptionBudgets are honoured: an eviction a budget refuses is
	// counted in blockedByPDB, not retried. Default false (delete).
	Evict bool `json:"evict,omitempty"`
}

func (p *PodTarget) validate(errs *scenario.FieldErrors) {
	switch {
	case p.Selector != "" && p.Workload != nil:
		errs.Add("workload", "give selector or workload, not both")
	case p.Workload != nil:
		p.Workload.validate(errs, "workload", true)
	case p.Selector == "" && !p.AllowUnsafe:
		errs.Add("selector", "required: an empty selector matches every pod in the namespace (set allowUnsafe: true if that is really meant)")
	}
	if p.GracePeriodSeconds != nil && *p.GracePeriodSeconds < 0 {
		errs.Add("gracePeriodSeconds", "must be >= 0")
	}
}

// TargetNamespaces names where the pods are, for the safety policy: the
// workload's namespace wins over the step's, which wins over the
// scenario's ("").
func (p *PodTarget) TargetNamespaces() []string {
	if p.Workload != nil && p.Workload.Namespace != "" {
		return []string{p.Workload.Namespace}
	}
	return []string{p.Namespace}
}

// AllowsUnsafe says whether the step lifted the safety policy.
func (p *PodTarget) AllowsUnsafe() bool { return p.AllowUnsafe }

// resolvedPods is a PodTarget bound to a namespace and a selector.
type resolvedPods struct {
	namespace string
	selector  labels.Selector
}

// resolve finds the namespace and selector. The engine's safety policy
// guards the namespace, here and on the wire.
func (p *PodTarget) resolve(ctx context.Context, env *step.Env) (*resolvedPods, error) {
	ns := p.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	if p.Workload == nil {
		sel, err := labels.Parse(p.Selector)
		if err != nil {
			return nil, err
		}
		return &resolvedPods{namespace: ns, selector: sel}, nil
	}
	ref := *p.Workload
	if ref.Namespace == "" {
		ref.Namespace = ns
	}
	res, err := ref.resolve(env)
	if err != nil {
		return nil, err
	}
	obj, err := res.client.Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref.String(), err)
	}
	sel, err := workloadSelector(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref.String(), err)
	}
	if sel.Empty() && !p.AllowUnsafe {
		return nil, fmt.Errorf("%s has an empty selector, which matches every pod; set allowUnsafe: true to allow it", ref.String())
	}
	return &resolvedPods{namespace: res.namespace, selector: sel}, nil
}

// workloadSelector reads spec.selector of a workload.
func workloadSelector(obj *unstructured.Unstructured) (labels.Selector, error) {
	raw, found, err := unstructured.NestedMap(obj.Object, "spec", "selector")
	if err != nil || !found {
		return nil, fmt.Errorf("has no spec.selector")
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return nil, err
	}
	return metav1.LabelSelectorAsSelector(&ls)
}

// list lists the pods the target selects.
func (r *resolvedPods) list(ctx context.Context, env *step.Env) ([]*corev1.Pod, error) {
	list, err := env.Cluster.Typed.CoreV1().Pods(r.namespace).List(ctx, metav1.ListOptions{LabelSelector: r.selector.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	out := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

// nothingEligible says why no pod can be chosen: a chaos step that kills
// nothing did not run. When pods that match run in other namespaces (a
// manifest that names its own namespace, say), it says where.
func (r *resolvedPods) nothingEligible(ctx context.Context, env *step.Env) error {
	if pods, err := r.list(ctx, env); err == nil && len(pods) > 0 {
		which := fmt.Sprintf("%d pods match", len(pods))
		if len(pods) == 1 {
			which = "1 pod matches"
		}
		return fmt.Errorf("%s -l %s in namespace %s, none Running: nothing to kill", which, r.selector, r.namespace)
	}
	msg := fmt.Sprintf("no pod matches -l %s in namespace %s: nothing to kill", r.selector, r.namespace)
	list, err := env.Cluster.Typed.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: r.selector.String(), Limit: 100})
	if err != nil {
		return errors.New(msg) // not allowed to look further: the message stands
	}
	var elsewhere []string
	for _, p := range list.Items {
		if p.Namespace != r.namespace && !slices.Contains(elsewhere, p.Namespace) {
			elsewhere = append(elsewhere, p.Namespace)
		}
	}
	if len(elsewhere) > 0 {
		msg += fmt.Sprintf("; pods that match run in namespace %s: set the step's namespace, or leave the namespace out of the manifest so the workload lands in the run's", strings.Join(elsewhere, ", "))
	}
	return errors.New(msg)
}

// chooseVictims picks n of the Running, not terminating, unclaimed pods at
// random (pickByScore). It also returns how many pods were eligible.
func chooseVictims(pods []*podState, n int, key uint64, claimed map[string]bool) (victims []string, eligibleCount int) {
	var eligible []string
	for _, p := range pods {
		if p.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || claimed[p.Name] {
			continue
		}
		eligibleCount++
		if n > 0 {
			eligible = append(eligible, p.Name)
		}
	}
	return pickByScore(eligible, n, key), eligibleCount
}

// pickByScore picks n names at random: each gets a score from a hash of
// the draw's key and the name, and the n lowest scores are chosen. The same
// key and the same names give the same choice, in one pass and with no
// sorting of the whole set, which keeps a killer on schedule over
// thousands of pods.
func pickByScore(names []string, n int, key uint64) []string {
	type scored struct {
		score uint64
		name  string
	}
	less := func(a, b scored) bool { return a.score < b.score || (a.score == b.score && a.name < b.name) }
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], key)
	var best []scored // the n lowest scores so far, in no order
	worst := 0        // index of the highest score in best
	for _, name := range names {
		if n <= 0 {
			break
		}
		h := fnv.New64a()
		_, _ = h.Write(seed[:])
		_, _ = h.Write([]byte(name))
		sc := scored{h.Sum64(), name}
		switch {
		case len(best) < n:
			best = append(best, sc)
		case less(sc, best[worst]):
			best[worst] = sc
		default:
			continue
		}
		for i := range best {
			if less(best[worst], best[i]) {
				worst = i
			}
		}
	}
	slices.SortFunc(best, func(a, b scored) int {
		if less(a, b) {
			return -1
		}
		return 1
	})
	var out []string
	for _, b := range best {
		out = append(out, b.name)
	}
	return out
}

// deletePods deletes the named pods, or evicts them when the target says
// so, and records the batch, stamped with at, on the scenario's timeline.
// It returns the pods it deleted, one already gone skipped, and how many
// evictions a PodDisruptionBudget refused. Each deletion names the pod's
// uid as a precondition (uids, from the list the victims were chosen
// from), so a deletion the retry policy sends again never takes a pod a
// controller made since under the same name (a StatefulSet's): that pod
// counts as gone.
func (p *PodTarget) deletePods(ctx context.Context, env *step.Env, namespace string, names []string, uids map[string]types.UID, at time.Time) (deleted []string, blocked int, err error) {
	pods := env.Cluster.Typed.CoreV1().Pods(namespace)
	for _, name := range names {
		opts := metav1.DeleteOptions{GracePeriodSeconds: p.GracePeriodSeconds}
		if uid := uids[name]; uid != "" {
			opts.Preconditions = &metav1.Preconditions{UID: &uid}
		}
		var err error
		if p.Evict {
			err = pods.EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, DeleteOptions: &opts})
			if apierrors.IsTooManyRequests(err) {
				blocked++
				continue
			}
		} else {
			err = pods.Delete(ctx, name, opts)
		}
		if apierrors.IsConflict(err) && opts.Preconditions != nil {
			continue // the pod chosen is gone; another has its name
		}
		if err != nil && !apierrors.IsNotFound(err) {
			verb := map[bool]string{false: "delete", true: "evict"}[p.Evict]
			return deleted, blocked, fmt.Errorf("%s pod %s: %w", verb, name, err)
		}
		if err == nil {
			deleted = append(deleted, name)
		}
	}
	if len(deleted) > 0 {
		env.Record(model.TimelineEvent{Time: at, Kind: "kill", Count: len(deleted), Objects: qualify(namespace, deleted)})
	}
	return deleted, blocked, nil
}

func qualify(ns string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = ns + "/" + n
	}
	return out
}

// seedBits reinterprets a seed's bits for a random source or a hash.
func seedBits(seed int64) uint64 {
	return uint64(seed) //nolint:gosec // G115: the bits are wanted, not the value
}

// Subjects names the workload whose pods are the targets.
func (p *PodTarget) Subjects() []step.Subject { return subjectsOf(p.Workload) }

// validateAmount checks a count or a percent of a set to act on: at most
// one, a count above zero, a percent between 0 and 100.
func validateAmount(errs *scenario.FieldErrors, count int, percent float64) {
	switch {
	case count != 0 && percent != 0:
		errs.Add("percent", "give count or percent, not both")
	case count < 0:
		errs.Add("count", "must be > 0")
	case percent < 0 || percent > 100:
		errs.Add("percent", "must be between 0 and 100")
	}
}

// uidsOf maps the named pods' names to their uids, as the list has them.
func uidsOf(pods []*podState, names []string) map[string]types.UID {
	out := make(map[string]types.UID, len(names))
	for _, n := range names {
		out[n] = ""
	}
	for _, p := range pods {
		if _, named := out[p.Name]; named {
			out[p.Name] = p.UID
		}
	}
	return out
}
