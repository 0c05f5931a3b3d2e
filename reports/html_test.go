package reports_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

const hostile = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`

func hostileResults() *model.Results {
	r := monitorResults()
	s := r.Scenarios[0]
	s.Description = hostile
	s.Steps[1].Error = "expected object.x == 1; last seen: " + hostile
	s.Steps[1].Values = map[string]any{"object.metadata.name": hostile}
	s.Vars = map[string]any{"note": hostile}
	s.Steps[1].Events = []model.EventRecord{{Type: "Warning", Reason: "BackOff", Object: "Pod/" + hostile, Message: hostile, Count: 3}}
	return r
}

func TestHTMLEscapesWhatCameFromTheCluster(t *testing.T) {
	var buf bytes.Buffer
	if err := reports.WriteHTML(&buf, hostileResults()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>") || strings.Contains(page, "<img src=x") {
		t.Error("unescaped markup from the results reached the page")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;") {
		t.Error("the hostile text is not shown escaped")
	}
	// Self-contained: no external scripts, styles or images.
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(page); m != "" {
		t.Errorf("external asset reference %q", m)
	}
	for _, want := range []string{"data:image/png;base64,", "kdrill report", `class="bar failed"`, "object.x == 1", "finally: cleanup"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestHTMLRendersInChromium opens the report in headless Chromium, takes a
// screenshot and checks that the page logged no errors.
func TestHTMLRendersInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (Debian's chromium; .ci/run installs it)")
	}
	dir := t.TempDir()
	page, err := reports.WriteHTMLFile(dir, hostileResults())
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--window-size=1280,1600", "--screenshot="+shot, "file://"+page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") || strings.Contains(line, "ERR_FILE_NOT_FOUND") {
			t.Errorf("browser console: %s", line)
		}
	}
	info, err := os.Stat(shot)
	if err != nil || info.Size() < 10_000 {
		t.Fatalf("no screenshot of the page (%v)", err)
	}
	if keep := os.Getenv("KDRILL_KEEP_SCREENSHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, data, 0o644)
	}
}

func TestHTMLShowsALabsScore(t *testing.T) {
	r := sample()
	r.Scenarios[0].Score = &model.Score{Earned: 3, Possible: 5, PassingScore: 4, Checks: []model.CheckScore{
		{Step: "quota", Points: 3, Earned: 3, Passed: true},
		{Step: "selector", Points: 2, Hint: "Patch the <Service> selector"},
	}}
	var buf bytes.Buffer
	if err := reports.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Score: 3 / 5", "(passing score 4)", "0 / 2", "Patch the &lt;Service&gt; selector"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLTabulatesAMatrix(t *testing.T) {
	r := sample()
	base := r.Scenarios[0]
	r.Scenarios = nil
	for i, n := range []int{3, 300} {
		s := *base
		s.Name = fmt.Sprintf("scale[replicas=%d]", n)
		s.Instance = map[string]any{"replicas": n}
		s.Outcome = []model.Outcome{model.Passed, model.Failed}[i]
		s.DurationSeconds = float64(10 * (i + 1))
		s.Steps = []*model.StepResult{{Name: "availability", Kind: "monitor", Outcome: model.Passed, Output: &model.MonitorOutput{MinAvailable: n - 1}}}
		r.Scenarios = append(r.Scenarios, &s)
	}
	var buf bytes.Buffer
	if err := reports.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"<h2>scale: 2 instances</h2>",
		"<th>replicas</th><th>outcome</th><th><code>duration</code></th>",
		`<td>3</td><td><a href="#run-0"><span class="badge passed">passed</span></a></td><td>10.000s</td>`,
		`<td>300</td><td><a href="#run-1"><span class="badge failed">failed</span></a></td><td>20.000s</td>`,
		"<th><code>steps[availability].minAvailable</code></th>",
		`<section class="scenario" id="scenario-scale[replicas=300]"><a id="run-1"></a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestHTMLShowsAColumnPerCluster(t *testing.T) {
	r := sample()
	base := r.Scenarios[0]
	r.Scenarios = nil
	for i, c := range []string{"staging", "canary"} {
		s := *base
		s.Name, s.Cluster = "demo@"+c, c
		s.Outcome = []model.Outcome{model.Passed, model.Failed}[i]
		r.Scenarios = append(r.Scenarios, &s)
	}
	var buf bytes.Buffer
	if err := reports.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<h2>On 2 clusters</h2>",
		"<th>scenario</th><th>staging</th><th>canary</th>",
		`<td>demo</td><td><a href="#run-0"><span class="badge passed">passed</span></a></td><td><a href="#run-1"><span class="badge failed">failed</span></a></td>`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
