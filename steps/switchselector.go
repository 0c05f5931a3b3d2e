package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// SwitchSelector points a Service at other pods by changing its selector —
// the blue/green switch — and waits, watching EndpointSlices and pods,
// until the Service's ready endpoints are exactly the ready pods the new
// selector matches. With rollback it restores the selector an earlier
// switchSelector step replaced, and waits the same way.
//
// Example:
//
//	steps:
//	- name: switch to green
//	  switchSelector: {service: testing-service, selector: {version: "2.0"}}
//	- name: back to blue
//	  switchSelector: {rollback: switch to green}
type SwitchSelector struct {
	// Service to switch.
	Service string `json:"service,omitempty"`
	// Namespace of the Service; defaults to the scenario's namespace.
	Namespace string `json:"namespace,omitempty"`
	// Selector labels to set, merged into the current selector.
	Selector map[string]string `json:"selector,omitempty" domain:"labels"`
	// Replace the whole selector with the given labels instead of merging.
	Replace bool `json:"replace,omitempty"`
	// Rollback names an earlier switchSelector step whose change this step
	// undoes.
	Rollback string `json:"rollback,omitempty"`
}

// Default does nothing: SwitchSelector has no defaults.
func (s *SwitchSelector) Default() {}

// Validate checks that a switch or a rollback is asked for, not both.
func (s *SwitchSelector) Validate() error {
	var errs scenario.FieldErrors
	switch {
	case s.Rollback != "" && (s.Service != "" || len(s.Selector) > 0 || s.Replace):
		errs.Add("rollback", "a rollback restores an earlier step's selector: give it alone")
	case s.Rollback == "":
		if s.Service == "" {
			errs.Add("service", "required")
		}
		if len(s.Selector) == 0 {
			errs.Add("selector", "required: the labels the Service should select")
		}
	}
	return errs.Err()
}

// StepRefs names the switch a rollback undoes.
func (s *SwitchSelector) StepRefs() []scenario.StepRef {
	if s.Rollback == "" {
		return nil
	}
	return []scenario.StepRef{{Field: "rollback", Name: s.Rollback, Kind: "switchSelector"}}
}

// Run switches the selector and waits until the endpoints follow.
func (s *SwitchSelector) Run(ctx context.Context, env *step.Env) (any, error) {
	service, namespace, target, replace := s.Service, s.Namespace, s.Selector, s.Replace
	if s.Rollback != "" {
		prev, ok := env.Output(s.Rollback)
		if !ok {
			return nil, fmt.Errorf("rollback: no earlier step named %q has run", s.Rollback)
		}
		var earlier model.SwitchOutput
		if err := model.DecodeOutput(prev, &earlier); err != nil || earlier.Service == "" {
			return nil, fmt.Errorf("rollback: step %q is not a switchSelector", s.Rollback)
		}
		service, namespace, target, replace = earlier.Service, earlier.Namespace, earlier.PreviousSelector, true
	}
	if namespace == "" {
		namespace = env.Namespace
	}
	services := env.Cluster.Typed.CoreV1().Services(namespace)
	svc, err := services.Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read Service %s: %w", service, err)
	}
	out := &model.SwitchOutput{Service: service, Namespace: namespace, PreviousSelector: svc.Spec.Selector}
	next := maps.Clone(target)
	if !replace {
		next = maps.Clone(svc.Spec.Selector)
		if next == nil {
			next = map[string]string{}
		}
		maps.Copy(next, target)
	}
	out.Selector = next

	sliceMapping, err := env.Cluster.Mapping("discovery.k8s.io/v1", "EndpointSlice")
	if err != nil {
		return out, err
	}
	endpoints := objectsInformer(watchQuery{
		client:   env.Cluster.Resource(sliceMapping, namespace),
		selector: "kubernetes.io/service-name=" + service,
		cluster:  env.Cluster,
	})
	pods := podsInformer(env.Cluster.Typed.CoreV1().Pods(namespace), labels.SelectorFromSet(next).String(), env.Cluster.Typed)
	changed := make(chan struct{}, 1)
	poke := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify(changed) },
		UpdateFunc: func(any, any) { notify(changed) },
		DeleteFunc: func(any) { notify(changed) },
	}
	_, _ = endpoints.AddEventHandler(poke)
	_, _ = pods.AddEventHandler(poke)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go endpoints.RunWithContext(wctx)
	go pods.RunWithContext(wctx)
	for _, c := range []cache.DoneChecker{endpoints.HasSyncedChecker(), pods.HasSyncedChecker()} {
		select {
		case <-c.Done():
		case <-ctx.Done():
			return out, s.unreachable(ctx, endpoints, pods)
		}
	}
	out.EndpointsBefore = readyEndpoints(endpoints.GetStore())

	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"selector": next}})
	if err != nil {
		return out, err
	}
	pt := types.StrategicMergePatchType
	if replace {
		// A merge would keep labels the new selector drops.
		patch, _ = json.Marshal([]map[string]any{{"op": "replace", "path": "/spec/selector", "value": next}})
		pt = types.JSONPatchType
	}
	// Setting the selector to given labels is idempotent, as a merge or as
	// a JSON patch that replaces it.
	if _, err := services.Patch(ctx, service, pt, patch, metav1.PatchOptions{FieldManager: FieldManager}); err != nil {
		return out, fmt.Errorf("switch Service %s: %w", service, err)
	}

	for {
		want := readyPods(pods.GetStore())
		got := readyEndpoints(endpoints.GetStore())
		if slices.Equal(want, got) {
			out.EndpointsAfter = got
			return out, nil
		}
		select {
		case <-ctx.Done():
			if err := s.unreachable(ctx, endpoints, pods); !isDeadline(err) {
				return out, err
			}
			return out, fmt.Errorf("timed out waiting for Service %s to select exactly the ready pods matching %s: endpoints %v, ready pods %v",
				service, labels.SelectorFromSet(next), got, want)
		case <-changed:
		}
	}
}

