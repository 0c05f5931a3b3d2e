package steps

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Bounds of a load, so that a typo cannot turn kdrill into a flood.
const (
	maxLoadRate        = 20000
	maxLoadConcurrency = 10000
	defaultConcurrency = 64
)

// Load puts HTTP load on a URL, a Service (through the API server's
// service proxy) or a pod's port (through a port-forward): requests at a
// constant rate or a linear ramp, for a duration or, in the background,
// until a stop step or the end of the steps. It records what users would
// feel: latency (p50/p90/p95/p99/max, from an HDR histogram), status codes,
// errors by cause, a series per second, and the load generator's own CPU.
// Requests are sent on schedule (an open model) over reused connections,
// at most concurrency at a time; one that is due while that many are in
// flight is dropped and counted, not queued, so a slow server shows as
// drops and latency rather than as a lower rate. The step fails when no
// request succeeded, or when maxErrorRate is set and exceeded; otherwise
// later steps judge it (steps.NAME.latency.p99, steps.NAME.errorRate).
//
// Example:
//
//	steps:
//	- name: load
//	  background: true
//	  load:
//	    url: http://testing-service.demo.svc:8080/info
//	    rate: 50
//	- name: kills
//	  killPoisson: {workload: {kind: Deployment, name: testing-service}, mean: 1, interval: 2s, rounds: 5}
//	- name: stop the load
//	  stop: {steps: [load]}
//	- name: users barely noticed
//	  assert: {expr: 'steps.load.errorRate < 0.01 && steps.load.latency.p99 < duration("200ms")'}
type Load struct {
	// URL to request (http or https). Give a URL, a service or a
	// portForward, as for http.
	URL string `json:"url,omitempty" pattern:"^[hH][tT][tT][pP][sS]?://"`
	// Service is reached through the API server's service proxy, which
	// spreads the requests over the Service's ready endpoints.
	Service *ServiceProxy `json:"service,omitempty"`
	// PortForward reaches one pod's port as kubectl port-forward does.
	PortForward *PortForwardTarget `json:"portForward,omitempty"`
	// Method of the requests (default GET).
	Method string `json:"method,omitempty"`
	// Headers to send with each request.
	Headers map[string]string `json:"headers,omitempty" domain:"headers"`
	// Body to send with each request.
	Body string `json:"body,omitempty"`
	// Rate is the requests per second, constant. Give rate or ramp.
	Rate *float64 `json:"rate,omitempty" exclusiveMinimum:"0" maximum:"20000"`
	// Ramp changes the rate linearly over the duration, from one rate to
	// another.
	Ramp *LoadRamp `json:"ramp,omitempty"`
	// Duration of the load. Without it the step runs in the background
	// until a stop step or the end of the steps.
	Duration model.Duration `json:"duration,omitempty"`
	// Concurrency bounds the requests in flight (default 64).
	Concurrency int `json:"concurrency,omitempty"`
	// RequestTimeout bounds each request (default 5s).
	RequestTimeout model.Duration `json:"requestTimeout,omitempty"`
	// Expect must hold for a response to count as a success; it sees
	// status, headers (lower-case names) and body. Default: a status from
	// 200 to 399.
	Expect expression.Expr `json:"expect,omitempty"`
	// Slow is the latency above which an answered request counts as slow
	// (default 1s): per second in the series, and per fault in a
	// monitor's faults.
	Slow model.Duration `json:"slow,omitempty"`
	// MaxErrorRate fails the step when a larger share of the requests
	// failed (0.01 is 1 %); unset: only a load with no success fails.
	MaxErrorRate *float64 `json:"maxErrorRate,omitempty"`
}

// LoadRamp is a rate that changes linearly over a load's duration.
type LoadRamp struct {
	// From is the rate at the start, in requests per second.
	From float64 `json:"from" exclusiveMinimum:"0" maximum:"20000"`
	// To is the rate at the end of the duration.
	To float64 `json:"to" exclusiveMinimum:"0" maximum:"20000"`
}

// Default fills GET, the concurrency and the request timeout.
func (l *Load) Default() {
	if l.Method == "" {
		l.Method = "GET"
	}
	if l.Concurrency == 0 {
		l.Concurrency = defaultConcurrency
	}
	if l.RequestTimeout.IsZero() {
		l.RequestTimeout = model.Duration{Duration: 5 * time.Second}
	}
	if l.Slow.IsZero() {
		l.Slow = model.Duration{Duration: time.Second}
	}
}

