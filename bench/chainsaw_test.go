package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
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

// suiteSize is how many copies of the test the side-by-side suite runs at
// once (--parallel), each in its own namespace.
const suiteSize = 8

// BenchmarkBesideChainsaw runs the same blue/green + quota test
// (testdata/bluegreen-quota.yaml, and testdata/chainsaw/bluegreen-quota
// written for chainsaw) with kdrill and with chainsaw on the same cluster:
// once alone, and suiteSize copies with --parallel suiteSize (chainsaw as
// it comes, and with --fast-namespace-deletion, which like kdrill deletes
// its namespaces without waiting for them to go). kdrill's runs include
// its report (results.json, junit.xml, report.html and charts). It reports
// each wall time and kdrill's as a fraction of chainsaw's.
func BenchmarkBesideChainsaw(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	cluster := testcluster.Connect(b)
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	chainsaw := chainsawBinary(b)
	single, suite := kdrillSuite(b, dir)
	csSingle, csSuite := chainsawSuite(b, dir)
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig)

	// Each run starts on a quiet cluster: the namespaces the run before
	// it left to be deleted are gone first (not timed).
	run := func(name string, args ...string) time.Duration {
		took := timed(b, env, name, args...)
		b.StopTimer()
		waitNamespacesGone(b, cluster)
		b.StartTimer()
		return took
	}
	var kSingle, cSingle, kSuite, cSuite, cFast time.Duration
	b.ResetTimer()
	for i := range b.N {
		report := filepath.Join(dir, fmt.Sprintf("report-%d", i))
		kSingle += run(bin, "run", "--quiet", "--report-dir", report+"-single", single)
		checkPassed(b, report+"-single", 1)
		cSingle += run(chainsaw, "test", "--no-color", "--test-dir", csSingle)
		kSuite += run(bin, append([]string{"run", "--quiet", "--parallel", fmt.Sprint(suiteSize), "--report-dir", report + "-suite"}, suite...)...)
		checkPassed(b, report+"-suite", suiteSize)
		cSuite += run(chainsaw, "test", "--no-color", "--parallel", fmt.Sprint(suiteSize), "--test-dir", csSuite)
		cFast += run(chainsaw, "test", "--no-color", "--parallel", fmt.Sprint(suiteSize), "--fast-namespace-deletion", "--test-dir", csSuite)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(kSingle.Seconds()/n, "kdrill-single-s")
	b.ReportMetric(cSingle.Seconds()/n, "chainsaw-single-s")
	b.ReportMetric(kSingle.Seconds()/cSingle.Seconds(), "single-x-chainsaw")
	b.ReportMetric(kSuite.Seconds()/n, "kdrill-suite-s")
	b.ReportMetric(cSuite.Seconds()/n, "chainsaw-suite-s")
	b.ReportMetric(cFast.Seconds()/n, "chainsaw-fast-suite-s")
	b.ReportMetric(kSuite.Seconds()/cSuite.Seconds(), "suite-x-chainsaw")
	b.ReportMetric(kSuite.Seconds()/cFast.Seconds(), "suite-x-chainsaw-fast")
}

// waitNamespacesGone waits until no namespace of either tool's tests is
// left on the cluster.
func waitNamespacesGone(b *testing.B, c *kube.Cluster) {
	b.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		list, err := c.Typed.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		left := 0
		for _, ns := range list.Items {
			if strings.HasPrefix(ns.Name, "chainsaw-") || strings.HasPrefix(ns.Name, "kdrill-bluegreen-quota-") {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d test namespaces still there after 3 minutes", left)
		}
		<-tick.C
	}
}

// timed runs a program to its end and returns its wall time; it fails the
// benchmark when the program fails.
func timed(b *testing.B, env []string, name string, args ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return took
}

// checkPassed fails unless the report directory's results say n scenarios
// ran and passed.
func checkPassed(b *testing.B, dir string, n int) {
	b.Helper()
	res, err := reports.ReadJSON(filepath.Join(dir, reports.ResultsFile))
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Scenarios) != n || res.Outcome != model.Passed {
		b.Fatalf("%s: %d scenarios, outcome %s; want %d passed", dir, len(res.Scenarios), res.Outcome, n)
	}
}

// kdrillSuite writes the kdrill test once alone and suiteSize times for
// the suite, and returns their files.
func kdrillSuite(b *testing.B, dir string) (string, []string) {
	b.Helper()
	test, err := os.ReadFile("testdata/bluegreen-quota.yaml")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "manifests"), os.DirFS("../scenarios/deploy/manifests")); err != nil {
		b.Fatal(err)
	}
	write := func(name string) string {
		file := filepath.Join(dir, "bluegreen-quota-"+name+".yaml")
		if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(test), "%d", name)), 0o644); err != nil {
			b.Fatal(err)
		}
		return file
	}
	single := write("single")
	var suite []string
	for i := range suiteSize {
		suite = append(suite, write(fmt.Sprint(i)))
	}
	return single, suite
}

// chainsawSuite writes chainsaw's test once alone and suiteSize times in a
// directory for the suite, and returns the two directories.
func chainsawSuite(b *testing.B, dir string) (string, string) {
	b.Helper()
	src := os.DirFS("testdata/chainsaw/bluegreen-quota")
	single := filepath.Join(dir, "chainsaw-single")
	if err := os.CopyFS(filepath.Join(single, "bluegreen-quota"), src); err != nil {
		b.Fatal(err)
	}
	suite := filepath.Join(dir, "chainsaw-suite")
	for i := range suiteSize {
		d := filepath.Join(suite, fmt.Sprintf("bluegreen-quota-%d", i))
		if err := os.CopyFS(d, src); err != nil {
			b.Fatal(err)
		}
		test := filepath.Join(d, "chainsaw-test.yaml")
		data, err := os.ReadFile(test)
		if err != nil {
			b.Fatal(err)
		}
		named := strings.Replace(string(data), "name: bluegreen-quota\n", fmt.Sprintf("name: bluegreen-quota-%d\n", i), 1)
		if err := os.WriteFile(test, []byte(named), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return single, suite
}

// chainsawBinary builds the chainsaw that chainsaw/go.mod pins, once per
// version: it is kept in the user's cache under a key made of the module's
// go.mod and go.sum.
func chainsawBinary(b *testing.B) string {
	b.Helper()
	h := sha256.New()
	for _, f := range []string{"chainsaw/go.mod", "chainsaw/go.sum"} {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		h.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(cache, "kdrill", "tools", "chainsaw-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	tmp := bin + fmt.Sprintf(".%d.tmp", os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/kyverno/chainsaw")
	cmd.Dir = "chainsaw"
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build chainsaw (bench/chainsaw/go.mod): %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		b.Fatal(err)
	}
	return bin
}
