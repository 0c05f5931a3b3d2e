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
