package steps_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

var deployment = testdata("deployment.yaml")

func TestApplyWaitsForReadyAndDefaultsNamespace(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 3}
  steps:
  - name: apply
    apply:
      file: manifests/app.yaml
      wait: true
`, map[string]string{"manifests/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: \"${{ vars.replicas }} replicas\"}\n---\n" + deployment})
	wantOutcome(t, stepNamed(t, sr, "apply"), model.Passed)

	ctx := context.Background()
	d, err := c.Typed.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 3 || d.Status.AvailableReplicas != 3 {
		t.Errorf("deployment replicas %d available %d, want 3 and 3 after wait", *d.Spec.Replicas, d.Status.AvailableReplicas)
	}
	cm, err := c.Typed.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["mode"] != "3 replicas" {
		t.Errorf("template in a string: got %q", cm.Data["mode"])
	}
	out := stepNamed(t, sr, "apply").Output.(*model.ApplyOutput)
	if len(out.Objects) != 2 || out.Objects[1].Namespace != ns {
		t.Errorf("output objects %+v", out.Objects)
	}
}

func TestApplyResolvesEveryKindBeforeWriting(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: apply
    apply:
      inline:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: first}}
      - {apiVersion: example.com/v1, kind: Gadget, metadata: {name: second}}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "apply"), model.Failed, "Gadget", "not served")
	_, err := c.Typed.CoreV1().ConfigMaps(ns).Get(context.Background(), "first", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("the first object was written although the second kind is unknown: err=%v", err)
	}
}

func TestDeleteBySelectorWaitsUntilGone(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: create
    apply:
      inline:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, labels: {tier: cache}}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, labels: {tier: cache}}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: keep, labels: {tier: db}}}
  - name: delete cache
    delete: {kind: configmaps, selector: tier=cache}
  - name: nothing left to delete
    continueOnError: true
    delete: {kind: ConfigMap, name: a, mustExist: true}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "delete cache"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "nothing left to delete"), model.Failed, "not found")
	if got := stepNamed(t, sr, "delete cache").Output.(*model.DeleteOutput).Deleted; len(got) != 2 {
		t.Errorf("deleted %v, want a and b", got)
	}
	list, err := c.Typed.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range list.Items {
		if cm.Name != "kube-root-ca.crt" {
			names = append(names, cm.Name)
		}
	}
	if strings.Join(names, ",") != "keep" {
		t.Errorf("left %v, want only keep", names)
	}
}

func TestScaleWaitsForAvailability(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 1}
  steps:
  - name: deploy
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: not-scalable}}}
  - name: web
    apply: {file: app.yaml, wait: true}
  - name: scale up
    scale: {kind: deploy, name: web, replicas: 4}
  - name: scale a configmap
    continueOnError: true
    scale: {kind: ConfigMap, name: not-scalable, replicas: 2}
`, map[string]string{"app.yaml": deployment})
	wantOutcome(t, stepNamed(t, sr, "scale up"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "scale a configmap"), model.Failed, "not ConfigMap")
	out := stepNamed(t, sr, "scale up").Output.(*model.ScaleOutput)
	if out.Previous != 1 || out.Replicas != 4 {
		t.Errorf("output %+v, want previous 1 replicas 4", out)
	}
	d, err := c.Typed.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 4 {
		t.Errorf("available %d right after scale finished, want 4", d.Status.AvailableReplicas)
	}
}

func TestPatchTypes(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {version: "2.0"}
  steps:
  - name: service
    apply:
      inline:
        apiVersion: v1
        kind: Service
        metadata: {name: testing-service}
        spec:
          type: NodePort
          selector: {app: testing-service, version: "1.0"}
          ports: [{port: 80, targetPort: 8080}]
  - name: merge
    patch: {kind: Service, name: testing-service, patch: {spec: {selector: {version: "${{ vars.version }}"}}}}
  - name: json
    patch:
      kind: Service
      name: testing-service
      type: json
      patch: [{op: add, path: /metadata/labels, value: {switched: "yes"}}]
  - name: strategic
    patch: {kind: Service, name: testing-service, type: strategic, patch: {metadata: {annotations: {note: strategic}}}}
`, nil)
	for _, name := range []string{"merge", "json", "strategic"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	svc, err := c.Typed.CoreV1().Services(ns).Get(context.Background(), "testing-service", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Selector["version"] != "2.0" || svc.Spec.Selector["app"] != "testing-service" {
		t.Errorf("selector %v, want app kept and version 2.0", svc.Spec.Selector)
	}
	if svc.Labels["switched"] != "yes" || svc.Annotations["note"] != "strategic" {
		t.Errorf("labels %v annotations %v", svc.Labels, svc.Annotations)
	}
}

func TestAssertWaitsOnWatchEvents(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	// The ConfigMap changes 300ms after it appears, while the assert waits;
	// the assert must see that change through its watch.
	go func() {
		ctx := context.Background()
		for range 200 {
			cm, err := c.Typed.CoreV1().ConfigMaps(ns).Get(ctx, "flag", metav1.GetOptions{})
			if err != nil {
				pause(t, 50*time.Millisecond)
				continue
			}
			pause(t, 300*time.Millisecond)
			cm.Data = map[string]string{"state": "ready"}
			_, _ = c.Typed.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
			return
		}
	}()
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: flag
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: flag}, data: {state: waiting}}}
  - name: becomes ready
    timeout: 20s
    assert:
      resource: {kind: ConfigMap, name: flag}
      expr: object.data.state == "ready"
  - name: list form
    assert:
      resource: {kind: ConfigMap, selector: "!missing-label"}
      expr: len(objects) >= 2 && any(objects, .metadata.name == "flag")
  - name: no resource
    assert:
      expr: steps["becomes ready"].evaluations >= 1
`, nil)
	st := stepNamed(t, sr, "becomes ready")
	wantOutcome(t, st, model.Passed)
	out := st.Output.(*model.AssertOutput)
	if out.Evaluations < 2 {
		t.Errorf("evaluations %d: want the initial list and at least one change", out.Evaluations)
	}
	if out.WaitedSeconds <= 0 {
		t.Errorf("held after %.3fs", out.WaitedSeconds)
	}
	wantOutcome(t, stepNamed(t, sr, "list form"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "no resource"), model.Passed)
}

