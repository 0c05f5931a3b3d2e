package runner_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// flakyKind fails its first Fails runs under one key, then passes.
type flakyKind struct {
	Key   string
	Fails int
}

var flakyRuns sync.Map // key → *int

func (*flakyKind) Default()        {}
func (*flakyKind) Validate() error { return nil }

func (f *flakyKind) Run(context.Context, *step.Env) (any, error) {
	v, _ := flakyRuns.LoadOrStore(f.Key, new(int))
	n := v.(*int)
	*n++
	if *n <= f.Fails {
		return nil, fmt.Errorf("run %d fails", *n)
	}
	return nil, nil
}

// runAll loads the scenario bodies and runs them in namespaces the run
// makes on a fake cluster.
func runAll(t *testing.T, opts runner.Options, bodies ...string) *model.Results {
	t.Helper()
	var ss []*scenario.Scenario
	for i, body := range bodies {
		s, err := scenario.Parse(fmt.Sprintf("s%d.yaml", i), []byte(fmt.Sprintf("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s%d}\n%s", i, body)), loopRegistry())
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		ss = append(ss, s)
	}
	opts.Cluster = testcluster.Fake()
	return runner.Run(context.Background(), ss, opts)
}

func TestRetriesMarkFlakyAndKeepEveryAttempt(t *testing.T) {
	key := fmt.Sprint(time.Now().UnixNano())
	res := runAll(t, runner.Options{Retries: 2},
		// Fails once, then passes: flaky.
		"spec:\n  steps:\n  - {name: a, flaky: {key: "+key+"-1, fails: 1}}\n",
		// Fails every time: three attempts, failed.
		"spec:\n  steps:\n  - {name: a, fail: {msg: boom}}\n",
		// An infrastructure error is not retried.
		"spec:\n  steps:\n  - {name: a, infra: {}}\n",
		// Its own retries (none) override the run's.
		"spec:\n  retries: 0\n  steps:\n  - {name: a, flaky: {key: "+key+"-2, fails: 1}}\n",
	)
	if len(res.Scenarios) != 4 {
		t.Fatalf("%d scenarios recorded, want 4 (attempts are kept inside their scenario)", len(res.Scenarios))
	}
	flaky, failed, infra, own := res.Scenarios[0], res.Scenarios[1], res.Scenarios[2], res.Scenarios[3]
	if flaky.Outcome != model.Passed || !flaky.Flaky || flaky.Attempt != 2 || len(flaky.Attempts) != 1 {
		t.Errorf("flaky: %s flaky=%v attempt %d, %d earlier; want passed, flaky, attempt 2, 1 earlier", flaky.Outcome, flaky.Flaky, flaky.Attempt, len(flaky.Attempts))
	} else if e := flaky.Attempts[0]; e.Outcome != model.Failed || !e.Retried || !strings.Contains(e.Error, "run 1 fails") || e.Namespace == flaky.Namespace || e.Attempts != nil {
		t.Errorf("flaky's first attempt: %s retried=%v %q in %s (last in %s), %d nested; want failed, retried, its error, another namespace, none nested", e.Outcome, e.Retried, e.Error, e.Namespace, flaky.Namespace, len(e.Attempts))
	}
	if failed.Outcome != model.Failed || failed.Flaky || failed.Attempt != 3 || len(failed.Attempts) != 2 || failed.Retried {
		t.Errorf("always failing: %s flaky=%v attempt %d, %d earlier, retried=%v; want failed, attempt 3, 2 earlier", failed.Outcome, failed.Flaky, failed.Attempt, len(failed.Attempts), failed.Retried)
	}
	if infra.Outcome != model.Errored || len(infra.Attempts) != 0 {
		t.Errorf("infrastructure: %s with %d earlier attempts; want error, not retried", infra.Outcome, len(infra.Attempts))
	}
	if own.Outcome != model.Failed || len(own.Attempts) != 0 || own.Attempt != 0 {
		t.Errorf("retries: 0: %s with %d earlier attempts (attempt %d); want failed once", own.Outcome, len(own.Attempts), own.Attempt)
	}
	if res.Outcome != model.Errored {
		t.Errorf("run: %s; want error, the worst of its scenarios", res.Outcome)
	}
}

func TestRetriesNeedANamespaceTheRunMakes(t *testing.T) {
	_, err := scenario.Parse("s.yaml", []byte("apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  namespace: team\n  retries: 2\n  steps:\n  - {name: a, pass: {}}\n"), loopRegistry())
	if err == nil || !strings.Contains(err.Error(), "s.yaml:6") || !strings.Contains(err.Error(), "spec.namespace") {
		t.Errorf("retries with a given namespace: %v; want refused at line 6", err)
	}
	sr, _ := runLoop(t, context.Background(), "spec:\n  steps:\n  - {name: a, fail: {msg: boom}}\n", runner.Options{Retries: 3})
	if sr.Outcome != model.Failed || len(sr.Attempts) != 0 {
		t.Errorf("--retries in --namespace: %s after %d earlier attempts; want failed, not retried", sr.Outcome, len(sr.Attempts))
	}
}

func TestLockedScenariosNeverOverlap(t *testing.T) {
	locked := "spec:\n  lock: nodes\n  steps:\n  - {name: a, sleep: {duration: 200ms}}\n"
	free := "spec:\n  steps:\n  - {name: a, sleep: {duration: 200ms}}\n"
	res := runAll(t, runner.Options{Parallel: 4}, locked, free, locked, locked, free)
	var spans [][2]time.Time
	for _, i := range []int{0, 2, 3} {
		sr := res.Scenarios[i]
		if sr.Outcome != model.Passed {
			t.Fatalf("%s: %s %s", sr.Name, sr.Outcome, sr.Error)
		}
		spans = append(spans, [2]time.Time{sr.StartedAt, sr.FinishedAt})
	}
	for i := range spans {
		for j := i + 1; j < len(spans); j++ {
			if spans[i][0].Before(spans[j][1]) && spans[j][0].Before(spans[i][1]) {
				t.Errorf("locked scenarios overlap: %v–%v and %v–%v", spans[i][0], spans[i][1], spans[j][0], spans[j][1])
			}
		}
	}
	// The others still run beside them.
	free1 := res.Scenarios[1]
	beside := false
	for _, sp := range spans {
		beside = beside || (free1.StartedAt.Before(sp[1]) && sp[0].Before(free1.FinishedAt))
	}
	if !beside {
		t.Errorf("a scenario without the lock waited for those holding it")
	}
}
