package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/runner/testcluster"
)

// A report directory that cannot take results is refused before the
// first request (exit 2): a file, the kernel's trees, one another kdrill
// holds; runs without --report-dir get directories of their own even when
// they start in the same second.
func TestReportDirIsClaimedBeforeTheRun(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "file", "x")
	for _, bad := range []string{file, "/proc/kdrill", "/sys/x", "/dev/null"} {
		if _, err := claimReportDir(bad); err == nil || !isUsageError(err) {
			t.Errorf("--report-dir %s: %v, want a usage error", bad, err)
		}
	}
	held, err := claimReportDir(filepath.Join(dir, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claimReportDir(filepath.Join(dir, "shared")); err == nil || !strings.Contains(err.Error(), "in use by another kdrill") {
		t.Errorf("a second claim of a held directory: %v", err)
	}
	held.Release()
	again, err := claimReportDir(filepath.Join(dir, "shared"))
	if err != nil {
		t.Errorf("a released directory: %v", err)
	}
	again.Release()

	t.Chdir(dir)
	seen := map[string]bool{}
	for range 3 {
		d, err := claimReportDir("")
		if err != nil {
			t.Fatal(err)
		}
		if seen[d.Path] {
			t.Errorf("two runs got %s", d.Path)
		}
		seen[d.Path] = true
	}

	// Through the command: exit 2, before any request (the kubeconfig
	// names a port nothing listens on).
	scen := writeFile(t, dir, "s.yaml", passing)
	kubeconfig := writeFile(t, dir, "kubeconfig", `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: kind-c, context: {cluster: c, user: u}}]
current-context: kind-c
`)
	if code, _, errOut := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", file, scen); code != 2 || !strings.Contains(errOut, "is a file, not a directory") {
		t.Errorf("run --report-dir FILE: exit %d %s", code, errOut)
	}
}

// On a disk that fills up, the run does not pass silently: the files that
// could not be written are named and the exit status is not 0.
func TestRunOnAFullDisk(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting a small filesystem needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	// Leave about 12 KiB free: results.json fits, the report does not.
	if err := os.WriteFile(filepath.Join(mnt, "filler"), make([]byte, 52*1024), 0o644); err != nil {
		t.Fatal(err)
	}
	scen := writeFile(t, t.TempDir(), "s.yaml", passing)
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(mnt, "report"), "--set", "want=1", scen)
	if code == 0 || !strings.Contains(stderr, "not written:") {
		t.Errorf("exit %d on a full disk\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("exit %d: %s", code, stderr)
}
