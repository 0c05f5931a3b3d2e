package steps

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/kdrill/kdrill/step"
)

// Objects an apply writes outside the run's namespace (cluster-scoped
// kinds, or a manifest that names another namespace) outlive the
// namespace's deletion. Those the apply created are removed when the
// scenario ends (step.Env.Created); those that were there before are the
// cluster's and stay.

// outside reports whether the object lives outside the run's namespace.
func outside(env *step.Env, t applyTarget) bool {
	if t.mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		// The run's own namespace, applied as an object, goes with the run.
		return t.obj.GetKind() != "Namespace" || t.obj.GetName() != env.Namespace
	}
	return t.obj.GetNamespace() != env.Namespace
}

// createdOutside reports whether applying t will create an object outside
// the run's namespace: one the cluster does not have yet.
func createdOutside(ctx context.Context, env *step.Env, client dynamic.ResourceInterface, t applyTarget) (bool, error) {
	if !outside(env, t) {
		return false, nil
	}
	_, err := client.Get(ctx, t.obj.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case apierrors.IsForbidden(err):
		// Not allowed to look: whether the apply creates it is unknown, so
		// it is not removed; the apply says whether it may write it.
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read %s %s before applying it: %w", t.obj.GetKind(), t.obj.GetName(), err)
	}
	return false, nil
}

// removeAtEnd asks for the object to be deleted when the scenario ends,
// if it is still the one the apply created (its uid).
func removeAtEnd(env *step.Env, client dynamic.ResourceInterface, t applyTarget, uid types.UID) {
	what := t.obj.GetKind() + " " + t.obj.GetName()
	if ns := t.obj.GetNamespace(); ns != "" {
		what += " in namespace " + ns
	}
	name := t.obj.GetName()
	env.Created(what, func(ctx context.Context) (string, error) {
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
		err := client.Delete(ctx, name, opts)
		switch {
		case apierrors.IsNotFound(err):
			return "", nil // a later step deleted it
		case apierrors.IsConflict(err):
			return "", nil // replaced since: no longer the object the run created
		case err != nil:
			return "", err
		}
		return "deleted " + what, nil
	})
}
