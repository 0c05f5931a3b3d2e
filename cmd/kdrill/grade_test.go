package main

import (
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// student prepares a namespace the way a student would have left it, by
// running a scenario of applies in it.
func student(t *testing.T, kubeconfig, ns, manifests string) {
	t.Helper()
	dir := t.TempDir()
	file := writeFile(t, dir, "prepare.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: prepare}
spec:
  steps:
`+manifests)
	if code, out, errOut := kdrill(t, "run", "--kubeconfig", kubeconfig, "-n", ns, "--report-dir", filepath.Join(dir, "r"), file); code != 0 {
		t.Fatalf("preparing %s: exit %d\n%s\n%s", ns, code, out, errOut)
	}
}

const service = `{apiVersion: v1, kind: Service, metadata: {name: testing-service}, spec: {selector: {app: testing-service, version: "VERSION"}, ports: [{port: 80, targetPort: 8080}]}}`

func TestLabGradesStudents(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	c := testcluster.Connect(t)
	good, bad := testcluster.Namespace(t, c), testcluster.Namespace(t, c)
	student(t, kubeconfig, good, `
  - name: quota
    apply: {inline: {apiVersion: v1, kind: ResourceQuota, metadata: {name: pod-demo}, spec: {hard: {pods: "2"}}}}
  - name: limits
    apply: {inline: {apiVersion: v1, kind: LimitRange, metadata: {name: limits}, spec: {limits: [{type: Container, default: {cpu: 500m, memory: 256Mi}, defaultRequest: {cpu: 100m, memory: 64Mi}}]}}}
  - name: app
    apply: {wait: true, inline: [{apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: testing-service}}, spec: {containers: [{name: c, image: i}]}}, `+strings.Replace(service, "VERSION", "2.0", 1)+`]}
`)
	student(t, kubeconfig, bad, `
  - name: quota
    apply: {inline: {apiVersion: v1, kind: ResourceQuota, metadata: {name: pod-demo}, spec: {hard: {pods: "3"}}}}
  - name: app
    apply: {wait: true, inline: [{apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: testing-service}}, spec: {containers: [{name: c, image: i}]}}, `+strings.Replace(service, "VERSION", "1.0", 1)+`]}
