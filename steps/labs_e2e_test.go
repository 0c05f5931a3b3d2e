package steps_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

func TestExpectRejection(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: quota
    apply: {inline: {apiVersion: v1, kind: ResourceQuota, metadata: {name: one-cm}, spec: {hard: {configmaps: "1"}}}}
  - name: counted
    assert:
      resource: {kind: ResourceQuota, name: one-cm}
      expr: object.status.used.configmaps == "1"
  # The API server's quota admission reads a cache that can trail the
  # quota's status by a moment ("status unknown for quota").
  - name: admission sees the quota
    sleep: {duration: 1s}
  - name: refused
    expectRejection:
      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: too-many}}
      messageRegexp: 'exceeded quota: one-cm, requested: configmaps=1, used: configmaps=1, limited: configmaps=1'
      expect: rejection.code == 403 && rejection.quota.limited.configmaps == 1
  - name: accepted after all
    continueOnError: true
    timeout: 2s
    expectRejection:
      inline: {apiVersion: v1, kind: Secret, metadata: {name: fits}}
      message: exceeded quota
  - name: wrong reason
    continueOnError: true
    expectRejection:
      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: bad_name}}
      message: "a lowercase RFC 1123"
  - name: right reason
    expectRejection:
      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: bad_name}}
      reason: Invalid
      message: "a lowercase RFC 1123"
`, nil)
	wantOutcome(t, stepNamed(t, sr, "refused"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "accepted after all"), model.Failed, "Secret fits was accepted until the step's deadline, but the server should have refused it")
	if _, err := c.Typed.CoreV1().Secrets(ns).Get(context.Background(), "fits", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the object created by mistake was not deleted: %v", err)
	}
	st := stepNamed(t, sr, "refused")
	wantOutcome(t, st, model.Passed)
	rej := st.Output.(*model.ExpectRejectionOutput).Rejections[0]
	if rej.Reason != "Forbidden" || rej.Quota == nil || rej.Quota.Name != "one-cm" || rej.Quota.Used["configmaps"] != 1 {
		t.Errorf("rejection %+v quota %+v", rej, rej.Quota)
	}
	wantOutcome(t, stepNamed(t, sr, "wrong reason"), model.Failed, "refused with reason Invalid, want Forbidden")
	wantOutcome(t, stepNamed(t, sr, "right reason"), model.Passed)
}

func TestEventsOfAWorkloadAndItsChildren(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 1}
  steps:
  - name: no pods allowed
    apply: {inline: {apiVersion: v1, kind: ResourceQuota, metadata: {name: zero}, spec: {hard: {pods: "0"}}}}
  - name: counted
    assert:
      resource: {kind: ResourceQuota, name: zero}
      expr: object.status.hard.pods == "0"
  - name: web
    apply: {file: deployment.yaml}
  - name: own events only
    timeout: 2s
    continueOnError: true
    events:
      resource: {kind: Deployment, name: web}
      expr: any(events, .reason == "FailedCreate")
  - name: with children
    timeout: 30s
    events:
      resource: {kind: Deployment, name: web}
      children: true
      expr: 'any(events, .reason == "FailedCreate" && .message contains "exceeded quota: zero")' 
`, map[string]string{"deployment.yaml": deployment})
	wantOutcome(t, stepNamed(t, sr, "own events only"), model.Failed, `expected any(events, .reason == "FailedCreate") over the events of Deployment web`)
	st := stepNamed(t, sr, "with children")
	wantOutcome(t, st, model.Passed)
	if out := st.Output.(*model.EventsOutput); out.Reasons["FailedCreate"] == 0 {
		t.Errorf("output %+v", out)
	}
}

func TestCapacityMatchesTheAPI(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: pods
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: sized}
        spec:
          replicas: 3
          selector: {matchLabels: {app: sized}}
          template:
            metadata: {labels: {app: sized}}
            spec:
              initContainers: [{name: init, image: i, resources: {requests: {cpu: "2"}, limits: {cpu: "2"}}}]
              containers:
              - {name: a, image: i, resources: {requests: {cpu: 250m, memory: 100Mi}, limits: {cpu: 500m, memory: 200Mi}}}
              - {name: b, image: i, resources: {requests: {cpu: 250m, memory: 100Mi}, limits: {cpu: 500m, memory: 200Mi}}}
  - name: committed
    capacity:
      expr: >-
        capacity.namespaces[namespace].pods == 3 &&
        capacity.namespaces[namespace].cpu.requests == 6 &&
        capacity.namespaces[namespace].memory.limits == 3 * quantity("400Mi")
  - name: over a bound
    continueOnError: true
    capacity:
      expr: capacity.cluster.cpu.requestsPercent > 100
`, nil)
	st := stepNamed(t, sr, "committed")
	wantOutcome(t, st, model.Passed)
	out := st.Output.(*model.CapacityOutput)
	nodes, err := c.Typed.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var alloc float64
	for _, n := range nodes.Items {
		alloc += n.Status.Allocatable.Cpu().AsApproximateFloat64()
		if _, ok := out.Nodes[n.Name]; !ok {
			t.Errorf("node %s missing", n.Name)
		}
	}
	if out.Cluster.CPU.Allocatable != alloc {
		t.Errorf("cluster allocatable CPU %.1f, the API says %.1f", out.Cluster.CPU.Allocatable, alloc)
	}
	if want := 100 * out.Cluster.CPU.Requests / alloc; out.Cluster.CPU.RequestsPercent != want {
		t.Errorf("requests %% %.3f, want %.3f", out.Cluster.CPU.RequestsPercent, want)
	}
	wantOutcome(t, stepNamed(t, sr, "over a bound"), model.Failed, "capacity.cluster.cpu.requestsPercent = ")
}
