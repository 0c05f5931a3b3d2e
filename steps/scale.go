package steps

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Scale sets the replica count of a Deployment, ReplicaSet, StatefulSet or
// ReplicationController through its scale subresource, and by default waits
// until that many replicas are available.
//
// Example:
//
//	steps:
//	- name: scale up
//	  scale: {kind: Deployment, name: webapp, replicas: 3}
type Scale struct {
	ObjectRef
	// Replicas is the new desired count.
	Replicas *int32 `json:"replicas"`
	// Wait until the workload has exactly that many replicas, all available
	// (default true).
	Wait *bool `json:"wait,omitempty"`
}

// Default turns waiting on.
func (s *Scale) Default() {
	if s.Wait == nil {
		s.Wait = ptrTo(true)
	}
}

// Validate checks the reference and the count.
func (s *Scale) Validate() error {
	var errs scenario.FieldErrors
	s.validate(&errs, "", true)
	if s.Replicas == nil {
		errs.Add("replicas", "required")
	} else if *s.Replicas < 0 {
		errs.Add("replicas", "must be >= 0")
	}
	return errs.Err()
}

// scaleKinds are what scale works on.
var scaleKinds = []string{"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"}

// Run patches the scale subresource and waits for the new availability.
func (s *Scale) Run(ctx context.Context, env *step.Env) (any, error) {
	res, err := s.resolveFor(env, "scale", scaleKinds...)
	if err != nil {
		return nil, err
	}
	cur, err := res.client.Get(ctx, s.Name, metav1.GetOptions{}, "scale")
	if err != nil {
		return nil, fmt.Errorf("read scale of %s: %w", s.String(), err)
	}
	prev, _, _ := unstructured.NestedInt64(cur.Object, "spec", "replicas")
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, *s.Replicas)
	if _, err := res.client.Patch(ctx, s.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager}, "scale"); err != nil {
		return nil, fmt.Errorf("scale %s: %w", s.String(), err)
	}
	out := &model.ScaleOutput{Previous: prev, Replicas: *s.Replicas}
	if !*s.Wait {
		return out, nil
	}
	return out, waitReady(ctx, s.query(res), s.String())
}

// Plan says what the replica count would become.
func (s *Scale) Plan(ctx context.Context, env *step.Env) (string, error) {
	res, err := s.resolveFor(env, "scale", scaleKinds...)
	if err != nil {
		return "", err
	}
	cur, err := res.client.Get(ctx, s.Name, metav1.GetOptions{}, "scale")
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("scale %s to %d; %s", s.String(), *s.Replicas, notYet(s.String())), nil
	} else if err != nil {
		return "", err
	}
	prev, _, _ := unstructured.NestedInt64(cur.Object, "spec", "replicas")
	return fmt.Sprintf("scale %s from %d to %d replicas, then wait until they are available", s.String(), prev, *s.Replicas), nil
}
