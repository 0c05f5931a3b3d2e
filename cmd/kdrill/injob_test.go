package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kdrill/kdrill/internal/injob"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

// makeImage builds kdrill's image with hack/image.sh and returns its
// digest; load puts it into the real node.
func makeImage(t *testing.T, dir string, load bool) string {
	t.Helper()
	args := []string{dir}
	if !load {
		args = []string{"--no-load", dir}
	}
	cmd := exec.Command("../../hack/image.sh", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/image.sh: %v\n%s", err, stderr.String())
	}
	digest := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(digest) {
		t.Fatalf("hack/image.sh printed %q, not a digest\n%s", digest, stderr.String())
	}
	return digest
}

// inClusterNamespace is a namespace of the test's own with the
// ServiceAccount kdrill bound to the shipped ClusterRole, as rbac.yaml
// binds it in the namespace kdrill.
func inClusterNamespace(t *testing.T, admin *kube.Cluster) string {
	t.Helper()
	ns := testcluster.Namespace(t, admin)
	unbind, err := injob.ServiceAccount(context.Background(), admin, "../../deploy/rbac.yaml", ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unbind)
	return ns
}

// deployObjects reads a deploy/ file's objects, moved to the namespace and
// onto the real node.
func deployObjects(t *testing.T, path, ns string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := injob.Objects(path, ns, true)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func applyObjects(t *testing.T, c *kube.Cluster, objs []*unstructured.Unstructured) {
	t.Helper()
	if err := injob.Apply(context.Background(), c, objs); err != nil {
		t.Fatal(err)
	}
}

func waitJob(t *testing.T, c *kube.Cluster, ns, name string, timeout time.Duration) *batchv1.Job {
	t.Helper()
	job, err := injob.Wait(t.Context(), c, ns, name, timeout)
	if err != nil {
		t.Fatalf("%v: %+v", err, job)
	}
	return job
}

func claimDir(t *testing.T, c *kube.Cluster, ns, claim string) string {
	t.Helper()
	dir, err := injob.ClaimDir(context.Background(), c, ns, claim)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// kdrill's image runs a scenario directory as an Indexed Job of four shards
// on the real node, each pod its share (by its completion index), as the
// shipped RBAC's ServiceAccount, non-root on a read-only root filesystem;
// the merge Job joins what they wrote, and the merged results hold every
// scenario of the directory exactly once. The image is reproducible.
func TestIndexedJobShardsOnTheRealNode(t *testing.T) {
	testcluster.RealNode(t)
	admin := testcluster.Connect(t)
	digest := makeImage(t, t.TempDir(), true)
	if again := makeImage(t, t.TempDir(), false); again != digest {
		t.Errorf("the same source built two images: %s, then %s", digest, again)
	}

	ns := inClusterNamespace(t, admin)
	ctx := context.Background()
	const dir = "../../scenarios/deploy"
	if err := injob.Scenarios(ctx, admin, ns, "kdrill-scenarios", dir); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	applyObjects(t, admin, deployObjects(t, "../../deploy/indexed-job.yaml", ns))
	shards := waitJob(t, admin, ns, "kdrill-shards", 8*time.Minute)
	wall := time.Since(start)
	applyObjects(t, admin, deployObjects(t, "../../deploy/indexed-job-merge.yaml", ns))
	merge := waitJob(t, admin, ns, "kdrill-merge", 2*time.Minute)
	// A shard whose scenario failed (exit 1) fails its index, and the
	// merge's exit is the merged run's: what the test holds them to is
	// that every shard and the merge ran to the end.
	if shards.Status.Succeeded+shards.Status.Failed != 4 || merge.Status.Succeeded+merge.Status.Failed != 1 {
		t.Errorf("shards succeeded %d, failed %d; merge succeeded %d, failed %d", shards.Status.Succeeded, shards.Status.Failed, merge.Status.Succeeded, merge.Status.Failed)
	}

	// The merged results, read from the claim's directory on this machine.
	dir2 := claimDir(t, admin, ns, "kdrill-reports")
	merged, err := reports.ReadJSON(filepath.Join(dir2, "kdrill-shards", "merged", reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range merged.Scenarios {
		got = append(got, s.Name)
		switch s.Outcome {
		case model.Passed:
		case model.Failed:
			t.Logf("%s failed (a verdict, not the Job's doing): %s", s.Name, s.Error)
		default:
			t.Errorf("%s: %s: %s", s.Name, s.Outcome, s.Error)
		}
	}
	sort.Strings(got)
	all, err := loadScenarios([]string{dir}, scenario.LoadOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range all {
		want = append(want, s.DisplayName())
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("merged scenarios:\n%s\nwant each of the directory's once:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("4 shards of %d scenarios in %s on the real node", len(want), wall.Round(time.Second))
}

// nightScenario is the nightly scenario of the CronJob test: one nap, as
// long as the night says.
func nightScenario(nap string) []byte {
	return []byte("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: nightly}\nspec:\n  steps:\n  - name: nap\n    sleep: {duration: " + nap + "}\n")
}

// The CronJob for real: three nights, each a Job made from its template
// as kubectl create job --from=cronjob does. The first has no baseline and
// becomes it; the second is slower past the tolerance and fails its Job
// with its report still written, the baseline kept; the third is good
// again, passes against the first, and becomes the baseline.
func TestCronJobComparesWithTheLastGoodNight(t *testing.T) {
	testcluster.RealNode(t)
	admin := testcluster.Connect(t)
	makeImage(t, t.TempDir(), true)
	ns := inClusterNamespace(t, admin)
	ctx := context.Background()
	var cron *batchv1.CronJob
	var objs []*unstructured.Unstructured
	for _, obj := range deployObjects(t, "../../deploy/cronjob.yaml", ns) {
		if obj.GetKind() != "CronJob" {
			objs = append(objs, obj)
			continue
		}
		cron = &batchv1.CronJob{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, cron); err != nil {
			t.Fatal(err)
		}
	}
	applyObjects(t, admin, objs)
	cron.Spec.JobTemplate.Spec.Template.Spec.NodeSelector = map[string]string{testcluster.RealNodeLabel: "true"}
	cron.Spec.JobTemplate.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: testcluster.RealNodeLabel, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	night := func(name, nap string) *batchv1.Job {
		t.Helper()
		pack := t.TempDir()
		if err := os.WriteFile(filepath.Join(pack, "nightly.yaml"), nightScenario(nap), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := injob.Scenarios(ctx, admin, ns, "kdrill-nightly-scenarios", pack); err != nil {
			t.Fatal(err)
		}
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: *cron.Spec.JobTemplate.Spec.DeepCopy()}
		if _, err := admin.Typed.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return waitJob(t, admin, ns, name, 3*time.Minute)
	}
	var dir string // the claim is bound when the first night uses it
	baseline := func() time.Time {
		t.Helper()
		r, err := reports.ReadJSON(filepath.Join(dir, "last-good", reports.ResultsFile))
		if err != nil {
			t.Fatalf("the baseline: %v", err)
		}
		return r.StartedAt
	}

	if j := night("night-1", "2s"); j.Status.Succeeded != 1 {
		t.Fatalf("night 1, no baseline yet: %+v", j.Status)
	}
	dir = claimDir(t, admin, ns, "kdrill-nightly")
	first := baseline()
	if j := night("night-2", "6s"); j.Status.Failed != 1 {
		t.Errorf("night 2, 4s slower: the Job did not fail: %+v", j.Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "night-2", "report.html")); err != nil {
		t.Errorf("night 2's report: %v", err)
	}
	// Its scenario passed: what failed the Job is the comparison.
	if r, err := reports.ReadJSON(filepath.Join(dir, "runs", "night-2", reports.ResultsFile)); err != nil || r.Outcome != model.Passed {
		t.Errorf("night 2's results: %v", err)
	}
	if !baseline().Equal(first) {
		t.Errorf("a night that regressed replaced the baseline")
	}
	if j := night("night-3", "500ms"); j.Status.Succeeded != 1 {
		t.Errorf("night 3, faster than the baseline: %+v", j.Status)
	}
	if baseline().Equal(first) {
		t.Errorf("a good night did not become the baseline")
	}
}
