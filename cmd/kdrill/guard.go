package main

import (
	"fmt"
	"strings"

	"github.com/kdrill/kdrill/runner"
)

// localContexts are the kubeconfig contexts of local development clusters
// (kdrill's own is kwok-kdrill), where deleting and killing is expected.
var localContexts = []string{"kwok-*", "kind-*", "k3d-*", "minikube", "docker-desktop", "rancher-desktop", "orbstack"}

// checkContexts refuses, before anything is sent, to run a scenario that
// deletes or kills against a context that is neither local, nor allowed by
// --allow-context, nor named in the scenario's spec.contexts: a nightly job
// pointed at production by mistake stops here.
func checkContexts(scenarios []*runner.Scenario, context string, allow []string) error {
	if context == "" {
		context = inCluster // no kubeconfig context: the pod's own service account
	}
	var errs runner.LoadErrors
	for _, s := range scenarios {
		st := s.DestructiveStep()
		if st == nil {
			continue
		}
		patterns := append(append(append([]string{}, localContexts...), allow...), s.Spec.Contexts...)
		if matchesContext(patterns, context) {
			continue
		}
		errs = append(errs, &runner.LoadError{
			File: s.File, Line: st.Line, Step: st.Label(),
			Msg: fmt.Sprintf("this scenario deletes or kills, and the kubeconfig context %q is not one it may touch: "+
				"pass --allow-context %s if you mean it, or list the context in spec.contexts (allowed: %s)",
				context, context, strings.Join(patterns, ", ")),
		})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// inCluster names the context of in-cluster configuration, for
// --allow-context.
const inCluster = "(in-cluster)"

func matchesContext(patterns []string, context string) bool {
	for _, p := range patterns {
		if runner.GlobMatch(p, context) {
			return true
		}
	}
	return false
}
