package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

// applyFile applies every object of a manifest file as the admin.
func applyFile(t *testing.T, c *kube.Cluster, path, namespace string, dryRun bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := scenario.ParseDocuments(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, d := range docs {
		obj := &unstructured.Unstructured{Object: d.Value.(map[string]any)}
		m, err := c.Mapping(obj.GetAPIVersion(), obj.GetKind())
		if err != nil {
			t.Fatal(err)
		}
		if obj.GetNamespace() == "" && m.Scope.Name() == "namespace" {
			obj.SetNamespace(namespace)
		}
		opts := metav1.ApplyOptions{FieldManager: "kdrill-tests", Force: true}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		if _, err := c.Resource(m, obj.GetNamespace()).Apply(context.Background(), obj.GetName(), obj, opts); err != nil {
			t.Fatalf("%s: apply %s %s: %v", path, obj.GetKind(), obj.GetName(), err)
		}
	}
}

// TestShippedScenariosPassWithTheShippedRole runs kdrill as the ServiceAccount
// of deploy/rbac.yaml, with its token: the shipped scenarios pass, and a
// step outside the role fails with a message that names the permission.
func TestShippedScenariosPassWithTheShippedRole(t *testing.T) {
	admin := testcluster.Connect(t)
	applyFile(t, admin, "../../deploy/rbac.yaml", "", false)
	// The CronJob and the grader Role are valid for the API server too.
	applyFile(t, admin, "../../deploy/cronjob.yaml", "", true)
	ns := testcluster.Namespace(t, admin)
	applyFile(t, admin, "../../deploy/grader.yaml", ns, true)

	tok, err := admin.Typed.CoreV1().ServiceAccounts("kdrill").CreateToken(context.Background(), "kdrill",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca := admin.Config.CAData
	if len(ca) == 0 {
		if ca, err = os.ReadFile(admin.Config.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	saConfig := writeFile(t, dir, "kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, certificate-authority-data: %s}}]
users: [{name: kdrill, user: {token: %q}}]
contexts: [{name: kwok-kdrill-serviceaccount, context: {cluster: local, user: kdrill}}]
current-context: kwok-kdrill-serviceaccount
`, admin.Config.Host, base64.StdEncoding.EncodeToString(ca), tok.Status.Token))

	// The node chaos scenarios act on a pool of nodes of their own.
	pool := testcluster.NewNodePool(t, 3)
	sel, tol := pool.PodSpecYAML()
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", saConfig, "--quiet", "--report-dir", filepath.Join(dir, "shipped"),
		"--set", "nodes="+pool.Selector(), "--set", "nodeSelector="+sel, "--set", "tolerations="+tol,
		"-l", "area!=multicluster", // the ServiceAccount's kubeconfig reaches one cluster
		"../../scenarios")
	if code != 0 {
		t.Fatalf("the shipped scenarios as the ServiceAccount: exit %d\n%s\n%s", code, stdout, stderr)
	}
	pool.AssertUntouched(t, 10*time.Second)

	outside := writeFile(t, dir, "outside.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: outside}
spec:
  steps:
  - name: make a cluster role
    apply:
      inline: {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: kdrill-should-not}, rules: []}
`)
	code, stdout, stderr = kdrill(t, "run", "--kubeconfig", saConfig, "-n", ns, "--report-dir", filepath.Join(dir, "outside"), outside)
	if code == 0 {
		t.Fatal("a step outside the role passed")
	}
	for _, want := range []string{`User "system:serviceaccount:kdrill:kdrill" cannot patch resource "clusterroles" in API group "rbac.authorization.k8s.io"`} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, stdout, stderr)
		}
	}
}

func ptr[T any](v T) *T { return &v }
