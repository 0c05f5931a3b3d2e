package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

func kdrill(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"kdrill"}, args...), &stdout, &stderr, func() os.Signal { return nil })
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const passing = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: passing}
spec:
  vars: {want: 1}
  steps:
  - name: config
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {n: "1"}}}
  - name: check
    assert:
      resource: {kind: ConfigMap, name: c}
      expr: object.data.n == string(vars.want)
`

const failing = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: failing}
spec:
  steps:
  - name: never true
    timeout: 300ms
    assert:
      resource: {kind: ConfigMap, name: absent}
      expr: object != nil
`

const broken = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: broken}
spec:
  steps:
  - name: scale
    scale: {kind: Deployment, name: web, replicas: many}
`

// unreachable is a kubeconfig for an API server that is not there.
const unreachable = `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: u}}]
current-context: nowhere
`

func TestExitCodesWithoutCluster(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "passing.yaml", passing)
	bad := writeFile(t, dir, "broken.yaml", broken)
	nowhere := writeFile(t, dir, "kubeconfig", unreachable)
	labs := filepath.Join(dir, "labs")
	if err := os.Mkdir(labs, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, labs, "lab.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: lab}
spec:
  lab: {}
  steps:
  - {name: check, points: 1, assert: {expr: "true"}}
`)
	mixed := filepath.Join(dir, "mixed")
	if err := os.Mkdir(mixed, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, mixed, "manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	writeFile(t, mixed, "quoted.yaml", strings.Replace(passing, "kind: Scenario", `kind: "Scenario"`, 1))
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, manifests, "manifest.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	brokenDir := filepath.Join(dir, "broken")
	if err := os.Mkdir(brokenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, brokenDir, "ok.yaml", passing)
	writeFile(t, brokenDir, "typo.yaml", strings.Replace(passing, "apiVersion: kdrill.dev/v1alpha1", "apiVersion: kdrill.dev/v1alpha", 1))
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		wantOutput string
	}{
		{"validate ok", []string{"validate", good}, 0, "ok " + good},
		{"a quoted envelope is a scenario", []string{"validate", mixed}, 0, "ok " + filepath.Join(mixed, "quoted.yaml")},
		{"-v lists what was skipped", []string{"validate", "-v", mixed}, 0, "skipped " + filepath.Join(mixed, "manifest.yaml") + ": not a scenario"},
		{"a directory of manifests", []string{"validate", manifests}, 2, "no scenario in this directory"},
		{"a broken scenario is never skipped", []string{"validate", brokenDir}, 2, `typo.yaml:1: apiVersion: must be kdrill.dev/v1alpha1, not "kdrill.dev/v1alpha"`},
		{"validate reports file and line", []string{"validate", bad}, 2, bad + `:7: steps[0] "scale": scale.replicas: must be a whole number`},
		{"validate missing file", []string{"validate", filepath.Join(dir, "nope.yaml")}, 2, "nope.yaml: no such file"},
		{"validate checks with --set", []string{"validate", "--set", "want=two", good}, 2, `spec.vars.want: --set want=two: "two" is not a number, as the var is declared (1)`},
		{"validate refuses an unknown --set", []string{"validate", "--set", "wnat=2", good}, 2, `no scenario declares a var named "wnat"`},
		{"validate with --set", []string{"validate", "--set", "want=2", good}, 0, "ok " + good},
		{"run needs a path", []string{"run"}, 2, "name at least one scenario"},
		{"--pause-on-failure needs a terminal", []string{"run", "--pause-on-failure", good}, 2, "--pause-on-failure waits for Enter on a terminal"},
		{"unknown flag", []string{"run", "--nope", good}, 2, "flag provided but not defined"},
		{"unknown var in --set", []string{"run", "--kubeconfig", nowhere, "--set", "wnat=2", good}, 2, `no scenario declares a var named "wnat"`},
		{"bad --set", []string{"run", "--set", "novalue", good}, 2, "want NAME=VALUE"},
		{"a --set value keeps its commas", []string{"run", "--kubeconfig", nowhere, "--set", "wnat=[a, b]", good}, 2, `no scenario declares a var named "wnat"`},
		{"invalid scenario is reported before connecting", []string{"run", "--kubeconfig", nowhere, bad}, 2, bad + ":7:"},
		{"unreachable cluster", []string{"run", "--kubeconfig", nowhere, "--report-dir", filepath.Join(dir, "r"), good}, 3, "cannot reach the cluster at https://127.0.0.1:1"},
		{"missing kubeconfig", []string{"run", "--kubeconfig", filepath.Join(dir, "absent"), good}, 2, "kubeconfig"},
		{"unknown step kind", []string{"steps", "explode"}, 2, `no step kind "explode"`},
		{"a directory of labs only", []string{"run", "--kubeconfig", nowhere, labs}, 2, "only labs, which need -n"},
		{"a lab named without -n", []string{"run", "--kubeconfig", nowhere, filepath.Join(labs, "lab.yaml")}, 2, "is a lab: it grades an existing namespace"},
		{"steps catalogue", []string{"steps", "assert"}, 0, "holdFor (duration)"},
		{"compare needs two files", []string{"compare", good}, 2, "give BASELINE.json and CURRENT.json"},
		{"compare reads results files", []string{"compare", good, good}, 2, "not a kdrill results file"},
		{"bad tolerance", []string{"compare", "--tolerance", "lots", good, good}, 2, "--tolerance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := kdrill(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.wantOutput) {
				t.Errorf("output does not contain %q\nstdout: %s\nstderr: %s", tc.wantOutput, stdout, stderr)
			}
		})
	}
}

