package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
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
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"

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

// packDir is a .tar.gz of a directory, as a ConfigMap carries it.
func packDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// deployObjects reads a deploy/ file's objects, moved to the namespace and
// onto the real node.
func deployObjects(t *testing.T, path, ns string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := scenario.ParseDocuments(data)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, d := range docs {
		obj := &unstructured.Unstructured{Object: d.Value.(map[string]any)}
		obj.SetNamespace(ns)
		if obj.GetKind() == "Job" {
			spec := []string{"spec", "template", "spec"}
			_ = unstructured.SetNestedStringMap(obj.Object, map[string]string{testcluster.RealNodeLabel: "true"}, append(spec, "nodeSelector")...)
			_ = unstructured.SetNestedSlice(obj.Object, []any{map[string]any{"key": testcluster.RealNodeLabel, "operator": "Exists", "effect": "NoSchedule"}}, append(spec, "tolerations")...)
		}
		out = append(out, obj)
	}
	return out
}

func applyObjects(t *testing.T, c *kube.Cluster, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objs {
		m, err := c.Mapping(obj.GetAPIVersion(), obj.GetKind())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Resource(m, obj.GetNamespace()).Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "kdrill-tests", Force: true}); err != nil {
			t.Fatalf("apply %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

// waitJob waits until the Job completes or fails, and says which.
func waitJob(t *testing.T, c *kube.Cluster, ns, name string, timeout time.Duration) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		j, err := c.Typed.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // poll again
		}
		job = j
		for _, cond := range j.Status.Conditions {
			if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("job %s did not finish within %s: %+v", name, timeout, job.Status)
	}
	return job
}

// inClusterNamespace is a namespace of the test's own with the
// ServiceAccount kdrill bound to the shipped ClusterRole, as rbac.yaml
// binds it in the namespace kdrill.
func inClusterNamespace(t *testing.T, admin *kube.Cluster) string {
	t.Helper()
	ns := testcluster.Namespace(t, admin)
	applyFile(t, admin, "../../deploy/rbac.yaml", "", false)
	ctx := context.Background()
	if _, err := admin.Typed.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "kdrill"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kdrill-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kdrill"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kdrill", Namespace: ns}},
	}
	if _, err := admin.Typed.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.Typed.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	return ns
}

// claimDir is where a claim's volume is on this machine (the local
// cluster's provisioner makes a directory per volume).
func claimDir(t *testing.T, c *kube.Cluster, ns, claim string) string {
	t.Helper()
	pvc, err := c.Typed.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), claim, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := c.Typed.CoreV1().PersistentVolumes().Get(context.Background(), pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil || pv.Spec.HostPath == nil {
		t.Fatalf("the volume of %s: %v", claim, err)
	}
	return pv.Spec.HostPath.Path
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
	if _, err := admin.Typed.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "kdrill-scenarios"},
		BinaryData: map[string][]byte{"scenarios.tgz": packDir(t, dir)},
	}, metav1.CreateOptions{}); err != nil {
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
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kdrill-nightly-scenarios", Namespace: ns}, BinaryData: map[string][]byte{"scenarios.tgz": packDir(t, pack)}}
		_ = admin.Typed.CoreV1().ConfigMaps(ns).Delete(ctx, cm.Name, metav1.DeleteOptions{})
		if _, err := admin.Typed.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
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
