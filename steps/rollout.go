package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/polymorphichelpers"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// revisionAnnotation is where the Deployment controller numbers revisions.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// Rollout changes a Deployment's, StatefulSet's or DaemonSet's pod template
// — new images by container name, or a template merged in — or, with undo,
// returns to the previous revision (or a given one) with kubectl rollout
// undo's own code. It
// waits until the rollout completes (the new generation observed, every
// replica updated and available, no old replica left) and records, from
// watch events, the lowest availability and the highest surge seen, so an
// expression can check the strategy's promise. A rollout that passes its
// progressDeadlineSeconds fails with the Deployment's condition message.
//
// Example:
//
//	steps:
//	- name: update
//	  rollout:
//	    kind: Deployment
//	    name: webapp
//	    images: {webapp: "webapp:0.2"}
//	- name: kept its promise
//	  assert:
//	    expr: steps.update.minAvailable >= 2 && steps.update.maxSurge <= 1
type Rollout struct {
	ObjectRef
	// Images sets container images, keyed by container name.
	Images map[string]string `json:"images,omitempty"`
	// Template is merged into spec.template (a JSON merge patch).
	Template map[string]any `json:"template,omitempty"`
	// Undo returns to the previous revision.
	Undo bool `json:"undo,omitempty"`
	// ToRevision, with undo, returns to this revision instead.
	ToRevision int64 `json:"toRevision,omitempty"`
}

// Default does nothing: Rollout has no defaults.
func (r *Rollout) Default() {}

// Validate checks that exactly one change is asked for.
func (r *Rollout) Validate() error {
	var errs scenario.FieldErrors
	r.validate(&errs, "", true)
	changes := 0
	for _, set := range []bool{len(r.Images) > 0, len(r.Template) > 0, r.Undo} {
		if set {
			changes++
		}
	}
	if changes != 1 {
		errs.Add("", "give exactly one of images, template or undo")
	}
	if r.ToRevision != 0 && !r.Undo {
		errs.Add("toRevision", "goes with undo")
	}
	if r.ToRevision < 0 {
		errs.Add("toRevision", "must be > 0")
	}
	return errs.Err()
}

// Run changes the template, then watches until the rollout completes.
func (r *Rollout) Run(ctx context.Context, env *step.Env) (any, error) {
	res, err := r.resolveFor(env, "rollout", "Deployment", "StatefulSet", "DaemonSet")
	if err != nil {
		return nil, err
	}
	start := env.Clock.Now()
	out := &model.RolloutOutput{MinAvailable: -1}
	var generation int64
	last := ""
	var surge *surgeWatch
	err = watchAround(ctx, r.query(res), func(ctx context.Context) error {
		if kindIs(res.mapping, "Deployment") {
			var err error
			if surge, err = watchSurge(ctx, env, res, r.Name); err != nil {
				return err
			}
		}
		patched, err := r.patch(ctx, env, res)
		if err != nil {
			return err
		}
		generation = patched.GetGeneration()
		return nil
	}, func(objs []*unstructured.Unstructured) (bool, error) {
		if len(objs) == 0 {
			return false, fmt.Errorf("%s was deleted during the rollout", r.String())
		}
		u := objs[0]
		desired, total, avail := replicaCounts(u)
		out.Desired = int(desired)
		if out.MinAvailable < 0 || int(avail) < out.MinAvailable {
			out.MinAvailable = int(avail)
		}
		out.MaxUnavailable = max(out.MaxUnavailable, int(desired-avail))
		if surge == nil {
			out.MaxSurge = max(out.MaxSurge, int(total-desired))
		}
		if generation == 0 || u.GetGeneration() < generation {
			return false, nil // the watch has not delivered the change yet
		}
		ok, why, failed := readiness(u)
		if failed != nil {
			return false, failed
		}
		last = why
		if ok {
			out.Revision, _ = strconv.ParseInt(u.GetAnnotations()[revisionAnnotation], 10, 64)
		}
		return ok, nil
	})
	out.MinAvailable = max(out.MinAvailable, 0)
	if surge != nil {
		surge.stop()
		out.MaxSurge = max(0, int(surge.peak())-out.Desired)
	}
	if err == nil && kindIs(res.mapping, "StatefulSet", "DaemonSet") {
		// A StatefulSet or DaemonSet numbers its revisions in
		// ControllerRevisions.
		var obj *unstructured.Unstructured
		if obj, err = res.client.Get(ctx, r.Name, metav1.GetOptions{}); err != nil {
			return out, fmt.Errorf("read %s: %w", r.String(), err)
		}
		if _, out.Revision, err = workloadRevisions(ctx, env, res.namespace, obj); err != nil {
			return out, err
		}
	}
	out.Duration.Duration = env.Clock.Since(start).Round(time.Millisecond)
	if isDeadline(err) {
		if last == "" {
			last = "the change was never seen on the workload"
		}
		return out, fmt.Errorf("timed out waiting for the rollout of %s: %s", r.String(), last)
	}
	return out, err
}

