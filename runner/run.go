package runner

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/kdrill/kdrill/model"
)

// DefaultCleanupTimeout bounds finally steps and namespace deletion after an
// interrupt.
const DefaultCleanupTimeout = 30 * time.Second

// Labels kdrill puts on the namespaces it creates.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelScenario  = "kdrill.dev/scenario"
)

// Options configure a run.
type Options struct {
	Cluster *Cluster
	// Namespace, when set, replaces every scenario's namespace; it is used as
	// it is and never deleted.
	Namespace string
	// Set overrides scenario vars, as written on the command line: a value
	// is read as a YAML scalar (5 is a number, true a boolean) unless the
	// scenario declares the var as a string, which keeps the text ("1.0").
	Set map[string]string
	// Timeout, when set, replaces every scenario's timeout.
	Timeout time.Duration
	// CleanupTimeout bounds finally steps and namespace deletion after an
	// interrupt (default 30s).
	CleanupTimeout time.Duration
	// Seed seeds the random source; 0 draws one. The seed used is recorded.
	Seed  int64
	Clock clock.WithTicker
	// FailFast stops the run after the first scenario that does not pass;
	// the rest are recorded as skipped.
	FailFast bool
	// Parallel runs up to this many scenarios at once (default 1), each in
	// its own namespace. Results keep the scenarios' order.
	Parallel int
	// AllowContexts are kubeconfig contexts (patterns) where disrupting
	// scenarios may run, besides local clusters' (see CheckPolicy).
	AllowContexts []string
	KdrillVersion string
	// Observers are told of every change to the results, in order.
	Observers []Observer
}

// Event says what changed in the results.
type Event int

// The events observers receive.
const (
	ScenarioStarted Event = iota
	StepStarted
	StepFinished
	ScenarioFinished
	RunFinished
)

// Observer follows a run as it happens: the console printer and the
// results.json writer are observers. s and st may be nil for run events.
type Observer interface {
	Observe(ev Event, r *model.Results, s *model.ScenarioResult, st *model.StepResult)
}

