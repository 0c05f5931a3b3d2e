package steps

import (
	"fmt"
)

// The plans of kdrill run --dry-run. The cluster's writes are server-side
// dry runs (kube.Connection.DryRun adds dryRun=All to each), so a plan may
// send them as a run would and report what the API server said.

// notYet words a target that does not exist when the plan is made: an
// earlier step of a real run would create it.
func notYet(what string) string {
	return fmt.Sprintf("%s does not exist now; an earlier step of the run may create it", what)
}

func orCluster(ns string) string {
	if ns == "" {
		return "the cluster"
	}
	return "namespace " + ns
}
