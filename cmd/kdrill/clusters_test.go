package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// A run over two contexts runs every scenario on each, in a namespace of
// its own there, and tags each result with its context. Both contexts
// reach the local cluster here; what differs is only the name, which is
// what the run keys its results by.
func TestRunOverSeveralContexts(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	dir := t.TempDir()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	first := cfg.CurrentContext
	second := *cfg.Contexts[first]
	cfg.Contexts["kwok-kdrill-again"] = &second
	twoContexts := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, twoContexts); err != nil {
		t.Fatal(err)
	}
	scenario := writeFile(t, dir, "s.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: everywhere}
spec:
  steps:
  - name: marker
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: marker}}}
  - name: found
    assert:
      resource: {kind: ConfigMap, name: marker}
      expr: object.metadata.namespace == namespace
`)
	reportDir := filepath.Join(dir, "report")
	code, out, errOut := kdrill(t, "run", "--kubeconfig", twoContexts, "--context", first, "--context", "kwok-kdrill-again", "--report-dir", reportDir, scenario)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) != 2 {
		t.Fatalf("%d results, want one per context", len(res.Scenarios))
	}
	a, b := res.Scenarios[0], res.Scenarios[1]
	if a.Name != "everywhere@"+first || a.Cluster != first || b.Name != "everywhere@kwok-kdrill-again" || b.Cluster != "kwok-kdrill-again" {
		t.Errorf("results %s (%s), %s (%s)", a.Name, a.Cluster, b.Name, b.Cluster)
	}
	if a.Namespace == b.Namespace {
		t.Errorf("both ran in %s", a.Namespace)
	}
	if !strings.Contains(out, "everywhere@kwok-kdrill-again") {
		t.Errorf("the console does not name the context:\n%s", out)
	}
	// The context guard holds for each context: a disrupting scenario is
	// refused on the one that is not local, before anything is sent.
	cfg.Contexts["production"] = &second
	if err := clientcmd.WriteToFile(*cfg, twoContexts); err != nil {
		t.Fatal(err)
	}
	kill := writeFile(t, dir, "kill.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: kill}
spec:
  steps:
  - name: one
    kill: {selector: app=x, count: 1}
`)
	code, _, errOut = kdrill(t, "run", "--kubeconfig", twoContexts, "--context", first, "--context", "production", "--report-dir", filepath.Join(dir, "r2"), kill)
	if code != 2 || !strings.Contains(errOut, `the kubeconfig context "production" is not one it may touch`) {
		t.Errorf("disrupting on production: exit %d\n%s", code, errOut)
	}
}

// The failover drill applies on one local cluster and asserts on the
// other; the scenario's namespace is made on both and removed from both.
func TestAScenarioAcrossTwoClusters(t *testing.T) {
	clusters := testcluster.Contexts(t)
	dir := t.TempDir()
	merged := clientcmdapi.NewConfig()
	for _, path := range []string{testcluster.Kubeconfig(t), os.Getenv(testcluster.EnvKubeconfig2)} {
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(merged.Clusters, cfg.Clusters)
		maps.Copy(merged.AuthInfos, cfg.AuthInfos)
		maps.Copy(merged.Contexts, cfg.Contexts)
		if merged.CurrentContext == "" {
			merged.CurrentContext = cfg.CurrentContext
		}
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, kubeconfig); err != nil {
		t.Fatal(err)
	}
	reportDir := filepath.Join(dir, "report")
	code, out, errOut := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, "../../scenarios/multicluster/failover.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	ns := res.Scenarios[0].Namespace
	for name, c := range clusters {
		got, err := c.Typed.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if err == nil && got.DeletionTimestamp == nil {
			t.Errorf("namespace %s left on %s", ns, name)
		}
	}
}
