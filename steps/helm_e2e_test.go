package steps_test

import (
	"context"
	"os/exec"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// The README's Helm example: exec installs a chart with helm into the
// scenario's namespace (KUBECONFIG and the namespace come from kdrill), and
// the next step finds what the chart made. kdrill does not link Helm; the
// test runs only where helm is on the PATH.
func TestExecInstallsAHelmChart(t *testing.T) {
	c := testcluster.Connect(t)
	if _, err := exec.LookPath("helm"); err != nil {
		t.Skip("helm is not on the PATH: the Helm example is not run (install helm to run it)")
	}
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: install a chart
    exec: {command: [helm, install, web, ./charts/web, --namespace, "${{ namespace }}", --wait], workingDir: .}
  - name: the chart's ConfigMap is there
    assert:
      resource: {kind: ConfigMap, name: web-settings}
      expr: object.data.greeting == "hello"
  - name: uninstall
    exec: {command: [helm, uninstall, web, --namespace, "${{ namespace }}"]}
`, map[string]string{
		"charts/web/Chart.yaml":               "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"charts/web/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-settings}\ndata: {greeting: hello}\n",
	})
	for _, st := range sr.Steps {
		wantOutcome(t, st, model.Passed)
	}
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Get(context.Background(), "web-settings", metav1.GetOptions{}); err == nil {
		t.Error("helm uninstall left the ConfigMap")
	}
}
