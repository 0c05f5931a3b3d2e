package runner_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// Step kinds of the run loop's tests: each does one thing the loop must
// handle, with no cluster behind it.
type (
	passKind  struct{ N int }
	failKind  struct{ Msg string }
	blockKind struct{}
	infraKind struct{}
	writeKind struct{ Name string }
	naKind    struct{}
)

func (*passKind) Default()         {}
func (*passKind) Validate() error  { return nil }
func (*failKind) Default()         {}
func (*failKind) Validate() error  { return nil }
func (*blockKind) Default()        {}
func (*blockKind) Validate() error { return nil }
func (*infraKind) Default()        {}
func (*infraKind) Validate() error { return nil }
func (*naKind) Default()           {}
func (*naKind) Validate() error    { return nil }
func (*writeKind) Default()        {}
func (*writeKind) Validate() error { return nil }

func (p *passKind) Run(context.Context, *step.Env) (any, error) {
	return map[string]any{"n": p.N}, nil
}

func (f *failKind) Run(context.Context, *step.Env) (any, error) { return nil, errors.New(f.Msg) }

func (*blockKind) Run(ctx context.Context, _ *step.Env) (any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (*infraKind) Run(context.Context, *step.Env) (any, error) {
	return nil, &kube.InfraError{Err: errors.New("the API server answered 503")}
}

func (*naKind) Run(context.Context, *step.Env) (any, error) {
	return nil, step.NotApplicable("the pods are simulated")
}

func (w *writeKind) Run(ctx context.Context, env *step.Env) (any, error) {
	_, err := env.Cluster.Typed.CoreV1().ConfigMaps(env.Namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: w.Name}}, metav1.CreateOptions{})
	return nil, err
}

func (w *writeKind) Plan(context.Context, *step.Env) (string, error) {
	return "would create ConfigMap " + w.Name, nil
}

// loopRegistry has the test kinds plus the real control kinds.
func loopRegistry() scenario.Registry {
	reg := scenario.Registry{
		"pass":       {New: step.NewAction[passKind], Effect: scenario.Reads},
		"fail":       {New: step.NewAction[failKind], Effect: scenario.Reads},
		"block":      {New: step.NewAction[blockKind], Effect: scenario.Reads},
		"infra":      {New: step.NewAction[infraKind], Effect: scenario.Reads},
		"write":      {New: step.NewAction[writeKind], Effect: scenario.Writes},
		"undeclared": {New: step.NewAction[passKind]},
		"change":     {New: step.NewAction[changeKind], Effect: scenario.Writes},
		"make":       {New: step.NewAction[makeKind], Effect: scenario.Writes},
		"note":       {New: step.NewAction[noteKind], Effect: scenario.Reads},
		"na":         {New: step.NewAction[naKind], Effect: scenario.Reads},
		"flaky":      {New: step.NewAction[flakyKind], Effect: scenario.Reads},
	}
	for _, k := range []string{"wait", "stop", "sleep", "assert"} {
		reg[k] = steps.Registry[k]
	}
	return reg
}

// runLoop loads a scenario body with the test kinds and runs it on a fake
// cluster in namespace "team", returning the scenario's result.
func runLoop(t *testing.T, ctx context.Context, body string, opts runner.Options) (*model.ScenarioResult, *kube.Cluster) {
	t.Helper()
	s, err := scenario.Parse("loop.yaml", []byte("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: loop}\n"+body), loopRegistry())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if opts.Cluster == nil {
		opts.Cluster = testcluster.Fake(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}})
	}
	if opts.Namespace == "" {
		opts.Namespace = "team"
	}
	res := runner.Run(ctx, []*scenario.Scenario{s}, opts)
	if len(res.Scenarios) != 1 {
		t.Fatalf("%d scenario results", len(res.Scenarios))
	}
	return res.Scenarios[0], opts.Cluster
}

func outcomes(sr *model.ScenarioResult) string {
	var parts []string
	for _, st := range sr.Steps {
		parts = append(parts, fmt.Sprintf("%s=%s", st.Name, st.Outcome))
	}
	return strings.Join(parts, " ")
}