func TestRunExitCodesOnCluster(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "passing.yaml", passing)
	bad := writeFile(t, dir, "failing.yaml", failing)

	reportDir := filepath.Join(dir, "report")
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, "--set", "want=1", good)
	if code != 0 {
		t.Fatalf("passing scenario exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"✓ config [apply]", "✓ check [assert]", "✓ passing PASSED", "results: " + reportDir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("console output lacks %q:\n%s", want, stdout)
		}
	}
	var res model.Results
	data, err := os.ReadFile(filepath.Join(reportDir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != model.Passed || len(res.Scenarios) != 1 || len(res.Scenarios[0].Steps) != 2 || res.Scenarios[0].Vars["want"] != float64(1) {
		t.Errorf("results.json: %s", data)
	}

	// The same scenario against its own results as the baseline: no
	// regression beyond the default tolerance; then kdrill compare reads
	// both files.
	code, stdout, _ = kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "again"), "--baseline", filepath.Join(reportDir, "results.json"), "--seconds-slack", "5s", good)
	if code != 0 || !strings.Contains(stdout, "no regressions in") {
		t.Errorf("--baseline with an equal run: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = kdrill(t, "compare", "--seconds-slack", "5s", filepath.Join(reportDir, "results.json"), filepath.Join(dir, "again", "results.json"))
	if code != 0 || !strings.Contains(stdout, "no regressions") {
		t.Errorf("compare: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "r2"), good, bad)
	if code != 1 {
		t.Fatalf("a failing scenario must exit 1, got %d\n%s", code, stdout)
	}
	for _, want := range []string{"✗ never true [assert]", "expected object != nil", "1 failed, 1 passed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("console output lacks %q:\n%s", want, stdout)
		}
	}

	// --fail-fast: the failing scenario (first in file order) stops the run.
	code, stdout, _ = kdrill(t, "run", "--fail-fast", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "r3"), good, bad)
	if code != 1 || !strings.Contains(stdout, "1 failed, 1 skipped") || strings.Contains(stdout, "✓ passing PASSED") {
		t.Errorf("--fail-fast: exit %d\n%s", code, stdout)
	}
	// -l selects by metadata.labels: neither scenario has area=chaos.
	if code, _, errOut := kdrill(t, "run", "-l", "area=chaos", "--kubeconfig", kubeconfig, good, bad); code != 2 || !strings.Contains(errOut, "no scenario matches") {
		t.Errorf("-l with no match: exit %d %s", code, errOut)
	}
}

func TestRunOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    *RunOptions
		want string
	}{
		{"ok", &RunOptions{Paths: []string{"a.yaml"}, LogLevel: "info", Parallel: 1, Tolerance: "20%"}, ""},
		{"parallel 0", &RunOptions{Paths: []string{"a.yaml"}, LogLevel: "info", Parallel: 0, Tolerance: "20%"}, "--parallel 0: want 1 or more"},
		{"tolerance without %", &RunOptions{Paths: []string{"a.yaml"}, LogLevel: "info", Parallel: 1, Tolerance: "150"}, "write 150% if you mean"},
		{"a context twice", &RunOptions{
			Paths: []string{"a.yaml"}, LogLevel: "info", Parallel: 1, Tolerance: "20%",
			Connections: []kube.Connection{{Context: "prod"}, {Context: "prod"}},
		}, "--context prod is given twice"},
		{"no paths", &RunOptions{LogLevel: "info"}, "name at least one"},
		{"bad level", &RunOptions{Paths: []string{"a"}, LogLevel: "loud"}, "--log-level"},
		{"bad set", &RunOptions{Paths: []string{"a"}, LogLevel: "info", Set: []string{"=1"}}, "NAME=VALUE"},
		{"negative timeout", &RunOptions{Paths: []string{"a"}, LogLevel: "info", Timeout: -1}, "negative"},
	} {
		err := tc.o.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSelectAndShardScenarios(t *testing.T) {
	var all []*scenario.Scenario
	for i, area := range []string{"chaos", "deploy", "chaos", "labs", "chaos", "deploy", "chaos"} {
		s := &scenario.Scenario{File: fmt.Sprintf("s%d.yaml", i)}
		s.Metadata.Labels = map[string]string{"area": area}
		all = append(all, s)
	}
	files := func(ss []*scenario.Scenario) string {
		var names []string
		for _, s := range ss {
			names = append(names, s.File)
		}
		return strings.Join(names, ",")
	}
	chaos, err := selectScenarios(all, "area=chaos", "")
	if err != nil || files(chaos) != "s0.yaml,s2.yaml,s4.yaml,s6.yaml" {
		t.Errorf("-l area=chaos: %s %v", files(chaos), err)
	}
	// Shards split the set without overlap and cover all of it.
	seen := map[string]int{}
	for k := 1; k <= 3; k++ {
		part, err := selectScenarios(all, "", fmt.Sprintf("%d/3", k))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range part {
			seen[s.File]++
		}
	}
	if len(seen) != len(all) {
		t.Errorf("shards covered %d of %d", len(seen), len(all))
	}
	for f, n := range seen {
		if n != 1 {
			t.Errorf("%s ran in %d shards", f, n)
		}
	}
	if part, _ := selectScenarios(all, "area!=labs", "2/2"); files(part) != "s1.yaml,s4.yaml,s6.yaml" {
		t.Errorf("selector then shard: %s", files(part))
	}
	for _, bad := range []string{"0/2", "3/2", "2", "a/b", "1/0"} {
		if _, _, err := parseShard(bad); err == nil {
			t.Errorf("--shard %s accepted", bad)
		}
	}
	// --shards N: the share is an Indexed Job's completion index, 0-based.
	if got, err := indexedShard("", 4, "0"); got != "1/4" || err != nil {
		t.Errorf("--shards 4 at index 0: %q, %v", got, err)
	}
	if got, err := indexedShard("", 4, "3"); got != "4/4" || err != nil {
		t.Errorf("--shards 4 at index 3: %q, %v", got, err)
	}
	for _, c := range []struct {
		shard, index string
		n            int
		want         string
	}{
		{"", "", 4, "which is not set"},
		{"", "4", 4, `is "4", want 0 to 3`},
		{"", "x", 4, `is "x"`},
		{"1/4", "0", 4, "not both"},
		{"", "0", 0, "want at least 1"},
	} {
		if _, err := indexedShard(c.shard, c.n, c.index); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--shard %q --shards %d at index %q: %v, want %q", c.shard, c.n, c.index, err, c.want)
		}
	}
}