`)
	reportDir := t.TempDir()
	code, out, errOut := kdrill(t, "grade", "--kubeconfig", kubeconfig, "-n", good+","+bad, "--report-dir", reportDir, "../../scenarios/labs/grade-quota-lab.yaml")
	if code != 1 {
		t.Fatalf("one student fails: want exit 1, got %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"score for " + good + ": 8/8 (passing 6)", "score for " + bad + ": 0/8 (passing 6)", "hint: Create a ResourceQuota named pod-demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	f, err := os.Open(filepath.Join(reportDir, ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][0] != good || rows[1][2] != "8" || rows[1][5] != "true" ||
		rows[2][0] != bad || rows[2][2] != "0" || rows[2][5] != "false" || !strings.Contains(rows[2][6], "the Service points at green") {
		t.Errorf("scores.csv: %v", rows)
	}
	res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) != 2 || res.Scenarios[1].Score.Checks[3].Hint == "" {
		t.Errorf("results.json scores: %+v", res.Scenarios)
	}
	// A lab never writes: nothing in the namespaces changed but what the
	// students made.
	for _, ns := range []string{good, bad} {
		cms, err := c.Typed.CoreV1().ConfigMaps(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cms.Items) > 1 { // kube-root-ca.crt
			t.Errorf("%s: the lab created objects: %d configmaps", ns, len(cms.Items))
		}
	}
	// The same grades in bad weather: the pods' reads late, their
	// connections reset and answered 503, within the checks' 2 s timeouts.
	proxy := testcluster.StartProxy(t)
	proxy.Only("/pods") // the checks' reads, not the start-up's
	proxy.Latency(20 * time.Millisecond)
	proxy.ResetNext(http.MethodGet, 2)
	proxy.FailNext(http.MethodGet, 2, http.StatusServiceUnavailable)
	noisyDir := t.TempDir()
	noisy, noisyOut, noisyErr := kdrill(t, "grade", "--kubeconfig", proxy.Kubeconfig(t), "-n", good+","+bad, "--report-dir", noisyDir, "../../scenarios/labs/grade-quota-lab.yaml")
	for _, want := range []string{"score for " + good + ": 8/8 (passing 6)", "score for " + bad + ": 0/8 (passing 6)"} {
		if noisy != 1 || !strings.Contains(noisyOut, want) {
			t.Errorf("through a noisy link: exit %d; output lacks %q:\n%s\n%s", noisy, want, noisyOut, noisyErr)
		}
	}
	if res, err := reports.ReadJSON(filepath.Join(noisyDir, reports.ResultsFile)); err != nil || retried(res) < 2 {
		t.Errorf("through a noisy link: %d requests sent again (%v), want the failed reads'", retried(res), err)
	}
	// Throttling that outlasts a check's 2 s timeout: the check is not
	// graded (the cluster's fault, not the student's), the run says so
	// with exit 3, and scores.csv does not call it failed.
	storm := testcluster.StartProxy(t)
	storm.Only("/pods")
	storm.Throttle(http.MethodGet, 4, 1)
	stormDir := t.TempDir()
	code, out, errOut = kdrill(t, "grade", "--kubeconfig", storm.Kubeconfig(t), "-n", good, "--report-dir", stormDir, "../../scenarios/labs/grade-quota-lab.yaml")
	if code != 3 || !strings.Contains(out, "not graded this time") || strings.Contains(out, "FAIL") && !strings.Contains(out, "points not graded") {
		t.Errorf("throttled past a check's timeout: exit %d\n%s\n%s", code, out, errOut)
	}
	if csvText, err := os.ReadFile(filepath.Join(stormDir, ScoresFile)); err != nil || !strings.Contains(string(csvText), "the cluster failed while it ran: grade again") {
		t.Errorf("scores.csv after the storm (%v):\n%s", err, csvText)
	}
	// The quota check comes from checks/quota.yaml, which the labs share.
	if got := res.Scenarios[0].Score.Checks[0].Step; got != "pod-demo quota/allows the lab's pods" {
		t.Errorf("the included check is named %q", got)
	}
	// The other lab that includes it asks for three pods: the student whose
	// quota was wrong here is right there.
	code, out, errOut = kdrill(t, "grade", "--kubeconfig", kubeconfig, "-n", good+","+bad, "--report-dir", t.TempDir(), "../../scenarios/labs/grade-quota-basics.yaml")
	for _, want := range []string{"score for " + good + ": 1/3", "score for " + bad + ": 3/3"} {
		if !strings.Contains(out, want) {
			t.Errorf("grade-quota-basics: exit %d; output lacks %q:\n%s\n%s", code, want, out, errOut)
		}
	}
	code, _, errOut = kdrill(t, "run", "--kubeconfig", kubeconfig, "../../scenarios/labs/grade-quota-lab.yaml")
	if code != 2 || !strings.Contains(errOut, "is a lab: it grades an existing namespace") {
		t.Errorf("run of a lab without -n: exit %d, %s", code, errOut)
	}
}

// A lab graded from inside the student's pods: podExec reads what only the
// container shows. A namespace without the pods scores 0, and the failed
// check's cause says why.
func TestLabGradesFromInsideThePods(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	c := testcluster.Connect(t)
	good, empty := testcluster.Namespace(t, c), testcluster.Namespace(t, c)
	student(t, kubeconfig, good, `
  - name: app
    apply: {wait: true, inline: [{apiVersion: v1, kind: Pod, metadata: {name: web-1, labels: {app: web}}, spec: {containers: [{name: web, image: web:2.0}]}}]}