// Run runs the scenarios, one after another or Parallel at a time, and
// returns what happened. It stops early when ctx is cancelled, after running
// each started scenario's finally steps and cleanup.
func Run(ctx context.Context, scenarios []*Scenario, opts Options) *model.Results {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.CleanupTimeout == 0 {
		opts.CleanupTimeout = DefaultCleanupTimeout
	}
	res := &model.Results{
		APIVersion:    APIVersion,
		Kind:          model.ResultsKind,
		FormatVersion: model.ResultsVersion,
		KdrillVersion: opts.KdrillVersion,
		StartedAt:     opts.Clock.Now(),
		Outcome:       model.Running,
		Cluster:       model.ClusterInfo{Server: opts.Cluster.Server, Context: opts.Cluster.Context},
	}
	r := &run{opts: opts, results: res}
	// The safety policy holds for every caller; nothing is sent when it
	// refuses.
	err := CheckPolicy(scenarios, PolicyOptions{
		Namespace: opts.Namespace, Context: opts.Cluster.Context, AllowContexts: opts.AllowContexts, DryRun: opts.Cluster.DryRun,
	})
	var v string
	if err == nil {
		v, err = opts.Cluster.Ping(ctx)
	}
	if err != nil {
		res.Outcome = model.Errored
		for _, s := range scenarios {
			sr := r.newScenarioResult(s)
			sr.Outcome, sr.Error = model.Errored, err.Error()
			res.Scenarios = append(res.Scenarios, sr)
		}
		res.FinishedAt = opts.Clock.Now()
		r.notify(RunFinished, nil, nil)
		return res
	}
	res.Cluster.Version = v
	var (
		stop  atomic.Bool
		wg    sync.WaitGroup
		slots = make(chan struct{}, max(1, opts.Parallel))
		order = make([]*model.ScenarioResult, len(scenarios))
	)
	for i, s := range scenarios {
		acquired := false
		select {
		case slots <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil || stop.Load() {
			sr := r.newScenarioResult(s)
			sr.Outcome, sr.Error = model.Cancelled, "not run: the run was interrupted"
			if stop.Load() {
				sr.Outcome, sr.Error = model.Skipped, "not run: --fail-fast after a scenario that did not pass"
			}
			order[i] = sr
			res.Update(func() { res.Scenarios = append(res.Scenarios, sr) })
			if acquired {
				<-slots
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			var sr *model.ScenarioResult
			if opts.Cluster.DryRun {
				sr = r.plan(ctx, s)
			} else {
				sr = r.scenario(ctx, s)
			}
			order[i] = sr
			if opts.FailFast && sr.Outcome != model.Passed {
				stop.Store(true)
			}
		}()
	}
	wg.Wait()
	res.Update(func() {
		// Scenarios that ran side by side were recorded as they started.
		res.Scenarios = order
		res.Outages = opts.Cluster.Outages()
		res.FinishedAt = opts.Clock.Now()
		res.Outcome = res.Worst()
	})
	r.notify(RunFinished, nil, nil)
	return res
}

type run struct {
	opts     Options
	results  *model.Results
	notifyMu sync.Mutex
}

func (r *run) notify(ev Event, s *model.ScenarioResult, st *model.StepResult) {
	// Scenarios running side by side report one event at a time.
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	for _, o := range r.opts.Observers {
		o.Observe(ev, r.results, s, st)
	}
}

func (r *run) newScenarioResult(s *Scenario) *model.ScenarioResult {
	sr := &model.ScenarioResult{
		Name:        s.Metadata.Name,
		Description: s.Metadata.Description,
		File:        s.File,
		Labels:      s.Metadata.Labels,
		Vars:        MergeVars(s.Spec.Vars, r.opts.Set),
		Tolerances:  s.Spec.Tolerances,
		Outcome:     model.Skipped,
	}
	for _, st := range append(append([]*Step{}, s.Spec.Steps...), s.Spec.Finally...) {
		sr.Steps = append(sr.Steps, &model.StepResult{Index: st.Index, Phase: st.Phase, Name: st.Name, Kind: st.Kind, Line: st.Line, Outcome: model.Skipped})
	}
	return sr
}

// MergeVars applies --set overrides to a scenario's vars, each typed as
// the var is declared (SetVar); a value SetVar refuses stays text, though
// the loader refuses it first.
func MergeVars(vars map[string]any, set map[string]string) map[string]any {
	out := make(map[string]any, len(vars)+len(set))
	for k, v := range vars {
		out[k] = v
	}
	for k, text := range set {
		v, err := SetVar(vars[k], text)
		if err != nil {
			v = text
		}
		out[k] = v
	}
	return out
}

// SetVar reads a --set value as the type of the var's declared value: the
// text as it is for a string; a number, a boolean, a list or a mapping
// written as YAML for those. A value of another type is an error that says
// what was expected.
func SetVar(declared any, text string) (any, error) {
	if _, isString := declared.(string); isString {
		return text, nil
	}
	var v any = text
	if docs, err := ParseDocuments([]byte(text)); err == nil && len(docs) == 1 {
		v = docs[0].Value
	}
	want := ""
	switch declared.(type) {
	case int64, float64:
		switch v.(type) {
		case int64, float64:
			return v, nil
		}
		want = "a number"
	case bool:
		if _, ok := v.(bool); ok {
			return v, nil
		}
		want = "true or false"
	case []any:
		if _, ok := v.([]any); ok {
			return v, nil
		}
		want = "a list, such as [a, b]"
	case map[string]any:
		if _, ok := v.(map[string]any); ok {
			return v, nil
		}
		want = "a mapping, such as {a: 1}"
	default:
		return scalarOrText(v, text), nil
	}
	return nil, fmt.Errorf("%q is not %s, as the var is declared (%s)", text, want, FormatValue(declared))
}

// scalarOrText keeps a YAML scalar's type, and anything else as text.
func scalarOrText(v any, text string) any {
	switch v.(type) {
	case int64, float64, bool:
		return v
	}
	return text
}

func (r *run) scenario(ctx context.Context, s *Scenario) *model.ScenarioResult {
	clk := r.opts.Clock
	sr := r.newScenarioResult(s)
	seed := r.seed()
	r.results.Update(func() {
		sr.Seed = seed
		sr.Outcome = model.Running
		sr.StartedAt = clk.Now()
		r.results.Scenarios = append(r.results.Scenarios, sr)
	})
	env := r.newEnv(ctx, s, sr, seed)
	timeout := s.Spec.Timeout.Duration
	if r.opts.Timeout > 0 {
		timeout = r.opts.Timeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	ns, created, err := r.namespace(sctx, s)
	r.results.Update(func() { sr.Namespace, sr.NamespaceCreated = ns, created })
	env.Namespace = ns
	r.notify(ScenarioStarted, sr, nil)
	failed := err != nil
	if err != nil {
		r.results.Update(func() {
			sr.Error = err.Error()
			sr.Outcome = outcomeOf(ctx, err)
		})
	}

	results := sr.Steps
	for i, st := range s.Spec.Steps {
		if failed || sctx.Err() != nil {
			break
		}
		if st.Background {
			r.background(sctx, ctx, env, st, sr, results[i])
			continue
		}
		// A lab's failed check costs its points and the grading goes on.
		labCheck := s.Spec.Lab != nil && !st.Setup
		if !r.step(sctx, ctx, env, st, sr, results[i], nil) && !st.ContinueOnError && !labCheck {
			failed = true
		}
	}

	// finally steps run whatever happened, with their own bounded time: after
	// an interrupt or the scenario's timeout the cleanup timeout bounds them.
	cleanupCtx := context.WithoutCancel(ctx)
	if ctx.Err() != nil || sctx.Err() != nil {
		var cancelCleanup context.CancelFunc
		cleanupCtx, cancelCleanup = context.WithTimeout(cleanupCtx, r.opts.CleanupTimeout)
		defer cancelCleanup()
	}
	// Background steps end before finally steps: monitors are stopped, other
	// steps are waited for (or stopped too when the steps failed).
	env.shared.tasks.finish(cleanupCtx, failed || sctx.Err() != nil)
	for i, st := range s.Spec.Finally {
		r.step(cleanupCtx, cleanupCtx, env, st, sr, results[len(s.Spec.Steps)+i], nil)
	}
	if created {
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.CleanupTimeout)
		err := r.opts.Cluster.Typed.CoreV1().Namespaces().Delete(dctx, ns, metav1.DeleteOptions{})
		dcancel()
		if err != nil && !apierrors.IsNotFound(err) {
			env.Log.Warn("namespace not deleted", "namespace", ns, "err", err)
			r.results.Update(func() {
				if sr.Error == "" {
					sr.Error = fmt.Sprintf("namespace %s not deleted: %v", ns, err)
				}
			})
		}
	}

	r.results.Update(func() {
		sr.FinishedAt = clk.Now()
		sr.DurationSeconds = sr.FinishedAt.Sub(sr.StartedAt).Seconds()
		if sr.Outcome == model.Running {
			sr.Outcome = model.Passed
		}
		worstStep(sr)
		if s.Spec.Lab != nil {
			sr.Score = score(s, sr)
			if sr.Outcome == model.Failed || sr.Outcome == model.Passed {
				sr.Outcome, sr.Error = model.Passed, ""
				if !sr.Score.Passed {
					sr.Outcome = model.Failed
					sr.Error = fmt.Sprintf("scored %d of %d points; %d needed to pass", sr.Score.Earned, sr.Score.Possible, sr.Score.PassingScore)
				}
			}
		}
		if ctx.Err() != nil {
			sr.Outcome = model.Cancelled
		} else if sctx.Err() != nil && sr.Outcome == model.Passed {
			sr.Outcome = model.Failed
			sr.Error = fmt.Sprintf("scenario timed out after %s", timeout)
		}
	})
	r.notify(ScenarioFinished, sr, nil)
	return sr
}

// score grades a lab from its steps' outcomes.
func score(s *Scenario, sr *model.ScenarioResult) *model.Score {
	sc := &model.Score{Checks: []model.CheckScore{}}
	for i, st := range s.Spec.Steps {
		if st.Points == 0 {
			continue
		}
		res := sr.Steps[i]
		c := model.CheckScore{Step: st.Name, Points: st.Points, Passed: res.Outcome == model.Passed}
		if c.Passed {
			c.Earned = st.Points
		} else {
			c.Hint = st.Hint
		}
		sc.Possible += c.Points
		sc.Earned += c.Earned
		sc.Checks = append(sc.Checks, c)
	}
	sc.PassingScore = sc.Possible
	if p := s.Spec.Lab.PassingScore; p != nil {
		sc.PassingScore = *p
	}
	sc.Passed = sc.Earned >= sc.PassingScore
	return sc
}

// background starts a step that runs beside the following ones; a wait or
// stop step, or the end of the steps, joins it.
func (r *run) background(sctx, runCtx context.Context, env *Env, st *Step, sr *model.ScenarioResult, res *model.StepResult) {
	bctx, cancel := context.WithCancel(sctx)
	t := &task{step: st, result: res, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{})}
	env.shared.tasks.add(t)
	r.results.Update(func() { res.Outcome = model.Running })
	go func() {
		defer close(t.done)
		defer cancel()
		if !r.step(bctx, runCtx, env, st, sr, res, t) {
			r.results.Read(func() { t.err = fmt.Errorf("%s", res.Error) })
		}
	}()
	// A step that runs until stopped (a monitor) says when it is set up; the
	// next step starts only then, so it cannot act before it is observed.
	if st.Info.Continuous {
		select {
		case <-t.ready:
		case <-t.done:
		case <-sctx.Done():
		}
	}
}

// step runs one step and reports whether it passed. stepParent bounds the
// step; runCtx tells an interrupt from a timeout; t is set for a background
// step, whose stop is not a failure.
func (r *run) step(stepParent, runCtx context.Context, env *Env, st *Step, scen *model.ScenarioResult, sr *model.StepResult, t *task) bool {
	clk := r.opts.Clock
	timeout := st.Timeout.Duration
	if timeout == 0 {
		timeout = env.Scenario.Spec.StepTimeout.Duration
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if st.Info.Continuous && st.Timeout.Duration == 0 {
		ctx, cancel = context.WithCancel(stepParent) // bounded by the scenario
	} else {
		ctx, cancel = context.WithTimeout(stepParent, timeout)
	}
	defer cancel()
	log := Logger(runCtx).With("scenario", env.Scenario.Metadata.Name, "step", st.Name, "kind", st.Kind)
	senv := env.forStep(st, sr, log)
	if t != nil {
		senv.ready = func() { t.once.Do(func() { close(t.ready) }) }
	}
	ctx = withStepPolicy(WithLogger(ctx, log), st)
	r.results.Update(func() {
		sr.Outcome = model.Running
		sr.StartedAt = clk.Now()
	})
	r.notify(StepStarted, scen, sr)

	action, err := st.actionFor(senv)
	var out any
	if err == nil {
		out, err = action.Run(ctx, senv)
	}

	stopped := t != nil && env.shared.tasks.wasStopped(t) && runCtx.Err() == nil
	if stopped && errors.Is(err, context.Canceled) {
		err = nil
	}
	// Expressions see the output as plain values; the result records it with
	// any Secret's value hidden. Both are worked out once, outside the lock.
	var plain any
	if out != nil {
		plain = Plain(out)
	}
	recorded := r.redactOutput(out, plain)
	r.results.Update(func() {
		sr.FinishedAt = clk.Now()
		sr.DurationSeconds = sr.FinishedAt.Sub(sr.StartedAt).Seconds()
		sr.Output = recorded
		r.results.Outages = r.opts.Cluster.Outages()
		switch err {
		case nil:
			sr.Outcome = model.Passed
		default:
			sr.Outcome = outcomeOf(runCtx, err)
			msg := err.Error()
			var refused *PolicyError
			if errors.As(err, &refused) {
				msg = refused.Msg
			}
			if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "timed out") {
				msg = fmt.Sprintf("timed out after %s: %s", timeout, msg)
			}
			sr.Error = r.opts.Cluster.Redactor.String(msg)
		}
	})
	if out != nil {
		env.setOutput(st.Name, plain)
	}
	if err != nil && runCtx.Err() == nil && env.Namespace != "" {
		events := r.recentEvents(runCtx, env.Namespace, scen.StartedAt)
		r.results.Update(func() { sr.Events = events })
	}
	r.notify(StepFinished, scen, sr)
	return err == nil
}

// redactOutput returns what a step's result records of its output: the
// output itself, or, when a Secret's value shows in it, a plain copy with
// the value hidden. Later expressions still see the real output.
func (r *run) redactOutput(out, plain any) any {
	red := r.opts.Cluster.Redactor
	if out == nil || red.empty() {
		return out
	}
	hidden := red.Value(plain)
	if reflect.DeepEqual(plain, hidden) {
		return out
	}
	return hidden
}

// maxStepEvents is how many of a namespace's events a failed step keeps.
const maxStepEvents = 20

// recentEvents lists the namespace's events since the scenario started,
// newest maxStepEvents, oldest first, to show beside a failed step. A
// failure to list them is logged, not reported: the step's own error is
// the one that matters.
func (r *run) recentEvents(ctx context.Context, namespace string, since time.Time) []model.EventRecord {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	list, err := r.opts.Cluster.Typed.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		Logger(ctx).Warn("could not list events for a failed step", "namespace", namespace, "err", err)
		return nil
	}
	var out []model.EventRecord
	for _, e := range list.Items {
		at := e.LastTimestamp.Time
		if at.IsZero() {
			at = e.EventTime.Time
		}
		if at.IsZero() {
			at = e.CreationTimestamp.Time
		}
		if at.Before(since.Add(-time.Second)) {
			continue
		}
		out = append(out, model.EventRecord{
			Time: at, Type: e.Type, Reason: e.Reason, Count: e.Count, Message: r.opts.Cluster.Redactor.String(e.Message),
			Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if len(out) > maxStepEvents {
		out = out[len(out)-maxStepEvents:]
	}
	return out
}

// outcomeOf classifies a step's error.
func outcomeOf(runCtx context.Context, err error) model.Outcome {
	switch {
	case runCtx.Err() != nil && errors.Is(err, context.Canceled):
		return model.Cancelled
	case IsInfra(err):
		return model.Errored
	default:
		return model.Failed
	}
}

// namespace returns the scenario's namespace, creating it when the run
// should own it.
func (r *run) namespace(ctx context.Context, s *Scenario) (string, bool, error) {
	nsClient := r.opts.Cluster.Typed.CoreV1().Namespaces()
	name := r.opts.Namespace
	if name == "" {
		name = s.Spec.Namespace
	}
	if name != "" {
		_, err := nsClient.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return name, false, nil
		}
		if !apierrors.IsNotFound(err) {
			return name, false, fmt.Errorf("namespace %s: %w", name, err)
		}
		_, err = nsClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{LabelManagedBy: "kdrill"},
		}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return name, false, fmt.Errorf("create namespace %s: %w", name, err)
		}
		return name, false, nil
	}
	prefix := s.Metadata.Name
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	ns, err := nsClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "kdrill-" + prefix + "-",
		Labels:       map[string]string{LabelManagedBy: "kdrill", LabelScenario: s.Metadata.Name},
	}}, metav1.CreateOptions{})
	if err != nil {
		return "", false, fmt.Errorf("create namespace: %w", err)
	}
	return ns.Name, true, nil
}