func TestReportMergeAndRerender(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, name := range []string{"one", "two"} {
		r := &model.Results{
			APIVersion: model.APIVersion, Kind: model.ResultsKind, FormatVersion: model.ResultsVersion, Outcome: model.Passed,
			Scenarios: []*model.ScenarioResult{{
				Name: name, File: name + ".yaml", Outcome: model.Passed,
				Steps: []*model.StepResult{{Name: "s", Kind: "sleep", Phase: "steps", Outcome: model.Passed}},
			}},
		}
		path := filepath.Join(dir, fmt.Sprintf("shard%d", i), "results.json")
		if err := reports.WriteJSON(path, r); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	out := filepath.Join(dir, "merged")
	code, stdout, stderr := kdrill(t, append([]string{"report", "merge", "--out", out}, files...)...)
	if code != 0 {
		t.Fatalf("merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
	merged, err := reports.ReadJSON(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Scenarios) != 2 {
		t.Errorf("merged %d scenarios", len(merged.Scenarios))
	}
	for _, f := range []string{"junit.xml", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if code, _, _ := kdrill(t, "report", "merge", "--out", out, files[0]); code != 2 {
		t.Errorf("merge of one file: exit %d, want 2", code)
	}
	if code, stdout, _ := kdrill(t, "report", "--out", filepath.Join(dir, "again"), files[0]); code != 0 || !strings.Contains(stdout, "report.html") {
		t.Errorf("report: exit %d %s", code, stdout)
	}
}
