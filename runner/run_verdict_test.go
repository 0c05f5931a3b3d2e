package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
)

func TestRunLoopNotApplicable(t *testing.T) {
	sr, _ := runLoop(t, context.Background(), `spec:
  lab: {passingScore: 8}
  steps:
  - {name: objects, points: 4, pass: {}}
  - {name: traffic, points: 4, hint: h, na: {}}
  - {name: after, points: 2, fail: {msg: wrong}}
`, runner.Options{})
	if got := outcomes(sr); got != "objects=passed traffic=notApplicable after=failed" {
		t.Fatalf("outcomes %s", got)
	}
	sc := sr.Score
	// 8 of 10 to pass; 4 not graded: 8*6/10 rounded up is 5; 4 earned.
	if sc.Earned != 4 || sc.Possible != 6 || sc.NotGraded != 4 || sc.PassingScore != 5 || sc.Passed {
		t.Errorf("score %+v", sc)
	}
	if c := sc.Checks[1]; c.NotApplicable != "the pods are simulated" || c.Hint != "" || c.Earned != 0 {
		t.Errorf("not applicable check %+v", c)
	}
	if st := sr.Steps[1]; st.Error != "the pods are simulated" || st.Diagnostics != nil {
		t.Errorf("not applicable step %+v", st)
	}
	sr, _ = runLoop(t, context.Background(), "spec:\n  steps:\n  - {name: traffic, na: {}}\n  - {name: after, pass: {}}\n", runner.Options{})
	if sr.Outcome != model.Passed || sr.NotApplicable() != 1 {
		t.Errorf("scenario %s, %d not applicable; want passed with 1", sr.Outcome, sr.NotApplicable())
	}
	sr, _ = runLoop(t, context.Background(), "spec:\n  lab: {}\n  steps:\n  - {name: traffic, points: 2, na: {}}\n", runner.Options{})
	if sr.Score.Passed || sr.Outcome != model.Failed {
		t.Errorf("a lab with nothing graded: %+v, %s", sr.Score, sr.Outcome)
	}
}

// Diagnostics cost nothing while every step passes: no request reads
// pods, events or logs.
func TestRunLoopExpectedFailure(t *testing.T) {
	sr, _ := runLoop(t, context.Background(), `spec:
  steps:
  - {name: broken rollout, expectFailure: {message: ImagePullBackOff}, fail: {msg: "pod web-1: ImagePullBackOff"}}
  - {name: any failure, expectFailure: true, fail: {msg: boom}}
  - {name: passes, expectFailure: true, continueOnError: true, pass: {}}
  - {name: other failure, expectFailure: {message: ImagePullBackOff}, continueOnError: true, fail: {msg: quota exceeded}}
  - {name: outage, expectFailure: true, continueOnError: true, infra: {}}
`, runner.Options{})
	if got := outcomes(sr); got != "broken rollout=passed any failure=passed passes=failed other failure=failed outage=error" {
		t.Fatalf("outcomes %s", got)
	}
	if st := sr.Steps[0]; st.FailedAsExpected != "pod web-1: ImagePullBackOff" || st.Error != "" {
		t.Errorf("failed as expected: %+v", st)
	}
	for i, want := range map[int]string{2: "expected to fail, but it passed", 3: `failed, but not as expected: the error does not say "ImagePullBackOff": quota exceeded`} {
		if sr.Steps[i].Error != want {
			t.Errorf("step %d: %q, want %q", i, sr.Steps[i].Error, want)
		}
	}
	for body, want := range map[string]string{
		"expectFailure: false":       "false expects nothing",
		"expectFailure: {mesage: x}": "unknown field",
		"expectFailure: [ImagePull]": "want true or {message: TEXT}, not a list",
	} {
		_, err := scenario.Parse("x.yaml", []byte("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: x}\nspec:\n  steps:\n  - name: s\n    "+body+"\n    pass: {}\n"), loopRegistry())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