// Plain turns a step's output into what expressions see: maps keyed by
// the output's JSON field names, lists, strings, numbers, booleans, times,
// and durations (so steps.m.recovery.p95 < duration("30s") works).
func Plain(v any) any {
	return plainValue(reflect.ValueOf(v))
}

var (
	durationType = reflect.TypeFor[model.Duration]()
	stdDuration  = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

func plainValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Type() {
	case durationType:
		return v.Interface().(model.Duration).Duration
	case stdDuration, timeType:
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plainValue(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		plainStruct(v, out)
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = plainValue(v.MapIndex(k))
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = plainValue(v.Index(i))
		}
		return out
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if u := v.Uint(); u <= math.MaxInt64 {
			return int(int64(u))
		}
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return v.Interface()
}

func plainStruct(v reflect.Value, out map[string]any) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				plainStruct(fv, out)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(opts, "omitempty") && fv.IsZero() {
			continue
		}
		out[name] = plainValue(fv)
	}
}

// drawSeed picks a run's seed when none is given: positive and below 2^53,
// so it survives JSON and a rerun with --seed replays the run.
func drawSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])                                 // crypto/rand.Read never fails on Linux
	return int64(binary.LittleEndian.Uint64(b[:])>>11) + 1 //nolint:gosec // G115: shifted into range first
}

