package steps

import (
	"fmt"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// readiness says whether an object has reached the state its kind
// promises, as kstatus computes it (the library Helm 4 and Flux wait
// with): workloads with every replica updated and available, a Pod Ready,
// a Job complete, and any kind, custom resources included, whose standard
// conditions (Ready, Reconciling, Stalled) say it is current. A kind
// without status is ready once it exists. failed is set when the object
// can no longer become ready, such as a rollout past its progress
// deadline, with its own message.
func readiness(u *unstructured.Unstructured) (ready bool, why string, failed error) {
	if u.GetKind() == "Job" && u.GroupVersionKind().Group == "batch" {
		return jobReadiness(u)
	}
	res, err := kstatus.Compute(u)
	if err != nil {
		// A status kstatus cannot read is not ready yet, and not a failure:
		// the next change may fix it.
		return false, err.Error(), nil //nolint:nilerr // not ready, with the reason
	}
	switch res.Status {
	case kstatus.CurrentStatus:
		return true, "", nil
	case kstatus.FailedStatus:
		msg := res.Message
		for _, c := range res.Conditions {
			if c.Type == kstatus.ConditionStalled && c.Message != "" {
				msg += ": " + c.Message
			}
		}
		what := "failed"
		if u.GetKind() == "Deployment" {
			what = "rollout stalled"
		}
		return false, "", fmt.Errorf("%s %s: %s", u.GetKind(), what, msg)
	}
	return false, res.Message, nil
}

// jobReadiness says whether a Job is complete: kstatus calls a Job that
// runs current, but a Job is ready when its Complete condition is true,
// and failed when its Failed condition is.
func jobReadiness(u *unstructured.Unstructured) (ready bool, why string, failed error) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		cond, _ := c.(map[string]any)
		if cond["status"] != "True" {
			continue
		}
		switch cond["type"] {
		case "Complete":
			return true, "", nil
		case "Failed":
			return false, "", fmt.Errorf("%s failed: %v: %v", u.GetKind(), cond["reason"], cond["message"])
		}
	}
	succeeded, _, _ := unstructured.NestedInt64(u.Object, "status", "succeeded")
	active, _, _ := unstructured.NestedInt64(u.Object, "status", "active")
	completions, found, _ := unstructured.NestedInt64(u.Object, "spec", "completions")
	if !found {
		completions = 1
	}
	return false, fmt.Sprintf("Job not complete: %d of %d completions, %d running", succeeded, completions, active), nil
}
