package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
)

// The safety policy. Steps that disrupt (delete, kill, evict, and any kind
// that declares no effect) are held to it at three points, so no caller of
// this package and no step kind can get around it:
//
//   - at load, for the namespaces a step names and the scenario's own;
//   - before a run starts (CheckPolicy, which Run calls too), for -n and for
//     the kubeconfig context;
//   - on the wire: every DELETE and eviction the cluster's clients send is
//     refused when its namespace is a system namespace, unless the step that
//     sends it allows it.

// Targeter is implemented by disrupting actions that name the namespaces
// they act in (a workload's, the step's own); "" stands for the scenario's.
// An action that does not implement it acts in the scenario's namespace.
type Targeter interface {
	TargetNamespaces() []string
}

// Unsafe is implemented by actions that can be told to go where the safety
// policy would refuse them (allowUnsafe: true).
type Unsafe interface {
	AllowsUnsafe() bool
}

// AllowsUnsafe reports whether the step lifted the safety policy.
func (s *Step) AllowsUnsafe() bool {
	u, ok := s.Action.(Unsafe)
	return s.AllowUnsafe || (ok && u.AllowsUnsafe())
}

// checkNamespaces returns a message for the first system namespace a
// disrupting step would act in, when scenarioNS stands for "", or "".
func checkNamespaces(st *Step, scenarioNS, how string) string {
	if st.Action == nil || st.Effect() != Disrupts || st.AllowsUnsafe() {
		return ""
	}
	targets := []string{""}
	if t, ok := st.Action.(Targeter); ok && len(t.TargetNamespaces()) > 0 {
		targets = t.TargetNamespaces()
	}
	for _, ns := range targets {
		via := ""
		if ns == "" {
			ns, via = scenarioNS, how
		}
		if kube.IsSystemNamespace(ns) {
			return kube.SystemNamespaceRefusal(ns, via)
		}
	}
	return ""
}

// PolicyOptions are what the policy checks a run against before it starts.
type PolicyOptions struct {
	// Namespace is -n: every scenario's namespace when set.
	Namespace string
	// Context is the kubeconfig context the run talks to ("" in a pod).
	Context string
	// AllowContexts are patterns (* for any text) of contexts where
	// disrupting scenarios may run, besides LocalContexts.
	AllowContexts []string
	// DryRun runs change nothing, so the context guard does not apply.
	DryRun bool
}

// LocalContexts are the kubeconfig contexts of local development clusters
// (kdrill's own is kwok-kdrill), where disrupting is expected.
var LocalContexts = []string{"kwok-*", "kind-*", "k3d-*", "minikube", "docker-desktop", "rancher-desktop", "orbstack"}

// InCluster names the context of in-cluster configuration, for
// --allow-context.
const InCluster = "(in-cluster)"

// CheckPolicy refuses, before anything is sent, a run whose disrupting
// steps would act in a system namespace through -n, or that would disrupt
// through a kubeconfig context that is neither local, nor allowed, nor
// listed in the scenario's spec.contexts. Run calls it too.
func CheckPolicy(scenarios []*Scenario, opts PolicyOptions) error {
	var errs LoadErrors
	for _, s := range scenarios {
		ns, how := s.Spec.Namespace, ", the scenario's namespace"
		if opts.Namespace != "" {
			ns, how = opts.Namespace, " (given with -n)"
		}
		for _, st := range s.AllSteps() {
			if msg := checkNamespaces(st, ns, how); msg != "" {
				errs = append(errs, &LoadError{File: s.File, Line: st.Line, Step: st.Label(), Field: st.Kind, Msg: msg})
			}
		}
		if opts.DryRun {
			continue
		}
		if le := checkContext(s, opts); le != nil {
			errs = append(errs, le)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func checkContext(s *Scenario, opts PolicyOptions) *LoadError {
	for _, st := range s.AllSteps() {
		if st.Effect() != Disrupts {
			continue
		}
		context := opts.Context
		if ref, ok := s.Spec.Clusters[st.Cluster]; ok {
			context = ref.Context // a step on one of the scenario's clusters
		}
		if context == "" {
			context = InCluster // no kubeconfig context: the pod's own service account
		}
		// The command line (and the local clusters) say where disrupting is
		// allowed; a scenario's spec.contexts can narrow that, never widen it:
		// a file on a shared runner cannot allow itself everywhere.
		matches := func(patterns []string) bool {
			return slices.ContainsFunc(patterns, func(p string) bool { return model.GlobMatch(p, context) })
		}
		allowed := slices.Concat(LocalContexts, opts.AllowContexts)
		switch {
		case !matches(allowed):
			return &LoadError{
				File: s.File, Line: st.Line, Step: st.Label(),
				Msg: fmt.Sprintf("this scenario disrupts (%s %s), and the kubeconfig context %q is not one it may touch: "+
					"pass --allow-context %s if you mean it (allowed: %s; a scenario's spec.contexts can narrow this, not widen it)",
					st.Kind, st.Effect(), context, context, strings.Join(allowed, ", ")),
			}
		case len(s.Spec.Contexts) > 0 && !matches(s.Spec.Contexts):
			return &LoadError{
				File: s.File, Line: st.Line, Step: st.Label(),
				Msg: fmt.Sprintf("this scenario disrupts (%s %s), and its spec.contexts (%s) does not list the kubeconfig context %q",
					st.Kind, st.Effect(), strings.Join(s.Spec.Contexts, ", "), context),
			}
		}
	}
	return nil
}