// DryRunNamespace is where a dry run checks namespaced objects when the
// scenario names none and -n is not given: a run would create a fresh
// namespace, which a dry run cannot.
const DryRunNamespace = "default"

// plan walks a scenario's steps without changing the cluster: each writing
// step says what it would do, its writes sent as server-side dry runs.
func (r *run) plan(ctx context.Context, s *Scenario) *model.ScenarioResult {
	clk := r.opts.Clock
	sr := r.newScenarioResult(s)
	seed := r.seed()
	ns := r.opts.Namespace
	if ns == "" {
		ns = s.Spec.Namespace
	}
	if ns == "" {
		ns = DryRunNamespace
	}
	r.results.Update(func() {
		sr.Seed, sr.Namespace, sr.Outcome, sr.StartedAt = seed, ns, model.Running, clk.Now()
		r.results.Scenarios = append(r.results.Scenarios, sr)
	})
	env := r.newEnv(ctx, s, sr, seed)
	env.Namespace = ns
	r.notify(ScenarioStarted, sr, nil)
	steps := append(append([]*Step{}, s.Spec.Steps...), s.Spec.Finally...)
	for i, st := range steps {
		res := sr.Steps[i]
		if ctx.Err() != nil {
			break
		}
		senv := env.forStep(st, res, env.Log.With("step", st.Name))
		r.results.Update(func() { res.Outcome, res.StartedAt = model.Running, clk.Now() })
		r.notify(StepStarted, sr, res)
		text, err := "reads or waits only; not run in a dry run", error(nil)
		action, aerr := st.actionFor(senv)
		if p, ok := action.(Planner); ok && aerr == nil {
			pctx, cancel := context.WithTimeout(withStepPolicy(ctx, st), 30*time.Second)
			text, err = p.Plan(pctx, senv)
			cancel()
		}
		if aerr != nil {
			err = aerr
		}
		_, planned := st.Action.(Planner)
		r.results.Update(func() {
			res.FinishedAt = clk.Now()
			res.DurationSeconds = res.FinishedAt.Sub(res.StartedAt).Seconds()
			res.Plan, res.Outcome = r.opts.Cluster.Redactor.String(text), model.Passed
			if !planned {
				res.Outcome = model.Skipped
			}
			if err != nil {
				res.Outcome, res.Error = outcomeOf(ctx, err), r.opts.Cluster.Redactor.String(err.Error())
			}
		})
		r.notify(StepFinished, sr, res)
	}
	r.results.Update(func() {
		sr.FinishedAt = clk.Now()
		sr.DurationSeconds = sr.FinishedAt.Sub(sr.StartedAt).Seconds()
		sr.Outcome = model.Passed
		worstStep(sr)
	})
	r.notify(ScenarioFinished, sr, nil)
	return sr
}

