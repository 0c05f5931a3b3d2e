package bench

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
)

// buildKdrill builds the kdrill binary into dir; the benchmarks measure
// the program users run.
func buildKdrill(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "kdrill")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/kdrill")
	// As make build builds it: static (see the Makefile).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// checkFreshCounts fails when a monitor's last pod counts differ from a
// fresh list of the pods now: a watch event was dropped.
func checkFreshCounts(b *testing.B, c *kube.Cluster, ns, selector string, last map[string]int) {
	b.Helper()
	pods, err := c.Typed.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		b.Fatal(err)
	}
	fresh := map[string]int{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			fresh["Terminating"]++
		} else {
			fresh[string(p.Status.Phase)]++
		}
	}
	if !maps.Equal(fresh, last) {
		b.Errorf("the monitor's last sample counts %v, a fresh list %v", last, fresh)
	}
}