// patch sends the change and returns the object as patched.
func (r *Rollout) patch(ctx context.Context, env *step.Env, res *resolved) (*unstructured.Unstructured, error) {
	var pt types.PatchType
	var body any
	switch {
	case len(r.Images) > 0:
		names := slices.Sorted(maps.Keys(r.Images))
		containers := make([]map[string]any, len(names))
		for i, name := range names {
			containers[i] = map[string]any{"name": name, "image": r.Images[name]}
		}
		pt = types.StrategicMergePatchType
		body = map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": containers}}}}
	case len(r.Template) > 0:
		pt = types.MergePatchType
		body = map[string]any{"spec": map[string]any{"template": r.Template}}
	default:
		return r.undo(ctx, env, res)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	// Setting images, merging a template and replacing it are idempotent.
	out, err := res.client.Patch(ctx, r.Name, pt, data, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return nil, fmt.Errorf("roll out %s: %w", r.String(), err)
	}
	return out, nil
}

// revision is one of a workload's recorded pod templates.
type revision struct {
	number int64
	name   string
}

// undo returns the workload to its previous revision, or ToRevision, with
// kubectl's own rollback (polymorphichelpers): a Deployment from its
// ReplicaSets, a StatefulSet or a DaemonSet from its ControllerRevisions,
// with kubectl's checks (a paused Deployment, a revision that is not
// there). It is not retried: a second "previous revision" would be
// another one.
func (r *Rollout) undo(ctx context.Context, env *step.Env, res *resolved) (*unstructured.Unstructured, error) {
	obj, err := res.client.Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.String(), err)
	}
	rb, err := polymorphichelpers.RollbackerFor(res.mapping.GroupVersionKind.GroupKind(), env.Cluster.Typed)
	if err != nil {
		return nil, fmt.Errorf("undo %s: %w", r.String(), err)
	}
	dry := cmdutil.DryRunNone
	if env.Cluster.DryRun {
		dry = cmdutil.DryRunServer
	}
	said, err := rb.Rollback(obj, nil, r.ToRevision, dry)
	if err != nil {
		return nil, fmt.Errorf("undo %s: %w", r.String(), err)
	}
	env.Log.Info("rollout undo", "workload", r.String(), "result", said)
	if dry != cmdutil.DryRunNone {
		return obj, nil
	}
	return res.client.Get(ctx, r.Name, metav1.GetOptions{})
}

// workloadRevisions lists the revisions a Deployment, StatefulSet or
// DaemonSet owns and the number of the current one.
func workloadRevisions(ctx context.Context, env *step.Env, namespace string, obj *unstructured.Unstructured) ([]revision, int64, error) {
	kind := "ReplicaSet"
	if obj.GetKind() != "Deployment" {
		kind = "ControllerRevision"
	}
	mapping, err := env.Cluster.Mapping("apps/v1", kind)
	if err != nil {
		return nil, 0, err
	}
	list, err := env.Cluster.Resource(mapping, namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("list %ss: %w", kind, err)
	}
	var revisions []revision
	for _, item := range list.Items {
		owned := false
		for _, o := range item.GetOwnerReferences() {
			owned = owned || o.UID == obj.GetUID()
		}
		if !owned {
			continue
		}
		rev := revision{name: item.GetName()}
		if kind == "ReplicaSet" {
			if rev.number, err = strconv.ParseInt(item.GetAnnotations()[revisionAnnotation], 10, 64); err != nil {
				continue
			}
		} else {
			rev.number, _, _ = unstructured.NestedInt64(item.Object, "revision")
		}
		revisions = append(revisions, rev)
	}
	var current int64
	if kind == "ReplicaSet" {
		current, _ = strconv.ParseInt(obj.GetAnnotations()[revisionAnnotation], 10, 64)
	} else if name, ok, _ := unstructured.NestedString(obj.Object, "status", "updateRevision"); ok {
		for _, rev := range revisions {
			if rev.name == name {
				current = rev.number
			}
		}
	} else {
		// A DaemonSet names no current revision: it is the newest.
		for _, rev := range revisions {
			current = max(current, rev.number)
		}
	}
	return revisions, current, nil
}

// Plan says what would roll out.
func (r *Rollout) Plan(ctx context.Context, env *step.Env) (string, error) {
	res, err := r.resolveFor(env, "rollout", "Deployment", "StatefulSet", "DaemonSet")
	if err != nil {
		return "", err
	}
	what := "undo to the previous revision"
	switch {
	case len(r.Images) > 0:
		var parts []string
		for name, image := range r.Images {
			parts = append(parts, name+"="+image)
		}
		sort.Strings(parts)
		what = "set images " + strings.Join(parts, ", ")
	case len(r.Template) > 0:
		what = "merge a new pod template"
	case r.ToRevision != 0:
		what = fmt.Sprintf("undo to revision %d", r.ToRevision)
	}
	if _, err := res.client.Get(ctx, r.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return fmt.Sprintf("roll out %s: %s; %s", r.String(), what, notYet(r.String())), nil
	} else if err != nil {
		return "", err
	}
	if _, err := r.patch(ctx, env, res); err != nil {
		return fmt.Sprintf("roll out %s: %s", r.String(), what), err
	}
	return fmt.Sprintf("roll out %s: %s (accepted by the API server), then wait until it completes", r.String(), what), nil
}

// replicaCounts reads a workload's desired, current and available pod
// counts: a DaemonSet's by scheduled nodes, the others' by replicas.
func replicaCounts(u *unstructured.Unstructured) (desired, total, avail int64) {
	if u.GetKind() == "DaemonSet" {
		desired, _, _ = unstructured.NestedInt64(u.Object, "status", "desiredNumberScheduled")
		total, _, _ = unstructured.NestedInt64(u.Object, "status", "currentNumberScheduled")
		avail, _, _ = unstructured.NestedInt64(u.Object, "status", "numberAvailable")
		return desired, total, avail
	}
	desired, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		desired = 1
	}
	total, _, _ = unstructured.NestedInt64(u.Object, "status", "replicas")
	avail, _, _ = unstructured.NestedInt64(u.Object, "status", "availableReplicas")
	return desired, total, avail
}