`)
	code, out, errOut := kdrill(t, "grade", "--kubeconfig", kubeconfig, "-n", good+","+empty, "--report-dir", t.TempDir(), "../../scenarios/labs/grade-from-inside.yaml")
	if code != 1 {
		t.Fatalf("one student fails: want exit 1, got %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"score for " + good + ": 3/3", "score for " + empty + ": 0/3", "hint: Roll the web Deployment out to the 2.0 image"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The NetworkPolicy lab is graded by real traffic on the real node: a good
// solution scores full marks, an empty namespace none, and the lab's
// applications without policies only what they earn (the frontend gets
// through; so does everyone else).
func TestLabGradesNetworkPolicyByTraffic(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	testcluster.RealNode(t)
	c := testcluster.Connect(t)
	good, open := networkPolicyStudents(t, kubeconfig, c)
	empty := testcluster.Namespace(t, c)
	code, out, errOut := kdrill(t, "grade", "--kubeconfig", kubeconfig, "-n", good+","+open+","+empty, "--report-dir", t.TempDir(), "../../scenarios/labs/grade-network-policy.yaml")
	if code != 1 {
		t.Fatalf("two students fall short: want exit 1, got %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"score for " + good + ": 7/7", "score for " + open + ": 3/7", "score for " + empty + ": 0/7", "hint: Only app=frontend may reach the backend"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not graded") {
		t.Errorf("a check was not graded on the real node:\n%s", out)
	}
}

// On a cluster of simulated nodes only (the second local cluster) the same
// lab grades the policies as objects; the traffic checks are not graded,
// marked "not verified by traffic", and the passing score shrinks with
// them.
func TestLabGradesNetworkPolicyFromObjectsOnSimulatedNodes(t *testing.T) {
	kubeconfig := os.Getenv(testcluster.EnvKubeconfig2)
	if kubeconfig == "" {
		t.Skipf("%s is not set: this test needs the second local cluster (kwok nodes only), which make test starts", testcluster.EnvKubeconfig2)
	}
	c, err := kube.Connect(kube.Connection{Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	good, open := networkPolicyStudents(t, kubeconfig, c)
	dir := t.TempDir()
	code, out, errOut := kdrill(t, "grade", "--kubeconfig", kubeconfig, "-n", good+","+open, "--report-dir", dir, "../../scenarios/labs/grade-network-policy.yaml")
	if code != 1 {
		t.Fatalf("one student falls short: want exit 1, got %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"score for " + good + ": 3/3 (passing 3; 4 points not graded on this cluster)",
		"score for " + open + ": 1/3",
		"not graded: not verified by traffic: the pods run on simulated (kwok) nodes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	scores, err := os.ReadFile(filepath.Join(dir, "scores.csv"))
	if err != nil || !strings.Contains(string(scores), "not_graded_checks") || !strings.Contains(string(scores), "the frontend reaches the backend on 8080 (not verified by traffic") {
		t.Errorf("scores.csv (%v):\n%s", err, scores)
	}
}

// networkPolicyStudents prepares two students' namespaces for the
// NetworkPolicy lab: the apps and a good solution, and the apps alone.
func networkPolicyStudents(t *testing.T, kubeconfig string, c *kube.Cluster) (good, open string) {
	t.Helper()
	good, open = testcluster.Namespace(t, c), testcluster.Namespace(t, c)
	inline := func(file string) string {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return "        " + strings.ReplaceAll(strings.TrimSpace(string(data)), "\n", "\n        ")
	}
	apps := `
  - name: apps
    apply:
      wait: true
      inline: |
` + inline("../../scenarios/labs/network-policy/apps.yaml") + "\n"
	student(t, kubeconfig, good, apps+`
  - name: policies
    apply:
      inline: |
`+inline("../../scenarios/labs/network-policy/solution.yaml")+"\n")
	student(t, kubeconfig, open, apps)
	// A student applies long before grading; the network needs a moment to
	// enforce what was just applied.
	select {
	case <-time.After(3 * time.Second):
	case <-t.Context().Done():
	}
	return good, open
}

// retried counts the requests a run's steps sent again.
func retried(res *model.Results) int {
	n := 0
	if res == nil {
		return 0
	}
	for _, sr := range res.Scenarios {
		for _, st := range sr.Steps {
			n += st.Retries
		}
	}
	return n
}
