package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Delete removes one object by name, or every object a label selector
// matches, and waits until they are gone.
//
// Example:
//
//	steps:
//	- name: remove blue
//	  delete: {kind: Deployment, name: testing-service-v1}
type Delete struct {
	ObjectRef
	// Propagation of the deletion to dependents: Background, Foreground or
	// Orphan (default Background).
	Propagation string `json:"propagation,omitempty" enum:"Background,Foreground,Orphan"`
	// GracePeriodSeconds overrides the objects' termination grace period.
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
	// MustExist fails the step when nothing matched (default false).
	MustExist bool `json:"mustExist,omitempty"`
	// Wait until the objects are gone (default true).
	Wait *bool `json:"wait,omitempty"`
	// AllowUnsafe permits deleting in a system namespace (kube-system,
	// kube-public, kube-node-lease), or one of those namespaces itself.
	// Default false.
	AllowUnsafe bool `json:"allowUnsafe,omitempty"`
}

// Default sets Background propagation and waiting.
func (d *Delete) Default() {
	if d.Propagation == "" {
		d.Propagation = string(metav1.DeletePropagationBackground)
	}
	if d.Wait == nil {
		d.Wait = ptrTo(true)
	}
}

// Validate checks the reference and the propagation policy.
func (d *Delete) Validate() error {
	var errs scenario.FieldErrors
	d.validate(&errs, "", false)
	switch metav1.DeletionPropagation(d.Propagation) {
	case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
	default:
		errs.Add("propagation", "must be Background, Foreground or Orphan, not %q", d.Propagation)
	}
	if d.GracePeriodSeconds != nil && *d.GracePeriodSeconds < 0 {
		errs.Add("gracePeriodSeconds", "must be >= 0")
	}
	return errs.Err()
}

// Run deletes the objects and waits for them to disappear.
func (d *Delete) Run(ctx context.Context, env *step.Env) (any, error) {
	res, err := d.resolve(env)
	if err != nil {
		return nil, err
	}
	policy := metav1.DeletionPropagation(d.Propagation)
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, GracePeriodSeconds: d.GracePeriodSeconds}
	out := &model.DeleteOutput{Deleted: []string{}}
	// The wait follows the objects deleted, by uid: a controller that makes
	// one again under the same name (a StatefulSet's pod) or the same labels
	// makes another object, which the wait must not take for this one.
	deleted := map[types.UID]bool{}
	if d.Name != "" {
		obj, err := res.client.Get(ctx, d.Name, metav1.GetOptions{})
		if err == nil {
			uid := obj.GetUID()
			opts.Preconditions = &metav1.Preconditions{UID: &uid}
			err = res.client.Delete(ctx, d.Name, opts)
			if apierrors.IsConflict(err) {
				err = nil // it was deleted, and another made, meanwhile
			}
			deleted[uid] = true
		}
		switch {
		case apierrors.IsNotFound(err):
			if d.MustExist {
				return out, fmt.Errorf("%s not found", d.String())
			}
		case err != nil:
			return out, fmt.Errorf("delete %s: %w", d.String(), err)
		default:
			out.Deleted = append(out.Deleted, d.Name)
		}
	} else {
		list, err := res.client.List(ctx, metav1.ListOptions{LabelSelector: d.Selector})
		if err != nil {
			return out, fmt.Errorf("list %s: %w", d.String(), err)
		}
		if len(list.Items) == 0 && d.MustExist {
			return out, fmt.Errorf("nothing matched %s", d.String())
		}
		for _, item := range list.Items {
			if err := res.client.Delete(ctx, item.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
				return out, fmt.Errorf("delete %s %s: %w", item.GetKind(), item.GetName(), err)
			}
			out.Deleted = append(out.Deleted, item.GetName())
			deleted[item.GetUID()] = true
		}
	}
	if !*d.Wait || len(out.Deleted) == 0 {
		return out, nil
	}
	remaining := 0
	err = watchUntil(ctx, d.query(res), func(objs []*unstructured.Unstructured) (bool, error) {
		remaining = 0
		for _, o := range objs {
			if deleted[o.GetUID()] {
				remaining++
			}
		}
		return remaining == 0, nil
	})
	if isDeadline(err) {
		return out, fmt.Errorf("timed out waiting for %s to be gone: %d left", d.String(), remaining)
	}
	return out, err
}

// TargetNamespaces names where the objects are, for the safety policy; a
// Namespace object is its own.
func (d *Delete) TargetNamespaces() []string {
	if isNamespaceKind(d.APIVersion, d.Kind) && d.Name != "" {
		return []string{d.Name}
	}
	return []string{d.Namespace}
}

// AllowsUnsafe says whether the step lifted the safety policy.
func (d *Delete) AllowsUnsafe() bool { return d.AllowUnsafe }

// isNamespaceKind reports whether a kind, as a scenario may write it, is
// the core Namespace.
func isNamespaceKind(apiVersion, kind string) bool {
	return (apiVersion == "" || apiVersion == "v1") && slices.Contains([]string{"namespace", "namespaces", "ns"}, strings.ToLower(kind))
}

func ptrTo[T any](v T) *T { return &v }

// Plan names what would be deleted now.
func (d *Delete) Plan(ctx context.Context, env *step.Env) (string, error) {
	res, err := d.resolve(env)
	if err != nil {
		return "", err
	}
	if d.Name != "" {
		if _, err := res.client.Get(ctx, d.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return "delete " + notYet(d.String()), nil
		} else if err != nil {
			return "", err
		}
		return "delete " + d.String(), res.client.Delete(ctx, d.Name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
	}
	list, err := res.client.List(ctx, metav1.ListOptions{LabelSelector: d.Selector})
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		names = append(names, item.GetName())
	}
	return fmt.Sprintf("delete %s: %d match now: %s", d.String(), len(names), strings.Join(names, ", ")), nil
}
