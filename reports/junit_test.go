package reports_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

func TestJUnitIsReadByAnIndependentParser(t *testing.T) {
	r := sample()
	// Something a cluster could return, with markup in it.
	r.Scenarios[0].Steps[1].Error = `expected object.x == 1; it did not hold; last seen: object.x = "<b>&'\"</b>"`
	r.Scenarios = append(r.Scenarios, &model.ScenarioResult{Name: "unreachable", File: "u.yaml", Outcome: model.Errored, Error: "cannot reach the cluster at https://127.0.0.1:1"})
	var buf bytes.Buffer
	if err := reports.WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	suites, err := junit.Ingest(buf.Bytes())
	if err != nil {
		t.Fatalf("go-junit cannot read it: %v\n%s", err, buf.String())
	}
	if len(suites) != 2 {
		t.Fatalf("%d suites", len(suites))
	}
	demo := suites[0]
	if demo.Name != "demo" || demo.Totals.Tests != 3 || demo.Totals.Failed != 1 || demo.Totals.Passed != 2 {
		t.Errorf("suite %s totals %+v", demo.Name, demo.Totals)
	}
	byName := map[string]junit.Test{}
	for _, tc := range demo.Tests {
		byName[tc.Name] = tc
		if tc.Classname != "kdrill.demo" {
			t.Errorf("classname %q", tc.Classname)
		}
	}
	failed := byName["available"]
	if failed.Status != junit.StatusFailed || !strings.Contains(failed.Error.Error(), `"<b>&'\"</b>"`) {
		t.Errorf("failed case: %+v", failed)
	}
	if failed.Duration.Seconds() != 2 {
		t.Errorf("duration %s", failed.Duration)
	}
	if _, ok := byName["finally: cleanup"]; !ok {
		t.Errorf("finally step missing: %v", byName)
	}
	if u := suites[1]; u.Totals.Error != 1 || u.Tests[0].Status != junit.StatusError {
		t.Errorf("unreachable scenario: %+v", u.Totals)
	}

	// And it is well-formed XML that libxml2 finds valid against the JUnit
	// schema kdrill promises (testdata/junit.xsd).
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian's libxml2-utils; .ci/run installs it)")
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
	// The schema is not a rubber stamp: a testcase without its classname
	// (what broke Jenkins imports elsewhere) fails it.
	broken := strings.Replace(buf.String(), ` classname="kdrill.`, ` x="kdrill.`, 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput(); err == nil {
		t.Errorf("xmllint accepted a testcase without a classname:\n%s", out)
	}
}

// A check the cluster could not make is a skipped case with the reason,
// never a pass or a failure.
func TestJUnitNotApplicableIsSkippedWithTheReason(t *testing.T) {
	r := &model.Results{Scenarios: []*model.ScenarioResult{{Name: "np", Outcome: model.Passed, Steps: []*model.StepResult{
		{Name: "allowed", Outcome: model.Passed},
		{Name: "denied", Outcome: model.NotApplicable, Error: "this cluster does not enforce NetworkPolicy"},
	}}}}
	var b bytes.Buffer
	if err := reports.WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`skipped="1"`, `failures="0"`, `<skipped message="not applicable: this cluster does not enforce NetworkPolicy">`} {
		if !strings.Contains(out, want) {
			t.Errorf("junit lacks %s:\n%s", want, out)
		}
	}
}