// newEnv is the environment a scenario's steps share; its namespace is set
// once known.
func (r *run) newEnv(ctx context.Context, s *Scenario, sr *model.ScenarioResult, seed int64) *Env {
	return &Env{
		Cluster: r.opts.Cluster, Scenario: s, Vars: sr.Vars, Clock: r.opts.Clock, Seed: seed,
		Log:    Logger(ctx).With("scenario", s.Metadata.Name),
		shared: &shared{outputs: map[string]any{}, results: r.results, scenario: sr, tasks: newTasks()},
	}
}

// seed is the run's --seed, or a fresh one per scenario.
func (r *run) seed() int64 {
	if r.opts.Seed != 0 {
		return r.opts.Seed
	}
	return drawSeed()
}

// worstStep raises a scenario's outcome to its worst step's and takes that
// step's error as the scenario's, if it has none yet.
func worstStep(sr *model.ScenarioResult) {
	for _, st := range sr.Steps {
		if model.Severity(st.Outcome) > model.Severity(sr.Outcome) && st.Outcome != model.Skipped {
			sr.Outcome = st.Outcome
			if sr.Error == "" {
				sr.Error = fmt.Sprintf("%s[%d] %q: %s", st.Phase, st.Index, st.Name, st.Error)
			}
		}
	}
}
