package runner_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

// The namespace kdrill makes is used only once the controller manager has
// published its CA ConfigMap (here on the fifth look): a quota applied
// before it would refuse that ConfigMap and count wrong for minutes.
func TestFirstStepWaitsForTheNamespacesCA(t *testing.T) {
	c := testcluster.Fake()
	typed := c.Typed.(*kubefake.Clientset)
	looks := 0
	var order []string
	typed.PrependReactor("get", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.GetAction).GetName() != kube.RootCAConfigMap {
			return false, nil, nil
		}
		// The fake's namespace create made it at once: hide it four times.
		if looks++; looks < 5 {
			return true, nil, apierrors.NewNotFound(corev1.Resource("configmaps"), kube.RootCAConfigMap)
		}
		if looks == 5 {
			order = append(order, "CA published")
		}
		return false, nil, nil
	})
	typed.PrependReactor("create", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		order = append(order, "first step writes")
		return false, nil, nil
	})
	s, err := scenario.Parse("ns.yaml", []byte(`apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: ns}
spec:
  steps:
  - {name: a, write: {name: quota-like}}
`), loopRegistry())
	if err != nil {
		t.Fatal(err)
	}
	res := runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{Cluster: c})
	sr := res.Scenarios[0]
	if sr.Outcome != model.Passed {
		t.Fatalf("outcome %s: %s", sr.Outcome, sr.Error)
	}
	if len(order) != 2 || order[0] != "CA published" {
		t.Errorf("order %v: the first step ran before the namespace's CA ConfigMap was there", order)
	}
}

// What kdrill may not read is not waited for: under a role without
// ServiceAccounts, the first step starts at once, not after the bound.
func TestNamespaceWaitSkipsWhatItMayNotRead(t *testing.T) {
	c := testcluster.Fake()
	typed := c.Typed.(*kubefake.Clientset)
	typed.PrependReactor("get", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("serviceaccounts"), "default", nil)
	})
	s, err := scenario.Parse("ns.yaml", []byte(`apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: ns}
spec:
  steps:
  - {name: a, write: {name: x}}
`), loopRegistry())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{Cluster: c})
	if res.Scenarios[0].Outcome != model.Passed {
		t.Fatalf("outcome %s: %s", res.Scenarios[0].Outcome, res.Scenarios[0].Error)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the run took %s: it waited for a ServiceAccount it may not read", took)
	}
}
