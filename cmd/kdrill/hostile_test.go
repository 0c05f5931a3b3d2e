package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kdrill/kdrill/internal/hostile"
)

// maxHostileRSS bounds what kdrill may take to refuse a hostile file.
const maxHostileRSS = 200 << 20

// TestHostileInputIsRefusedCleanly runs the kdrill binary on every file of
// scenario/testdata/bad, and on a 50 MB file, against a stand-in API server
// that counts requests: each must exit 2 with the file and line, without a
// panic, within the memory bound, and without sending a single request.
func TestHostileInputIsRefusedCleanly(t *testing.T) {
	bin := buildKdrill(t)
	server, requests := countingServer(t)
	dir := t.TempDir()
	kubeconfig := kubeconfigFor(t, dir, server, "kind-hostile")

	files, err := filepath.Glob("../../scenario/testdata/bad/*.yaml")
	if err != nil || len(files) < 40 {
		t.Fatalf("want at least 40 bad scenarios, found %d (%v)", len(files), err)
	}
	big := filepath.Join(dir, "fifty-megabytes.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("    - " + strings.Repeat("x", 72) + "\n")
	if _, err := f.WriteString("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: big}\nspec:\n  vars:\n    big:\n"); err != nil {
		t.Fatal(err)
	}
	for written := 0; written < 50<<20; written += len(line) {
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	type want struct{ line, text string }
	cases := map[string]want{big: {"", "larger than the"}}
	generated, err := hostile.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range generated {
		cases[c.Path] = want{"", c.Want}
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		spec := strings.TrimPrefix(first, "# want: ")
		l, text, _ := strings.Cut(spec, ": ")
		cases[file] = want{l, text}
	}
	for file, w := range cases {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cmd := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "r"), file)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if code != exitInvalid {
				t.Errorf("exit %d (%v), want %d\n%s%s", code, err, exitInvalid, stdout.String(), stderr.String())
			}
			out := stderr.String()
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("kdrill panicked:\n%s", out)
			}
			where := file + ":"
			// A problem in an included file names that file and its line,
			// after the include's line in this one.
			if w.line != "" && w.line != "0" && !strings.Contains(w.text, ".yaml:") {
				where += w.line + ":"
			}
			if !strings.Contains(out, where) || !strings.Contains(out, w.text) {
				t.Errorf("stderr lacks %q and %q:\n%s", where, w.text, out)
			}
			// A child's peak RSS includes the parent's at the moment of exec
			// (Go starts children with vfork, and the kernel keeps the old
			// address space's high-water mark): it is an upper bound, too
			// loose under the race detector, whose test process alone is
			// larger than the bound.
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && !raceDetector && ru.Maxrss*1024 > maxHostileRSS {
				t.Errorf("peak RSS %d MiB, over %d MiB", ru.Maxrss/1024, maxHostileRSS>>20)
			}
			// validate applies exactly the checks run does.
			if code, stdout, stderr := kdrill(t, "validate", file); code != exitInvalid || !strings.Contains(stderr, w.text) {
				t.Errorf("validate: exit %d, want %d with %q\n%s%s", code, exitInvalid, w.text, stdout, stderr)
			}
		})
	}
	// A --set value of the wrong type for its var is refused at load.
	setFile := writeFile(t, dir, "typed.yaml", "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: typed}\nspec:\n  vars: {replicas: 3, debug: false}\n  steps:\n  - name: s\n    assert: {expr: vars.replicas > 0}\n")
	for _, set := range []string{"replicas=three", "debug=maybe", "replicas=[1]"} {
		code, _, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "r"), "--set", set, setFile)
		if code != exitInvalid || !strings.Contains(stderr, setFile+":5: spec.vars.") || !strings.Contains(stderr, "as the var is declared") {
			t.Errorf("--set %s: exit %d\n%s", set, code, stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("hostile input sent %d requests to the cluster", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "r")); err == nil {
		t.Error("a refused run wrote a report directory")
	}
}

// A manifest outside the scenario's directory, through a link or ..,
// loads only with --allow-outside-paths.
func TestOutsidePathsNeedTheFlag(t *testing.T) {
	dir := t.TempDir()
	outside := writeFile(t, dir, "shared.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n")
	scenarios := filepath.Join(dir, "scenarios")
	if err := os.MkdirAll(filepath.Join(scenarios, "manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(scenarios, "manifests", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"manifests/link.yaml", "../shared.yaml"} {
		file := writeFile(t, scenarios, "s-"+strconv.Itoa(len(ref))+".yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: s}
spec:
  steps:
  - name: shared
    apply: {file: `+ref+`}
`)
		if code, _, stderr := kdrill(t, "validate", file); code != exitInvalid || !strings.Contains(stderr, "--allow-outside-paths permits it") {
			t.Errorf("%s without the flag: exit %d, %s", ref, code, stderr)
		}
		if code, stdout, stderr := kdrill(t, "validate", "--allow-outside-paths", file); code != 0 {
			t.Errorf("%s with the flag: exit %d\n%s%s", ref, code, stdout, stderr)
		}
	}
}