func TestAssertFailureShowsExpressionAndValues(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 3}
  steps:
  - name: web
    apply: {file: app.yaml, wait: true}
    timeout: 60s
  - name: too many
    timeout: 1s
    assert:
      resource: {kind: Deployment, name: web}
      expr: object.status.availableReplicas == vars.replicas + 1
  finally:
  - name: cleanup runs after the failure
    delete: {kind: Deployment, name: web}
`, map[string]string{"app.yaml": deployment})
	st := stepNamed(t, sr, "too many")
	wantOutcome(t, st, model.Failed,
		"expected object.status.availableReplicas == vars.replicas + 1",
		"did not hold within",
		"object.status.availableReplicas = 3",
		"vars.replicas = 3")
	if st.Expression == "" || st.Values["vars.replicas"] == nil {
		t.Errorf("result does not record the expression and values: %+v", st)
	}
	if sr.Outcome != model.Failed {
		t.Errorf("scenario outcome %s, want failed", sr.Outcome)
	}
	wantOutcome(t, stepNamed(t, sr, "cleanup runs after the failure"), model.Passed)
}

func TestAssertHoldFor(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	go func() {
		pause(t, 500*time.Millisecond)
		_ = c.Typed.CoreV1().ConfigMaps(ns).Delete(context.Background(), "volatile", metav1.DeleteOptions{})
	}()
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: objects
    apply:
      inline:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: stable}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: volatile}}
  - name: stable holds
    assert:
      resource: {kind: ConfigMap, name: stable}
      expr: object != nil
      holdFor: 1s
  - name: volatile does not hold
    timeout: 20s
    assert:
      resource: {kind: ConfigMap, name: volatile}
      expr: object != nil
      holdFor: 15s
`, nil)
	st := stepNamed(t, sr, "stable holds")
	wantOutcome(t, st, model.Passed)
	if st.DurationSeconds < 1 {
		t.Errorf("held for %.2fs, less than the 1s window", st.DurationSeconds)
	}
	st = stepNamed(t, sr, "volatile does not hold")
	wantOutcome(t, st, model.Failed, "stopped holding")
	if st.DurationSeconds > 10 {
		t.Errorf("took %.1fs: a violation must fail at once, not at the end of the window", st.DurationSeconds)
	}
}

func TestSleepAndInterruptRunFinallyAndDeleteNamespace(t *testing.T) {
	c := testcluster.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt once the marker exists and the long sleep has begun.
	go func() {
		for range 400 {
			list, err := c.Typed.CoreV1().ConfigMaps("").List(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name=marker"})
			if err == nil && slices.ContainsFunc(list.Items, func(cm corev1.ConfigMap) bool {
				return strings.HasPrefix(cm.Namespace, "kdrill-testsleepandinterrupt")
			}) {
				pause(t, 500*time.Millisecond)
				cancel()
				return
			}
			pause(t, 50*time.Millisecond)
		}
	}()
	start := time.Now()
	sr := runScenarioCtx(ctx, t, c, "", `
spec:
  steps:
  - name: short
    sleep: {duration: 200ms}
  - name: marker
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: marker}}}
  - name: long
    sleep: {duration: 1h}
  - name: never
    sleep: {duration: 1s}
  finally:
  - name: cleanup
    delete: {kind: ConfigMap, name: marker, mustExist: true}
`, nil)
	if time.Since(start) > 20*time.Second {
		t.Errorf("interrupt took %s to stop the run", time.Since(start))
	}
	wantOutcome(t, stepNamed(t, sr, "short"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "long"), model.Cancelled)
	wantOutcome(t, stepNamed(t, sr, "never"), model.Skipped)
	wantOutcome(t, stepNamed(t, sr, "cleanup"), model.Passed)
	if sr.Outcome != model.Cancelled {
		t.Errorf("scenario outcome %s, want cancelled", sr.Outcome)
	}
	if !sr.NamespaceCreated {
		t.Fatal("the run should have created its namespace")
	}
	ns, err := c.Typed.CoreV1().Namespaces().Get(context.Background(), sr.Namespace, metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("namespace %s left behind after the interrupt", sr.Namespace)
	}
}