func TestRunLoopPaths(t *testing.T) {
	for _, tc := range []struct {
		name, body   string
		scenario     model.Outcome
		steps, error string
	}{
		{"pass, then finally", `spec:
  steps:
  - {name: a, pass: {n: 1}}
  - {name: b, assert: {expr: "namespace == 'team'"}}
  finally:
  - {name: f, pass: {}}
`, model.Passed, "a=passed b=passed f=passed", ""},
		{"a failure stops the steps, finally still runs", `spec:
  steps:
  - {name: a, fail: {msg: boom}}
  - {name: b, pass: {}}
  finally:
  - {name: f, pass: {}}
`, model.Failed, "a=failed b=skipped f=passed", `steps[0] "a": boom`},
		{"continueOnError", `spec:
  steps:
  - {name: a, continueOnError: true, fail: {msg: boom}}
  - {name: b, pass: {}}
`, model.Failed, "a=failed b=passed", "boom"},
		{"a step timeout", `spec:
  steps:
  - {name: a, timeout: 20ms, block: {}}
`, model.Failed, "a=failed", "timed out after 20ms"},
		{"an infrastructure error", `spec:
  steps:
  - {name: a, infra: {}}
`, model.Errored, "a=error", "503"},
		{"background steps are stopped at the end", `spec:
  steps:
  - {name: bg, background: true, block: {}}
  - {name: a, pass: {}}
  - {name: s, stop: {steps: [bg]}}
`, model.Passed, "bg=passed a=passed s=passed", ""},
		{"waiting on a failed background step fails", `spec:
  steps:
  - {name: bg, background: true, fail: {msg: bad}}
  - {name: w, wait: {steps: [bg]}}
`, model.Failed, "bg=failed w=failed", "bad"},
		{"waiting on a background step the cluster failed is the cluster's fault too", `spec:
  steps:
  - {name: bg, background: true, infra: {}}
  - {name: w, wait: {steps: [bg]}}
`, model.Errored, "bg=error w=error", "503"},
		{"the scenario's timeout", `spec:
  timeout: 30ms
  steps:
  - {name: a, block: {}}
  finally:
  - {name: f, pass: {}}
`, model.Failed, "a=failed f=passed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr, _ := runLoop(t, context.Background(), tc.body, runner.Options{})
			if sr.Outcome != tc.scenario || outcomes(sr) != tc.steps || !strings.Contains(sr.Error, tc.error) {
				t.Errorf("scenario %s (%q), steps %s; want %s, %s, error with %q", sr.Outcome, sr.Error, outcomes(sr), tc.scenario, tc.steps, tc.error)
			}
		})
	}
}

func TestRunLoopCancelRunsFinally(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cluster := testcluster.Fake(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}})
	interrupt := observerFunc(func(ev model.Event, st *model.StepResult) {
		if ev == model.StepStarted && st.Name == "a" {
			cancel()
		}
	})
	sr, _ := runLoop(t, ctx, `spec:
  steps:
  - {name: a, block: {}}
  finally:
  - {name: cleanup, write: {name: cleaned}}
`, runner.Options{Cluster: cluster, Observers: []model.Observer{interrupt}})
	if sr.Outcome != model.Cancelled || outcomes(sr) != "a=cancelled cleanup=passed" {
		t.Errorf("scenario %s, steps %s", sr.Outcome, outcomes(sr))
	}
	if _, err := cluster.Typed.CoreV1().ConfigMaps("team").Get(context.Background(), "cleaned", metav1.GetOptions{}); err != nil {
		t.Errorf("the finally step did not write: %v", err)
	}
}

func TestRunLoopLabScore(t *testing.T) {
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "team"}, Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.",
	}}}}
	cluster := testcluster.Fake(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, pending)
	sr, _ := runLoop(t, context.Background(), `spec:
  lab: {passingScore: 3}
  steps:
  - {name: one, points: 2, hint: h1, pass: {}}
  - {name: two, points: 3, hint: look at the quota, fail: {msg: no quota}}
  - {name: three, points: 1, pass: {}}
`, runner.Options{Cluster: cluster})
	sc := sr.Score
	if sc == nil || sc.Earned != 3 || sc.Possible != 6 || !sc.Passed || sr.Outcome != model.Passed {
		t.Fatalf("score %+v, outcome %s", sc, sr.Outcome)
	}
	if sc.Checks[1].Hint != "look at the quota" || sc.Checks[1].Passed {
		t.Errorf("failed check %+v", sc.Checks[1])
	}
	// A failed check shows the likely cause next to its hint.
	if want := "pod web-1 is Pending: 0/5 nodes are available"; !strings.Contains(sc.Checks[1].Cause, want) {
		t.Errorf("failed check's cause %q, want %q", sc.Checks[1].Cause, want)
	}
}