// Validate checks the target, the rate and the bounds.
func (l *Load) Validate() error {
	var errs scenario.FieldErrors
	u, err := url.Parse(l.URL)
	switch {
	case l.URL == "" && l.Service == nil && l.PortForward == nil:
		errs.Add("", "give a url, a service or a portForward")
	case (l.URL != "") && (l.Service != nil || l.PortForward != nil), l.Service != nil && l.PortForward != nil:
		errs.Add("", "give one of url, service and portForward")
	case l.Service != nil:
		l.Service.validate(&errs)
	case l.PortForward != nil:
		l.PortForward.validate(&errs)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs.Add("url", "%q is not an http or https URL", l.URL)
	}
	if !isHTTPMethod(l.Method) {
		errs.Add("method", "%q is not an HTTP method (GET, POST, PUT, ...)", l.Method)
	}
	checkRate := func(field string, r float64) {
		if r <= 0 || r > maxLoadRate || math.IsNaN(r) {
			errs.Add(field, "%g requests per second: want more than 0 and at most %d", r, maxLoadRate)
		}
	}
	switch {
	case l.Rate == nil && l.Ramp == nil:
		errs.Add("rate", "required: requests per second (or a ramp)")
	case l.Rate != nil && l.Ramp != nil:
		errs.Add("ramp", "give rate or ramp, not both")
	case l.Ramp != nil:
		checkRate("ramp.from", l.Ramp.From)
		checkRate("ramp.to", l.Ramp.To)
		if l.Duration.IsZero() {
			errs.Add("ramp", "a ramp runs over the duration: give one")
		}
	default:
		checkRate("rate", *l.Rate)
	}
	if l.Duration.Duration < 0 {
		errs.Add("duration", "must not be negative")
	}
	if l.Concurrency < 1 || l.Concurrency > maxLoadConcurrency {
		errs.Add("concurrency", "%d: want 1 to %d requests in flight", l.Concurrency, maxLoadConcurrency)
	}
	if l.RequestTimeout.Duration <= 0 {
		errs.Add("requestTimeout", "must be more than 0")
	}
	if m := l.MaxErrorRate; m != nil && (*m < 0 || *m > 1) {
		errs.Add("maxErrorRate", "must be between 0 and 1")
	}
	return errs.Err()
}

// EndsOnItsOwn says a load with a duration may run in the foreground.
func (l *Load) EndsOnItsOwn() bool { return !l.Duration.IsZero() }

// ExprNames adds the response's names to expect's environment.
func (l *Load) ExprNames() map[string]any {
	return map[string]any{"status": 0, "headers": map[string]any{}, "body": ""}
}

// meanRate is the mean of the rate asked for.
func (l *Load) meanRate() float64 {
	if l.Ramp != nil {
		return (l.Ramp.From + l.Ramp.To) / 2
	}
	return *l.Rate
}

// at is when, after the start, the i-th request (from 0) is due: i/rate,
// or on a ramp the time its cumulative rate reaches i.
func (l *Load) at(i int) time.Duration {
	if l.Ramp == nil || l.Ramp.From == l.Ramp.To {
		return time.Duration(float64(i) / l.meanRate() * float64(time.Second))
	}
	a, d := l.Ramp.From, l.Duration.Seconds()
	k := (l.Ramp.To - a) / d // the rate's change per second
	t := (-a + math.Sqrt(a*a+2*k*float64(i))) / k
	if math.IsNaN(t) {
		return l.Duration.Duration
	}
	return time.Duration(t * float64(time.Second))
}

// Run sends the load and records it.
func (l *Load) Run(ctx context.Context, env *step.Env) (any, error) {
	h := &HTTP{URL: l.URL, Service: l.Service, PortForward: l.PortForward}
	to, err := h.target(ctx, env)
	if to != nil && to.close != nil {
		defer to.close()
	}
	if err != nil {
		return nil, err
	}
	env.Ready() // the steps after a background load start once it can send
	out := l.generate(ctx, env, to, h.where())
	switch {
	case out.Requests > 0 && out.Succeeded == 0:
		return out, fmt.Errorf("none of %d requests to %s succeeded; first: %s", out.Requests, out.Target, out.FirstError)
	case l.MaxErrorRate != nil && out.ErrorRate > *l.MaxErrorRate:
		return out, fmt.Errorf("%d of %d requests to %s failed (%.2f %%, at most %.2f %% allowed); first: %s",
			out.Failed, out.Requests, out.Target, 100*out.ErrorRate, 100**l.MaxErrorRate, out.FirstError)
	case !l.Duration.IsZero() && ctx.Err() != nil && isDeadline(ctx.Err()) && out.Duration.Duration < l.Duration.Duration:
		return out, fmt.Errorf("timed out after %s of its %s: the step's timeout is shorter than the load", out.Duration.Round(time.Millisecond), l.Duration.Duration)
	}
	return out, nil
}
