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
	pvc, err := admin.Typed.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "kdrill-reports", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := admin.Typed.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil || pv.Spec.HostPath == nil {
		t.Fatalf("the reports' volume %v: %v", pv, err)
	}
	merged, err := reports.ReadJSON(filepath.Join(pv.Spec.HostPath.Path, "kdrill-shards", "merged", reports.ResultsFile))
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
