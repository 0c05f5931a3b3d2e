package testcluster

import (
	"context"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RealNodeLabel marks the local cluster's real node: the one that runs
// containers (kubelet, containerd), beside kwok's simulated nodes. It is
// tainted with the same key (NoSchedule), so only pods that ask land there.
const RealNodeLabel = "kdrill.dev/real"

// EnvRealNode names the variable that, set to "required" (make test sets
// it where the machine can run the real node), turns a missing real node
// from a skip into a failure.
const EnvRealNode = "KDRILL_E2E_REAL_NODE"

// RealNode returns the name of the local cluster's real node once it is
// Ready. Without one, the test is skipped, saying so, unless EnvRealNode
// says this machine must have it.
func RealNode(t testing.TB) string {
	t.Helper()
	admin := Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	why := "no node is labelled " + RealNodeLabel + "=true"
	for ctx.Err() == nil {
		nodes, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: RealNodeLabel + "=true"})
		if err == nil && len(nodes.Items) > 0 {
			if n := &nodes.Items[0]; ready(n) {
				return n.Name
			}
			why = "node " + nodes.Items[0].Name + " is not Ready"
		}
		if err == nil && len(nodes.Items) == 0 {
			break // not a slow start: there is none
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if os.Getenv(EnvRealNode) == "required" {
		t.Fatalf("the local cluster has no real node (%s), and %s=required says this machine runs one: see hack/localcluster/node.sh and its logs under /run/kdrill-node/logs", why, EnvRealNode)
	}
	t.Skipf("skipped: the local cluster has no real node (%s); make cluster-up starts one where the machine allows it (root, cgroups)", why)
	return ""
}