func (s *SwitchSelector) unreachable(ctx context.Context, infs ...*informer) error {
	for _, inf := range infs {
		if err := inf.lastError(); err != nil {
			return &kube.InfraError{Err: fmt.Errorf("the API server was unreachable: %w", err)}
		}
	}
	return ctx.Err()
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// readyEndpoints names the pods behind the ready endpoints of the slices in
// the store, sorted.
func readyEndpoints(store cache.Store) []string {
	var names []string
	for _, obj := range store.List() {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		eps, _, _ := unstructured.NestedSlice(u.Object, "endpoints")
		for _, e := range eps {
			ep, _ := e.(map[string]any)
			if ready, found, _ := unstructured.NestedBool(ep, "conditions", "ready"); found && !ready {
				continue
			}
			if kind, _, _ := unstructured.NestedString(ep, "targetRef", "kind"); kind != "Pod" {
				continue
			}
			name, _, _ := unstructured.NestedString(ep, "targetRef", "name")
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// readyPods names the Running, Ready, not terminating pods in the store,
// sorted.
func readyPods(store cache.Store) []string {
	var names []string
	for _, obj := range store.List() {
		p, ok := obj.(*podState)
		if ok && p.DeletionTimestamp == nil && p.Phase == corev1.PodRunning && p.Ready {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Plan says which selector the Service would get.
func (s *SwitchSelector) Plan(ctx context.Context, env *step.Env) (string, error) {
	if s.Rollback != "" {
		return fmt.Sprintf("restore the selector step %q replaced, then wait for the endpoints", s.Rollback), nil
	}
	ns := s.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	svc, err := env.Cluster.Typed.CoreV1().Services(ns).Get(ctx, s.Service, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("switch Service %s to %v; %s", s.Service, s.Selector, notYet("Service "+s.Service)), nil
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("switch Service %s from %v to %v (replace: %v), then wait until its ready endpoints are exactly the matching ready pods", s.Service, svc.Spec.Selector, s.Selector, s.Replace), nil
}

// Subjects names the Service being switched.
func (s *SwitchSelector) Subjects() []step.Subject {
	if s.Service == "" {
		return nil
	}
	return []step.Subject{{Kind: "Service", Name: s.Service, Namespace: s.Namespace}}
}
