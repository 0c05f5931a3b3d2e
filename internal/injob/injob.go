// Package injob runs kdrill's deploy/ manifests on a cluster the way a
// user would apply them: the ServiceAccount bound to the shipped
// ClusterRole, a scenario directory packed into a ConfigMap, the Jobs, and
// what they wrote read back from their claim. The end-to-end tests and
// make in-cluster-demo use it.
package injob

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
)

// RealNodeLabel marks the local cluster's real node, which runs the
// containers (kwok's nodes only pretend to).
const RealNodeLabel = "kdrill.dev/real"

// Pack is a .tar.gz of a directory, as a ConfigMap carries it.
func Pack(dir string) ([]byte, error) {
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
		data, err := os.ReadFile(p) //nolint:gosec // a directory of this repository's, packed for a test or the demo
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
	return buf.Bytes(), err
}

// Objects reads a deploy/ file's objects, moved to the namespace; with
// onRealNode, its Jobs' pods go to the local cluster's real node.
func Objects(path, ns string, onRealNode bool) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs, err := scenario.ParseDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []*unstructured.Unstructured
	for _, d := range docs {
		obj := &unstructured.Unstructured{Object: d.Value.(map[string]any)}
		obj.SetNamespace(ns)
		spec := map[string][]string{"Job": {"spec", "template", "spec"}, "CronJob": {"spec", "jobTemplate", "spec", "template", "spec"}}[obj.GetKind()]
		if onRealNode && spec != nil {
			_ = unstructured.SetNestedStringMap(obj.Object, map[string]string{RealNodeLabel: "true"}, append(spec, "nodeSelector")...)
			_ = unstructured.SetNestedSlice(obj.Object, []any{map[string]any{"key": RealNodeLabel, "operator": "Exists", "effect": "NoSchedule"}}, append(spec, "tolerations")...)
		}
		out = append(out, obj)
	}
	return out, nil
}

// Apply server-side applies the objects.
func Apply(ctx context.Context, c *kube.Cluster, objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		m, err := c.Mapping(obj.GetAPIVersion(), obj.GetKind())
		if err != nil {
			return err
		}
		if _, err := c.Resource(m, obj.GetNamespace()).Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "kdrill-injob", Force: true}); err != nil {
			return fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// ServiceAccount makes the ServiceAccount kdrill in the namespace and binds
// it to the ClusterRole kdrill (deploy/rbac.yaml's, applied first); the
// returned function removes the binding.
func ServiceAccount(ctx context.Context, c *kube.Cluster, rbacFile, ns string) (func(), error) {
	objs, err := Objects(rbacFile, "kdrill", false)
	if err != nil {
		return nil, err
	}
	if err := Apply(ctx, c, objs); err != nil {
		return nil, err
	}
	if ns == "kdrill" {
		return func() {}, nil // rbac.yaml's own
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "kdrill"}}
	if _, err := c.Typed.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kdrill-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kdrill"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kdrill", Namespace: ns}},
	}
	if _, err := c.Typed.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	return func() {
		_ = c.Typed.RbacV1().ClusterRoleBindings().Delete(context.WithoutCancel(ctx), binding.Name, metav1.DeleteOptions{})
	}, nil
}

// Scenarios puts a packed scenario directory in the ConfigMap, replacing
// what it held.
func Scenarios(ctx context.Context, c *kube.Cluster, ns, name, dir string) error {
	packed, err := Pack(dir)
	if err != nil {
		return err
	}
	cms := c.Typed.CoreV1().ConfigMaps(ns)
	_ = cms.Delete(ctx, name, metav1.DeleteOptions{})
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, BinaryData: map[string][]byte{"scenarios.tgz": packed}}, metav1.CreateOptions{})
	return err
}

// Wait waits until the Job completes or fails.
func Wait(ctx context.Context, c *kube.Cluster, ns, name string, timeout time.Duration) (*batchv1.Job, error) {
	var job *batchv1.Job
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		j, err := c.Typed.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // the retry policy has retried it; poll again
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
		return job, fmt.Errorf("job %s/%s did not finish within %s: %w", ns, name, timeout, err)
	}
	return job, nil
}

// ClaimDir is where a claim's volume is on this machine: the local
// cluster's provisioner makes a directory per volume.
func ClaimDir(ctx context.Context, c *kube.Cluster, ns, claim string) (string, error) {
	pvc, err := c.Typed.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("claim %s/%s is not bound", ns, claim)
	}
	pv, err := c.Typed.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("the volume of %s/%s is not a directory on this machine", ns, claim)
	}
	return pv.Spec.HostPath.Path, nil
}
