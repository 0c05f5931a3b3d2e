package steps

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// ObjectRef names one object by kind and name, or a set of objects by kind
// and label selector.
type ObjectRef struct {
	// APIVersion of the kind, such as apps/v1. Empty: the kind is looked up in
	// every group the cluster serves, built-in groups first.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the object: Deployment, or a plural, singular or short name
	// (deployments, deploy).
	Kind string `json:"kind"`
	// Name of one object.
	Name string `json:"name,omitempty"`
	// Selector picks objects by labels, as kubectl's -l does: "app=web,tier!=db".
	Selector string `json:"selector,omitempty"`
	// All picks every object of the kind in the namespace, instead of a
	// name or a selector (the NetworkPolicies a student wrote, whatever
	// their labels).
	All bool `json:"all,omitempty"`
	// Namespace of the object; defaults to the scenario's namespace. Ignored
	// for cluster-scoped kinds.
	Namespace string `json:"namespace,omitempty"`
}

// validate checks the reference; field prefixes errors, and needOne
// demands a name (no selector).
func (r *ObjectRef) validate(errs *scenario.FieldErrors, field string, needOne bool) {
	if r.Kind == "" {
		errs.Add(joinField(field, "kind"), "required")
	}
	switch {
	case needOne && r.Name == "":
		errs.Add(joinField(field, "name"), "required")
	case needOne && r.All:
		errs.Add(joinField(field, "all"), "this step acts on one object: give a name")
	case r.All && (r.Name != "" || r.Selector != ""):
		errs.Add(joinField(field, "all"), "give all, a name or a selector: one of them")
	case needOne && r.Selector != "":
		errs.Add(joinField(field, "selector"), "this step acts on one object: give a name, not a selector")
	case r.Name != "" && r.Selector != "":
		errs.Add(joinField(field, "selector"), "give a name or a selector, not both")
	case !needOne && r.Name == "" && r.Selector == "" && !r.All:
		errs.Add(field, "give a name or a selector (or all: true)")
	}
}

func (r *ObjectRef) String() string {
	target := r.Name
	switch {
	case r.All:
		target = "(all)"
	case target == "":
		target = "-l " + r.Selector
	}
	return fmt.Sprintf("%s %s", r.Kind, target)
}

// resolved is a reference bound to a cluster resource.
type resolved struct {
	mapping   *meta.RESTMapping
	client    dynamic.ResourceInterface
	namespace string
	cluster   *kube.Cluster
}

// resolve finds the resource for the reference in the scenario's cluster.
func (r *ObjectRef) resolve(env *step.Env) (*resolved, error) {
	m, err := env.Cluster.Mapping(r.APIVersion, r.Kind)
	if err != nil {
		return nil, err
	}
	ns := r.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		ns = ""
	}
	return &resolved{mapping: m, client: env.Cluster.Resource(m, ns), namespace: ns, cluster: env.Cluster}, nil
}

// query is the watch that follows the reference's objects.
func (r *ObjectRef) query(res *resolved) watchQuery {
	return watchQuery{client: res.client, name: r.Name, selector: r.Selector, cluster: res.cluster}
}

func joinField(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// kindIs reports whether a mapping is the given kind, case-insensitively.
// resolveFor resolves the reference for an action that works on these
// kinds only, and says which when it names another.
func (r *ObjectRef) resolveFor(env *step.Env, action string, kinds ...string) (*resolved, error) {
	res, err := r.resolve(env)
	if err != nil {
		return nil, err
	}
	if !kindIs(res.mapping, kinds...) {
		plural := make([]string, len(kinds))
		for i, k := range kinds {
			plural[i] = k + "s"
		}
		last := len(plural) - 1
		return nil, fmt.Errorf("%s works on %s and %s, not %s", action, strings.Join(plural[:last], ", "), plural[last], res.mapping.GroupVersionKind.Kind)
	}
	return res, nil
}

func kindIs(m *meta.RESTMapping, kinds ...string) bool {
	for _, k := range kinds {
		if strings.EqualFold(m.GroupVersionKind.Kind, k) {
			return true
		}
	}
	return false
}

// Subjects names the referenced object, for the diagnostics of a failure;
// kinds that embed an ObjectRef (delete, patch, scale, rollout) get it.
func (r ObjectRef) Subjects() []step.Subject {
	if r.Name == "" {
		return nil
	}
	return []step.Subject{{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}}
}

// subjectsOf gathers the subjects of several references.
func subjectsOf(refs ...*ObjectRef) []step.Subject {
	var out []step.Subject
	for _, r := range refs {
		if r != nil {
			out = append(out, r.Subjects()...)
		}
	}
	return out
}
