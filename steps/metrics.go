package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Metrics reads what the cluster measures of itself and judges it: a
// PromQL query against a Prometheus the scenario names, or the API
// server's own request metrics (latency and errors by verb, from its
// /metrics, so control-plane SLIs need no Prometheus). It reads at an
// instant, or over a window: the step's duration, or, in the background,
// from its start until a stop step or the end of the steps (a range query
// for PromQL; the difference of the counters at both ends for the API
// server). The query is parsed when the scenario loads. A Prometheus that
// cannot be reached or refuses the query fails the step with the cause, or
// makes it not applicable when optional says the check may be skipped; it
// is never passed over in silence.
//
// Example:
//
//	steps:
//	- name: control plane
//	  background: true
//	  metrics: {apiServer: true}
//	- name: kills
//	  killPoisson: {workload: {kind: Deployment, name: web}, mean: 1, interval: 2s, rounds: 5}
//	- name: stop
//	  stop: {steps: [control plane]}
//	- name: SLO held
//	  assert: {expr: 'steps["control plane"].apiServer.verbs.GET.latency.p99 < duration("1s")'}
//	- name: no restarts
//	  metrics:
//	    prometheus: {url: "http://127.0.0.1:9090"}
//	    query: sum(kube_pod_container_status_restarts_total{namespace="${{ namespace }}"})
//	    expect: result == 0
type Metrics struct {
	// Prometheus to query, by URL, by Service (through the API server's
	// service proxy) or by a pod's port (through a port-forward). Give it
	// with query.
	Prometheus *PrometheusRef `json:"prometheus,omitempty"`
	// Query is the PromQL to evaluate: at the step's end, or over its
	// window as a range query.
	Query string `json:"query,omitempty"`
	// APIServer reads the API server's request metrics from its /metrics
	// (needs get on the non-resource URL /metrics). Give it or a query.
	APIServer bool `json:"apiServer,omitempty"`
	// Duration is a window to measure over, from the step's start; without
	// it (and not in the background) the step reads at an instant.
	Duration model.Duration `json:"duration,omitempty"`
	// Resolution is the range query's step between points (default: the
	// window's hundredth, at least 1s).
	Resolution model.Duration `json:"resolution,omitempty"`
	// Expect must hold on the figures: result, min, max, mean and series
	// (a query's), apiServer (the API server's). Default: nothing to judge.
	Expect expression.Expr `json:"expect,omitempty"`
	// Optional makes an unreachable or failing Prometheus leave the step
	// not applicable, with the cause, instead of failed.
	Optional bool `json:"optional,omitempty"`
	// Until reads again, every 2s, until expect holds; the step's timeout
	// bounds the wait. For something about to be scraped, at an instant.
	Until bool `json:"until,omitempty"`
}

// PrometheusRef is where a Prometheus answers its HTTP API.
type PrometheusRef struct {
	// URL of the Prometheus (http or https), without /api/v1.
	URL string `json:"url,omitempty" pattern:"^[hH][tT][tT][pP][sS]?://"`
	// Service is reached through the API server's service proxy.
	Service *ServiceProxy `json:"service,omitempty"`
	// PortForward reaches a Prometheus pod's port as kubectl port-forward
	// does.
	PortForward *PortForwardTarget `json:"portForward,omitempty"`
}

// Default has nothing to fill: an instant, no expectation.
func (m *Metrics) Default() {}

// Validate checks the source and parses the query.
func (m *Metrics) Validate() error {
	var errs scenario.FieldErrors
	switch {
	case m.APIServer && (m.Prometheus != nil || m.Query != ""):
		errs.Add("apiServer", "reads the API server's own metrics: give it, or a prometheus and a query, not both")
	case !m.APIServer && m.Query == "":
		errs.Add("query", "required: the PromQL to evaluate (or apiServer: true for the API server's request metrics)")
	case !m.APIServer && m.Prometheus == nil:
		errs.Add("prometheus", "required with query: the Prometheus to ask (url, service or portForward)")
	case m.Prometheus != nil:
		p := m.Prometheus
		h := &HTTP{URL: p.URL, Service: p.Service, PortForward: p.PortForward, Method: "GET"}
		var fes scenario.FieldErrors
		if errors.As(h.Validate(), &fes) {
			for _, fe := range fes {
				errs.Add(strings.TrimSuffix("prometheus."+fe.Field, "."), "%s", fe.Msg)
			}
		}
	}
	if m.Query != "" && !strings.Contains(m.Query, "${{") {
		if err := checkPromQL(m.Query, m.Expect.Source); err != nil {
			errs.Add("query", "%s", err)
		}
	}
	if m.Duration.Duration < 0 {
		errs.Add("duration", "must not be negative")
	}
	if m.Resolution.Duration < 0 {
		errs.Add("resolution", "must not be negative")
	}
	if m.Until && (m.Expect.IsZero() || !m.Duration.IsZero()) {
		errs.Add("until", "reads again until expect holds: give an expect, and no duration")
	}
	if m.Optional && m.APIServer {
		errs.Add("optional", "is for a Prometheus that may be missing; the API server is always there")
	}
	return errs.Err()
}