// A check the cluster cannot make is neither earned nor lost: its points
// are counted apart, the passing score shrinks in proportion, the run goes
// on to the next step, and a lab with nothing gradable does not pass.
func TestRunLoopPassingSendsNoDiagnosticRequests(t *testing.T) {
	cluster := testcluster.Fake(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}})
	runLoop(t, context.Background(), `spec:
  steps:
  - {name: a, pass: {}}
  - {name: w, write: {name: c}}
`, runner.Options{Cluster: cluster})
	for _, a := range cluster.Typed.(*kubefake.Clientset).Actions() {
		if a.GetVerb() == "list" || a.GetSubresource() == "log" {
			t.Errorf("a passing run sent %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	sr, _ := runLoop(t, context.Background(), `spec:
  steps:
  - {name: a, fail: {msg: boom}}
`, runner.Options{Cluster: cluster})
	if sr.Steps[0].Diagnostics == nil {
		t.Error("a failing step collected no diagnostics")
	}
}

func TestRunLoopDryRunPlans(t *testing.T) {
	cluster := testcluster.Fake(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}})
	cluster.DryRun = true
	sr, _ := runLoop(t, context.Background(), `spec:
  steps:
  - {name: w, write: {name: c}}
  - {name: p, pass: {}}
`, runner.Options{Cluster: cluster})
	if outcomes(sr) != "w=passed p=skipped" || sr.Steps[0].Plan != "would create ConfigMap c" {
		t.Errorf("steps %s, plan %q", outcomes(sr), sr.Steps[0].Plan)
	}
	if list, _ := cluster.Typed.CoreV1().ConfigMaps("team").List(context.Background(), metav1.ListOptions{}); len(list.Items) != 0 {
		t.Errorf("a dry run wrote %d ConfigMaps", len(list.Items))
	}
}

// An undeclared effect counts as disrupting: -n kube-system stops the
// scenario before any step runs, whoever calls Run.
func TestRunLoopPolicyHoldsForLibraryCallers(t *testing.T) {
	cluster := testcluster.Fake(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}})
	sr, _ := runLoop(t, context.Background(), `spec:
  steps:
  - {name: u, undeclared: {}}
`, runner.Options{Cluster: cluster, Namespace: "kube-system"})
	if sr.Outcome != model.Errored || !strings.Contains(sr.Error, "kube-system is a system namespace (given with -n)") || outcomes(sr) != "u=skipped" {
		t.Errorf("scenario %s %q, steps %s", sr.Outcome, sr.Error, outcomes(sr))
	}
}

// The run loop reads time from the injected clock: with a fake one, a
// sleep ends when the test steps the clock, and the recorded durations are
// exactly what the clock says.
func TestRunLoopFakeClock(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan *model.ScenarioResult)
	go func() {
		sr, _ := runLoop(t, context.Background(), `spec:
  steps:
  - {name: settle, sleep: {duration: 90s}}
`, runner.Options{Clock: clk})
		done <- sr
	}()
	for !clk.HasWaiters() {
		select {
		case sr := <-done:
			t.Fatalf("finished before the clock moved: %s", outcomes(sr))
		default:
			runtimeGosched()
		}
	}
	clk.Step(90 * time.Second)
	sr := <-done
	if sr.Outcome != model.Passed || sr.Steps[0].DurationSeconds != 90 || sr.DurationSeconds != 90 {
		t.Errorf("outcome %s, step %.3fs, scenario %.3fs; want 90s each", sr.Outcome, sr.Steps[0].DurationSeconds, sr.DurationSeconds)
	}
}

func runtimeGosched() { runtime.Gosched() }

// observerFunc is an Observer that sees each step event.
type observerFunc func(model.Event, *model.StepResult)

func (f observerFunc) Observe(ev model.Event, _ *model.Results, _ *model.ScenarioResult, st *model.StepResult) {
	if st != nil {
		f(ev, st)
	}
}

// PauseOnFailure is called once, after the failure and before finally.
func TestRunLoopPausesBeforeFinally(t *testing.T) {
	var order []string
	pause := func(_ context.Context, sr *model.ScenarioResult) {
		order = append(order, "pause:"+outcomes(sr))
	}
	record := observerFunc(func(ev model.Event, st *model.StepResult) {
		if ev == model.StepStarted {
			order = append(order, "start:"+st.Name)
		}
	})
	runLoop(t, context.Background(), `spec:
  steps:
  - {name: a, fail: {msg: boom}}
  finally:
  - {name: f, pass: {}}
`, runner.Options{PauseOnFailure: pause, Observers: []model.Observer{record}})
	if got := strings.Join(order, " "); got != "start:a pause:a=failed f=skipped start:f" {
		t.Errorf("order %q", got)
	}
	order = nil
	runLoop(t, context.Background(), `spec:
  steps:
  - {name: a, pass: {}}
`, runner.Options{PauseOnFailure: pause})
	if len(order) != 0 {
		t.Errorf("paused after a pass: %v", order)
	}
}

// A step that says expectFailure passes when its action fails (with the
// message, when given) and says so, fails when the action passes or fails
// otherwise; an outage is not the failure expected.
