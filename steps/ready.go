package steps

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// readiness says whether an object has reached the state its kind promises:
// a Deployment, ReplicaSet, StatefulSet or ReplicationController has all its
// replicas updated and available, a DaemonSet is available on every node it
// should run on, a Pod is Ready, a Job is Complete. Any other kind is ready
// once it exists. failed is set when the object can no longer become ready.
func readiness(u *unstructured.Unstructured) (ready bool, why string, failed error) {
	gen := u.GetGeneration()
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	status := func(field string) int64 {
		v, _, _ := unstructured.NestedInt64(u.Object, "status", field)
		return v
	}
	switch u.GetKind() {
	case "Deployment", "ReplicaSet", "StatefulSet", "ReplicationController":
		want, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		if !found {
			want = 1
		}
		if observed < gen {
			return false, fmt.Sprintf("generation %d not yet observed (at %d)", gen, observed), nil
		}
		if u.GetKind() == "Deployment" {
			if msg := deploymentStalled(u); msg != "" {
				return false, "", fmt.Errorf("rollout stalled: %s", msg)
			}
			if up := status("updatedReplicas"); up != want {
				return false, fmt.Sprintf("%d of %d replicas updated", up, want), nil
			}
		}
		if u.GetKind() == "StatefulSet" {
			if up := status("updatedReplicas"); want > 0 && up != want {
				return false, fmt.Sprintf("%d of %d replicas updated", up, want), nil
			}
		}
		avail := status("availableReplicas")
		if total := status("replicas"); total != want {
			return false, fmt.Sprintf("%d replicas exist, want %d", total, want), nil
		}
		if avail != want {
			return false, fmt.Sprintf("%d of %d replicas available", avail, want), nil
		}
		return true, "", nil
	case "DaemonSet":
		want := status("desiredNumberScheduled")
		if observed < gen {
			return false, "generation not yet observed", nil
		}
		if got := status("numberAvailable"); got != want || status("updatedNumberScheduled") != want {
			return false, fmt.Sprintf("%d of %d pods available", got, want), nil
		}
		return true, "", nil
	case "Pod":
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		switch phase {
		case "Succeeded":
			return true, "", nil
		case "Failed":
			return false, "", fmt.Errorf("pod failed")
		}
		if conditionTrue(u, "Ready") {
			return true, "", nil
		}
		return false, fmt.Sprintf("pod is %s, not Ready", orUnknown(phase)), nil
	case "Job":
		if conditionTrue(u, "Complete") {
			return true, "", nil
		}
		if conditionTrue(u, "Failed") {
			return false, "", fmt.Errorf("job failed: %s", conditionMessage(u, "Failed"))
		}
		return false, fmt.Sprintf("%d succeeded, %d active", status("succeeded"), status("active")), nil
	}
	return true, "", nil
}

// deploymentStalled returns the Progressing condition's message once the
// Deployment has passed its progress deadline.
func deploymentStalled(u *unstructured.Unstructured) string {
	for _, c := range conditions(u) {
		if c["type"] == "Progressing" && c["status"] == "False" && c["reason"] == "ProgressDeadlineExceeded" {
			msg, _ := c["message"].(string)
			return msg
		}
	}
	return ""
}

func conditions(u *unstructured.Unstructured) []map[string]any {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func conditionTrue(u *unstructured.Unstructured, typ string) bool {
	for _, c := range conditions(u) {
		if c["type"] == typ && c["status"] == "True" {
			return true
		}
	}
	return false
}

func conditionMessage(u *unstructured.Unstructured, typ string) string {
	for _, c := range conditions(u) {
		if c["type"] == typ {
			msg, _ := c["message"].(string)
			return msg
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "Pending"
	}
	return s
}
