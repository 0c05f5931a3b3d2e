package steps

import (
	"context"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Events waits until an expression over the events of an object holds —
// with children, also the events of what it owns: a Deployment's
// ReplicaSets and their Pods. Events are watched, not polled. It shows, for
// instance, that a ReplicaSet could not create pods because a compute quota
// wants requests and limits.
//
// Example:
//
//	steps:
//	- name: quota blocks pods without limits
//	  events:
//	    resource: {kind: Deployment, name: nginx}
//	    children: true
//	    expr: any(events, .reason == "FailedCreate" && .message contains "must specify limits.cpu")
type Events struct {
	// Resource whose events count: kind and name.
	Resource ObjectRef `json:"resource"`
	// Children adds the events of the objects the resource owns, and of the
	// objects those own.
	Children bool `json:"children,omitempty"`
	// Expr must become true; it sees events (a list of Event objects, oldest
	// first) and object (the resource).
	Expr expression.Expr `json:"expr"`
}

// Default does nothing: Events has no defaults.
func (e *Events) Default() {}

// Validate checks the resource and the expression.
func (e *Events) Validate() error {
	var errs scenario.FieldErrors
	e.Resource.validate(&errs, "resource", true)
	if e.Expr.IsZero() {
		errs.Add("expr", `required, such as any(events, .reason == "FailedCreate")`)
	}
	return errs.Err()
}

// ExprNames adds events and object to the expression environment.
func (e *Events) ExprNames() map[string]any {
	return map[string]any{"events": []any{}, "object": map[string]any{}}
}

// Run watches the namespace's events until the expression holds.
func (e *Events) Run(ctx context.Context, env *step.Env) (any, error) {
	res, err := e.Resource.resolve(env)
	if err != nil {
		return nil, err
	}
	obj, err := res.client.Get(ctx, e.Resource.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Resource.String(), err)
	}
	eventMapping, err := env.Cluster.Mapping("v1", "Event")
	if err != nil {
		return nil, err
	}
	family := &ownedSet{env: env, namespace: res.namespace, uids: map[string]bool{string(obj.GetUID()): true}, checked: map[string]bool{}}
	out := &model.EventsOutput{Reasons: map[string]int{}}
	var lastValues map[string]any
	var lastErr error
	err = watchUntil(ctx, watchQuery{client: env.Cluster.Resource(eventMapping, res.namespace), cluster: env.Cluster}, func(objs []*unstructured.Unstructured) (bool, error) {
		if e.Children {
			if err := family.learn(ctx, objs); err != nil {
				return false, err
			}
		}
		var matched []*unstructured.Unstructured
		for _, ev := range objs {
			uid, _, _ := unstructured.NestedString(ev.Object, "involvedObject", "uid")
			if family.uids[uid] {
				matched = append(matched, ev)
			}
		}
		sortEvents(matched)
		list := make([]any, len(matched))
		reasons := map[string]int{}
		for i, ev := range matched {
			list[i] = ev.Object
			r, _, _ := unstructured.NestedString(ev.Object, "reason")
			reasons[r]++
		}
		ok, values, err := e.Expr.Eval(env.ExprEnv(map[string]any{"events": list, "object": obj.Object}))
		lastValues, lastErr = values, err
		env.Observe(e.Expr.Source, values)
		if ok && err == nil {
			out.Events, out.Reasons = len(matched), reasons
			return true, nil
		}
		return false, nil
	})
	if isDeadline(err) {
		msg := fmt.Sprintf("expected %s over the events of %s; it did not hold", e.Expr.Source, e.Resource.String())
		return out, &AssertionError{Msg: msg + expression.Seen(lastValues, lastErr)}
	}
	return out, err
}

// ownedSet is an object and, transitively, what it owns, found through the
// owner references of the kinds that own pods.
type ownedSet struct {
	env       *step.Env
	namespace string
	uids      map[string]bool
	checked   map[string]bool // event subjects already looked up
}

// learn adds owned objects when events name subjects not yet known, and
// lists ReplicaSets and Pods only then.
func (o *ownedSet) learn(ctx context.Context, events []*unstructured.Unstructured) error {
	fresh := false
	for _, ev := range events {
		uid, _, _ := unstructured.NestedString(ev.Object, "involvedObject", "uid")
		if !o.uids[uid] && !o.checked[uid] {
			o.checked[uid] = true
			fresh = true
		}
	}
	if !fresh {
		return nil
	}
	for _, kind := range []struct{ apiVersion, kind string }{{"apps/v1", "ReplicaSet"}, {"v1", "Pod"}} {
		m, err := o.env.Cluster.Mapping(kind.apiVersion, kind.kind)
		if err != nil {
			return err
		}
		list, err := o.env.Cluster.Resource(m, o.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list %ss: %w", kind.kind, err)
		}
		for _, item := range list.Items {
			for _, ref := range item.GetOwnerReferences() {
				if o.uids[string(ref.UID)] {
					o.uids[string(item.GetUID())] = true
				}
			}
		}
	}
	return nil
}

// sortEvents orders events oldest first by their last (or event) time.
func sortEvents(evs []*unstructured.Unstructured) {
	when := func(u *unstructured.Unstructured) time.Time {
		for _, f := range []string{"lastTimestamp", "eventTime", "firstTimestamp"} {
			if s, _, _ := unstructured.NestedString(u.Object, f); s != "" {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					return t
				}
			}
		}
		return u.GetCreationTimestamp().Time
	}
	sort.SliceStable(evs, func(i, j int) bool { return when(evs[i]).Before(when(evs[j])) })
}

// Subjects names the object whose events are read.
func (e *Events) Subjects() []step.Subject { return subjectsOf(&e.Resource) }
