package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
)

func consoleRun(c *Console) {
	res := &model.Results{}
	sr := &model.ScenarioResult{Name: "web", Namespace: "kdrill-web-1", Outcome: model.Failed, DurationSeconds: 3}
	ok := &model.StepResult{Name: "deploy", Kind: "apply", Outcome: model.Passed, DurationSeconds: 1}
	bad := &model.StepResult{Name: "ready", Kind: "assert", Outcome: model.Failed, DurationSeconds: 2, Error: "expected x; last seen: x = 1"}
	sr.Steps = []*model.StepResult{ok, bad}
	res.Scenarios = []*model.ScenarioResult{sr}
	c.Observe(model.ScenarioStarted, res, sr, nil)
	c.Observe(model.StepStarted, res, sr, ok)
	c.Observe(model.StepFinished, res, sr, ok)
	c.Observe(model.StepFinished, res, sr, bad)
	c.Observe(model.ScenarioFinished, res, sr, nil)
	c.Observe(model.RunFinished, res, nil, nil)
}

func TestConsoleModes(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var plain bytes.Buffer
	consoleRun(&Console{W: &plain, Timestamps: true, Now: func() time.Time { return at }})
	for _, want := range []string{"10:00:00.000 ▶ web", "10:00:00.000   ✓ deploy [apply] 1s", "10:00:00.000   ✗ ready [assert] 2s", "10:00:00.000       expected x; last seen: x = 1"} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("plain output lacks %q:\n%s", want, plain.String())
		}
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain output has escape codes")
	}
	if strings.Contains(plain.String(), "10:00:00.000 \n") {
		t.Errorf("a blank line got a timestamp:\n%s", plain.String())
	}

	var quiet bytes.Buffer
	consoleRun(&Console{W: &quiet, Quiet: true, Names: true})
	if strings.Contains(quiet.String(), "deploy") || !strings.Contains(quiet.String(), "[web] ✗ ready") || strings.Contains(quiet.String(), "▶") {
		t.Errorf("quiet output:\n%s", quiet.String())
	}

	var verbose bytes.Buffer
	consoleRun(&Console{W: &verbose, Verbose: true, Color: true})
	if !strings.Contains(verbose.String(), "… deploy [apply]") || !strings.Contains(verbose.String(), "\x1b[31m✗\x1b[0m ready") {
		t.Errorf("verbose output:\n%q", verbose.String())
	}
}

func TestNewConsoleOutsideATerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	c := NewConsole(&bytes.Buffer{}, false, false, false)
	if c.Live || c.Color || !c.Timestamps {
		t.Errorf("a buffer: live %v colour %v timestamps %v", c.Live, c.Color, c.Timestamps)
	}
}

func TestConsoleStatusLineShowsRunningSteps(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	res := &model.Results{Scenarios: []*model.ScenarioResult{{Name: "web", Steps: []*model.StepResult{
		{Name: "deploy", Kind: "apply", Outcome: model.Passed},
		{Name: "ready", Kind: "assert", Outcome: model.Running, StartedAt: at.Add(-12 * time.Second), Values: map[string]any{"object.status.availableReplicas": 2}},
	}}}}
	res.Scenarios = append(res.Scenarios, &model.ScenarioResult{Name: "chaos", Steps: []*model.StepResult{
		{Name: "kills", Kind: "killPoisson", Outcome: model.Running, StartedAt: at.Add(-3 * time.Second), Progress: map[string]any{"batches": 2, "of": 10, "killed": 17}},
	}})
	c := &Console{W: &bytes.Buffer{}, Names: true, Total: 3, Now: func() time.Time { return at }}
	line := c.statusLine(res, 0)
	for _, want := range []string{"[0/3 done] ", "web › ready assert 12s: object.status.availableReplicas = 2", "chaos › kills killPoisson 3s: batches = 2, killed = 17, of = 10"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line %q lacks %q", line, want)
		}
	}
	res.Scenarios = res.Scenarios[:1]
	res.Scenarios[0].Steps[1].Outcome = model.Passed
	if line := c.statusLine(res, 1); line != "" {
		t.Errorf("nothing runs, yet the status line is %q", line)
	}
}
