package steps_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

var rollingApp = testdata("rolling-app.yaml")

func TestRolloutImagesTemplateAndUndo(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {deadline: 600}
  steps:
  - name: app
    apply: {file: app.yaml, wait: true}
  - name: v2
    rollout: {kind: Deployment, name: app, images: {main: "app:2"}}
  - name: annotate
    rollout: {kind: Deployment, name: app, template: {metadata: {annotations: {note: v3}}}}
  - name: back to revision 1
    rollout: {kind: Deployment, name: app, undo: true, toRevision: 1}
  - name: no such revision
    continueOnError: true
    rollout: {kind: Deployment, name: app, undo: true, toRevision: 42}
`, map[string]string{"app.yaml": rollingApp})
	for _, name := range []string{"v2", "annotate", "back to revision 1"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	wantOutcome(t, stepNamed(t, sr, "no such revision"), model.Failed, "unable to find specified revision 42 in history")
	v2 := stepNamed(t, sr, "v2").Output.(*model.RolloutOutput)
	// maxUnavailable 0, maxSurge 1: never fewer than 3 available, never more
	// than 4 replicas.
	if v2.MinAvailable != 3 || v2.MaxSurge != 1 || v2.Revision != 2 {
		t.Errorf("v2 rollout %+v", v2)
	}
	d, err := c.Typed.AppsV1().Deployments(ns).Get(context.Background(), "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]string{}
	for _, ct := range d.Spec.Template.Spec.Containers {
		images[ct.Name] = ct.Image
	}
	if images["main"] != "app:1" || images["sidecar"] != "side:1" || d.Spec.Template.Annotations["note"] != "" {
		t.Errorf("after undo to revision 1: images %v annotations %v", images, d.Spec.Template.Annotations)
	}
	if d.Spec.Template.Labels["pod-template-hash"] != "" {
		t.Error("undo copied the ReplicaSet's pod-template-hash label into the Deployment")
	}
}

func TestRolloutStatefulSetAndUndo(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: db
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          replicas: 3
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: main, image: "db:1"}]}
  - name: v2
    rollout: {kind: StatefulSet, name: db, images: {main: "db:2"}}
  - name: v3
    rollout: {kind: StatefulSet, name: db, images: {main: "db:3"}}
  - name: undo
    rollout: {kind: StatefulSet, name: db, undo: true}
  - name: back to 1
    rollout: {kind: StatefulSet, name: db, undo: true, toRevision: 1}
  - name: kept its promise
    assert:
      expr: >-
        steps.v2.revision == 2 && steps.v3.revision == 3 && steps.undo.revision == 4 &&
        steps.v2.minAvailable >= 2 && steps.v2.maxSurge == 0 && steps.v2.desired == 3
`, nil)
	for _, name := range []string{"v2", "v3", "undo", "back to 1", "kept its promise"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	if v := stepNamed(t, sr, "kept its promise").Values; t.Failed() {
		t.Logf("values seen: %v", v)
	}
	sts, err := c.Typed.AppsV1().StatefulSets(ns).Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := sts.Spec.Template.Spec.Containers[0].Image; img != "db:1" {
		t.Errorf("after undo to revision 1 the image is %s", img)
	}
	pods, err := c.Typed.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=db"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if img := p.Spec.Containers[0].Image; img != "db:1" || p.DeletionTimestamp != nil {
			t.Errorf("pod %s runs %s (deleting: %v) after the rollout finished", p.Name, img, p.DeletionTimestamp != nil)
		}
	}
}

func TestRolloutStallFailsWithTheDeploymentsMessage(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {deadline: 2}
  steps:
  - name: app
    apply: {file: app.yaml, wait: true}
  - name: unschedulable
    timeout: 60s
    rollout:
      kind: Deployment
      name: app
      template: {spec: {nodeSelector: {no-such-node: "true"}}}
`, map[string]string{"app.yaml": rollingApp})
	wantOutcome(t, stepNamed(t, sr, "unschedulable"), model.Failed, "rollout stalled", "has timed out progressing")
}

func TestSwitchSelectorReplaceAndRollback(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: pods
    apply:
      wait: true
      inline:
      - {apiVersion: v1, kind: Pod, metadata: {name: a, labels: {app: x, track: a}}, spec: {containers: [{name: c, image: i}]}}
      - {apiVersion: v1, kind: Pod, metadata: {name: b, labels: {track: b}}, spec: {containers: [{name: c, image: i}]}}
      - {apiVersion: v1, kind: Service, metadata: {name: svc}, spec: {selector: {app: x, track: a}, ports: [{port: 80}]}}
  # A Service is current once it exists; its endpoints follow from the
  # EndpointSlice controller, as blue-green.yaml waits for them too.
  - name: a serves
    assert:
      resource: {kind: EndpointSlice, selector: kubernetes.io/service-name=svc}
      expr: flatten(map(objects, .endpoints ?? [])) | map(.targetRef.name) == ["a"]
  - name: replace
    switchSelector: {service: svc, selector: {track: b}, replace: true}
  - name: undo
    switchSelector: {rollback: replace}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "replace"), model.Passed)
	out := stepNamed(t, sr, "replace").Output.(*model.SwitchOutput)
	if len(out.Selector) != 1 || out.Selector["track"] != "b" || len(out.EndpointsAfter) != 1 || out.EndpointsAfter[0] != "b" ||
		len(out.EndpointsBefore) != 1 || out.EndpointsBefore[0] != "a" {
		t.Errorf("replace: %+v", out)
	}
	wantOutcome(t, stepNamed(t, sr, "undo"), model.Passed)
	svc, err := c.Typed.CoreV1().Services(ns).Get(context.Background(), "svc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Selector) != 2 || svc.Spec.Selector["app"] != "x" || svc.Spec.Selector["track"] != "a" {
		t.Errorf("after rollback the selector is %v", svc.Spec.Selector)
	}
}

// A DaemonSet rolls out and back as kubectl does: kubectl's own rollback
// (polymorphichelpers) reads its ControllerRevisions.
func TestRolloutDaemonSetAndUndo(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: agent
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {terminationGracePeriodSeconds: 0, containers: [{name: main, image: "agent:1"}]}
  - name: v2
    rollout: {kind: DaemonSet, name: agent, images: {main: "agent:2"}}
  - name: undo
    rollout: {kind: DaemonSet, name: agent, undo: true}
  - name: counted
    assert:
      expr: steps.v2.revision == 2 && steps.undo.revision == 3 && steps.v2.desired > 0 && steps.undo.desired == steps.v2.desired
`, nil)
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	ds, err := c.Typed.AppsV1().DaemonSets(ns).Get(context.Background(), "agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := ds.Spec.Template.Spec.Containers[0].Image; img != "agent:1" {
		t.Errorf("after undo the image is %s", img)
	}
}
