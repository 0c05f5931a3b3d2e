// Command incluster is make in-cluster-demo: it runs scenarios/ inside the
// local cluster as deploy/indexed-job.yaml says (kdrill's image, loaded
// into the real node by make image, as 4 shards of an Indexed Job against
// the same cluster), merges them with deploy/indexed-job-merge.yaml, copies
// the merged report out of the claim and prints where it is.
//
//	go run ./hack/incluster KUBECONFIG OUT_DIR
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/internal/injob"
	"github.com/kdrill/kdrill/kube"
)

const ns = "kdrill"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: incluster KUBECONFIG OUT_DIR")
		os.Exit(2)
	}
	if err := demo(context.Background(), os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "in-cluster demo:", err)
		os.Exit(1)
	}
}

func demo(ctx context.Context, kubeconfig, out string) error {
	c, err := kube.Connect(kube.Connection{Kubeconfig: kubeconfig})
	if err != nil {
		return err
	}
	if _, err := injob.ServiceAccount(ctx, c, "deploy/rbac.yaml", ns); err != nil {
		return err
	}
	// A run before this one left its Jobs and results: they go first.
	background := metav1.DeletePropagationForeground
	for _, job := range []string{"kdrill-shards", "kdrill-merge"} {
		_ = c.Typed.BatchV1().Jobs(ns).Delete(ctx, job, metav1.DeleteOptions{PropagationPolicy: &background})
	}
	_ = c.Typed.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, "kdrill-reports", metav1.DeleteOptions{})
	for i := 0; i < 120; i++ {
		if _, err := c.Typed.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "kdrill-reports", metav1.GetOptions{}); err != nil {
			break
		}
		<-time.After(500 * time.Millisecond)
	}
	if err := injob.Scenarios(ctx, c, ns, "kdrill-scenarios", "scenarios"); err != nil {
		return err
	}
	start := time.Now()
	for _, file := range []string{"deploy/indexed-job.yaml", "deploy/indexed-job-merge.yaml"} {
		objs, err := injob.Objects(file, ns, true)
		if err != nil {
			return err
		}
		if err := injob.Apply(ctx, c, objs); err != nil {
			return err
		}
		name := objs[len(objs)-1].GetName()
		fmt.Printf("%s: %s running…\n", file, name)
		job, err := injob.Wait(ctx, c, ns, name, time.Hour)
		if err != nil {
			return err
		}
		fmt.Printf("  %s: %d succeeded, %d failed after %s\n", name, job.Status.Succeeded, job.Status.Failed, time.Since(start).Round(time.Second))
	}
	dir, err := injob.ClaimDir(ctx, c, ns, "kdrill-reports")
	if err != nil {
		return err
	}
	// out is the Makefile's kdrill-report/in-cluster: the last demo's goes.
	if err := os.RemoveAll(out); err != nil { //nolint:gosec // the Makefile's own path
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil { //nolint:gosec // the Makefile's own path
		return err
	}
	//nolint:gosec // cp of the claim's merged report, paths of this program's making
	if err := exec.CommandContext(ctx, "cp", "-r", filepath.Join(dir, "kdrill-shards"), out).Run(); err != nil {
		return fmt.Errorf("copy the reports out of %s: %w", dir, err)
	}
	abs, _ := filepath.Abs(filepath.Join(out, "merged", "report.html"))
	fmt.Printf("\nin-cluster report (4 shards merged): %s\n", abs)
	return nil
}
