package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/step"
)

// leftovers lists the namespaces kdrill made and left, keeps young ones
// (a run may still use them) and deletes the rest when asked.
func TestLeftoversListsAndRemovesKdrillNamespaces(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	admin := testcluster.Admin(t)
	scen := "leftover-" + utilrand.String(5)
	name := "kdrill-" + scen
	_, err := admin.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: name, Labels: map[string]string{step.LabelManagedBy: "kdrill", step.LabelScenario: scen},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	sel := step.LabelScenario + "=" + scen
	code, out, errOut := kdrill(t, "leftovers", "--kubeconfig", kubeconfig, "-l", sel)
	if code != 0 || !strings.Contains(out, "namespace "+name+"  scenario "+scen) {
		t.Errorf("list: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = kdrill(t, "leftovers", "--kubeconfig", kubeconfig, "-l", sel, "--delete")
	if code != 0 || !strings.Contains(out, "kept: younger than") {
		t.Errorf("--delete of a young namespace: exit %d\n%s", code, out)
	}
	code, out, _ = kdrill(t, "leftovers", "--kubeconfig", kubeconfig, "-l", sel, "--delete", "--older-than", "0s")
	if code != 0 || !strings.Contains(out, name) || !strings.Contains(out, "deleted") {
		t.Errorf("--delete --older-than 0s: exit %d\n%s", code, out)
	}
	ns, err := admin.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("namespace %s still there and not being deleted", name)
	}
}