// checkPromQL parses a query as Prometheus would, and refuses a range
// vector (name[5m]) whose single result an expression would read.
func checkPromQL(query, expect string) error {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		var perrs parser.ParseErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			return fmt.Errorf("PromQL %s", perrs[0].Error())
		}
		return fmt.Errorf("PromQL: %w", err)
	}
	switch e.Type() {
	case parser.ValueTypeString:
		return errors.New("the query is a string; want a number or a vector")
	case parser.ValueTypeMatrix:
		if expression.Reads(expect, "result", "min", "max", "mean") {
			return errors.New("a range vector (name[5m]) has no single value: take rate(...), avg_over_time(...) or max_over_time(...) of it, or read series")
		}
	}
	return nil
}

// EndsOnItsOwn says a reading at an instant or over a duration may run in
// the foreground; without a duration, in the background, it reads until
// stopped.
func (m *Metrics) EndsOnItsOwn() bool { return true }

// ExprNames adds the figures' names to expect's environment.
func (m *Metrics) ExprNames() map[string]any {
	names := expression.Plain(&model.MetricsOutput{APIServer: &model.APIServerMetrics{}}).(map[string]any)
	for _, n := range []string{"result", "min", "max", "mean"} {
		names[n] = 0.0
	}
	names["series"] = []any{}
	return names
}

// window is the time the step measures over, zero for an instant.
func (m *Metrics) window(env *step.Env) (time.Duration, bool) {
	if !m.Duration.IsZero() {
		return m.Duration.Duration, true
	}
	return 0, env.Step != nil && env.Step.Background
}

// Run reads the figures, over the window when there is one, and judges
// them.
func (m *Metrics) Run(ctx context.Context, env *step.Env) (any, error) {
	for {
		out, err := m.once(ctx, env)
		var na *step.NotApplicableError
		if !m.Until || err == nil || out == nil || ctx.Err() != nil || errors.As(err, &na) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, err
		case <-time.After(2 * time.Second):
		}
	}
}

// once reads the figures and judges them.
func (m *Metrics) once(ctx context.Context, env *step.Env) (*model.MetricsOutput, error) {
	var out *model.MetricsOutput
	var err error
	if m.APIServer {
		out, err = m.readAPIServer(ctx, env)
	} else {
		out, err = m.prometheus(ctx, env)
	}
	if err != nil {
		return out, err
	}
	if m.Expect.IsZero() {
		return out, nil
	}
	ok, values, err := m.Expect.Eval(env.ExprEnv(expression.Plain(out).(map[string]any)))
	if err == nil && !ok {
		err = fmt.Errorf("expect %s does not hold; %s", m.Expect.Source, expression.FormatValues(values))
	}
	if err != nil && out.Result == nil && expression.Reads(m.Expect.Source, "result", "min", "max", "mean") {
		if len(out.Series) == 0 {
			err = fmt.Errorf("%w: the query's answer has no series (nothing matched it, or not yet scraped), so result has no value", err)
		} else {
			err = fmt.Errorf("%w: the query's answer has %d series, so result has no value; aggregate them (sum(...), max(...)) or read series", err, len(out.Series))
		}
	}
	return out, err
}

// waitWindow waits out the step's duration, or until it is stopped in the
// background; a stop is the window's end, a deadline is an error.
func (m *Metrics) waitWindow(ctx context.Context, env *step.Env) error {
	env.Ready()
	d, ok := m.window(env)
	if !ok {
		return nil
	}
	if d == 0 {
		<-ctx.Done()
	} else {
		select {
		case <-ctx.Done():
		case <-time.After(d):
			return nil
		}
	}
	if isDeadline(ctx.Err()) {
		return fmt.Errorf("timed out before the window's end: the step's timeout is shorter than its duration")
	}
	return nil
}
