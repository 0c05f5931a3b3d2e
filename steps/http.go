package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// maxBodyBytes is how much of a response the http step reads.
const maxBodyBytes = 1 << 20

// HTTP sends a request — to a URL, or to a Service through the API server's
// service proxy — and checks the response with an expression over
// status, headers, body and json (the body parsed, when it is a JSON
// object; jsonList when it is an array). It can
// repeat — count times, or for a duration, every interval — and pass when
// enough requests met the expectation, so a step in the background can show
// that a switch caused no failed requests while it happened.
//
// Example:
//
//	steps:
//	- name: version endpoint
//	  http:
//	    url: http://127.0.0.1:8080/info
//	    expect: status == 200 && json.version == "2.0"
//	- name: through the API server
//	  http:
//	    service: {name: testing-service, port: 8080, path: /info}
type HTTP struct {
	// URL to request (http or https). Give a URL or a service.
	URL string `json:"url,omitempty"`
	// Service is reached through the API server's service proxy, with the
	// scenario's credentials; no route from kdrill to the pods is needed.
	Service *ServiceProxy `json:"service,omitempty"`
	// PortForward reaches a pod's port as kubectl port-forward does, through
	// the API server's pods/portforward: a Service resolves to one of its
	// Ready pods when the step starts. It works from outside the cluster
	// network, and through no Service at all.
	PortForward *PortForwardTarget `json:"portForward,omitempty"`
	// Method of the request (default GET).
	Method string `json:"method,omitempty"`
	// Headers to send.
	Headers map[string]string `json:"headers,omitempty" domain:"headers"`
	// Body to send.
	Body string `json:"body,omitempty"`
	// Expect must hold for a response to count as a success; it sees status,
	// headers (lower-case names), body, json (a JSON object body, parsed) and
	// jsonList (a JSON array body, parsed). Default: a 2xx status.
	Expect expression.Expr `json:"expect,omitempty"`
	// RequestTimeout bounds each request (default 5s).
	RequestTimeout model.Duration `json:"requestTimeout,omitempty"`
	// Count of requests to send (default 1, or as many as fit in duration).
	Count int `json:"count,omitempty"`
	// Duration to keep sending requests.
	Duration model.Duration `json:"duration,omitempty"`
	// Every is the time from one request's start to the next (default 1s
	// when repeating).
	Every model.Duration `json:"every,omitempty"`
	// SuccessRatio is the share of requests that must succeed (default 1).
	SuccessRatio float64 `json:"successRatio,omitempty"`
	// MaxFailures, when set, allows this many failed requests instead.
	MaxFailures *int `json:"maxFailures,omitempty"`
	// Until repeats the request, every interval (default 200ms), until one
	// meets the expectation; the step's timeout bounds the wait. Use it for
	// something that is about to serve, not with count or duration.
	Until bool `json:"until,omitempty"`
}

// Default fills GET, a 2xx expectation, a 5s request timeout and, when
// repeating, a request a second.
func (h *HTTP) Default() {
	if h.Method == "" {
		h.Method = http.MethodGet
	}
	if h.Expect.IsZero() {
		h.Expect = expression.Expr{Source: "status >= 200 && status < 300"}
	}
	if h.RequestTimeout.IsZero() {
		h.RequestTimeout = model.Duration{Duration: 5 * time.Second}
	}
	if h.Every.IsZero() && h.Until {
		h.Every = model.Duration{Duration: 200 * time.Millisecond}
	}
	if h.Every.IsZero() && (h.Count > 1 || !h.Duration.IsZero()) {
		h.Every = model.Duration{Duration: time.Second}
	}
	if h.SuccessRatio == 0 {
		h.SuccessRatio = 1
	}
}

// Validate checks the URL and the repetition.
func (h *HTTP) Validate() error {
	var errs scenario.FieldErrors
	u, err := url.Parse(h.URL)
	switch {
	case h.URL == "" && h.Service == nil && h.PortForward == nil:
		errs.Add("", "give a url, a service or a portForward")
	case (h.URL != "") && (h.Service != nil || h.PortForward != nil), h.Service != nil && h.PortForward != nil:
		errs.Add("", "give one of url, service and portForward")
	case h.Service != nil:
		h.Service.validate(&errs)
	case h.PortForward != nil:
		h.PortForward.validate(&errs)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs.Add("url", "%q is not an http or https URL", h.URL)
	}
	if !isHTTPMethod(h.Method) {
		errs.Add("method", "%q is not an HTTP method (GET, POST, PUT, ...); the path goes in url or service.path", h.Method)
	}
	if h.Count < 0 {
		errs.Add("count", "must be > 0")
	}
	if h.SuccessRatio < 0 || h.SuccessRatio > 1 {
		errs.Add("successRatio", "must be between 0 and 1")
	}
	if h.MaxFailures != nil && *h.MaxFailures < 0 {
		errs.Add("maxFailures", "must be >= 0")
	}
	if h.Until && (h.Count != 0 || !h.Duration.IsZero() || h.MaxFailures != nil) {
		errs.Add("until", "repeats until a success; it does not go with count, duration or maxFailures")
	}
	return errs.Err()
}

// ExprNames adds the response's names to the expression environment.
func (h *HTTP) ExprNames() map[string]any {
	return map[string]any{"status": 0, "headers": map[string]any{}, "body": "", "json": map[string]any{}, "jsonList": []any{}}
}

// Run sends the requests and judges the responses.
func (h *HTTP) Run(ctx context.Context, env *step.Env) (any, error) {
	to, err := h.target(ctx, env)
	if to != nil && to.close != nil {
		defer to.close()
	}
	if err != nil {
		return nil, err
	}
	out := &model.HTTPOutput{}
	var latencies []time.Duration
	last := "" // the latest failure
	start := env.Clock.Now()
	count := h.Count
	if count == 0 && h.Duration.IsZero() {
		count = 1
	}
	if h.Until {
		count = 0
	}
	for i := 0; ; i++ {
		if h.Until && i > 0 && out.Failures < i {
			break // a request met the expectation
		}
		if (count > 0 && i >= count) || (!h.Duration.IsZero() && env.Clock.Since(start) >= h.Duration.Duration) {
			break
		}
		if i > 0 {
			next := start.Add(time.Duration(i) * h.Every.Duration)
			if wait := next.Sub(env.Clock.Now()); wait > 0 {
				t := env.Clock.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return h.finish(out, latencies), h.interrupted(ctx, out, last)
				case <-t.C():
				}
			}
		}
		began := env.Clock.Now()
		status, headers, body, err := h.request(ctx, to)
		latencies = append(latencies, env.Clock.Since(began))
		out.Requests++
		out.Status, out.Body = status, clipBody(body)
		if err == nil {
			var object map[string]any
			var list []any
			_ = json.Unmarshal([]byte(body), &object)
			_ = json.Unmarshal([]byte(body), &list)
			var ok bool
			var values map[string]any
			ok, values, err = h.Expect.Eval(env.ExprEnv(map[string]any{"status": status, "headers": headers, "body": body, "json": object, "jsonList": list}))
			env.Observe(h.Expect.Source, values)
			if err == nil && !ok {
				err = fmt.Errorf("expected %s; got status %d%s%s", h.Expect.Source, status, statusDetail(status, body), responseDetail(headers, body))
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return h.finish(out, latencies), h.interrupted(ctx, out, last)
			}
			out.Failures++
			last = err.Error()
			if out.FirstFailure == "" {
				out.FirstFailure = last
			}
		}
	}
	h.finish(out, latencies)
	if h.Until {
		return out, nil
	}
	allowed := int(float64(out.Requests) * (1 - h.SuccessRatio))
	if h.MaxFailures != nil {
		allowed = *h.MaxFailures
	}
	if out.Failures > allowed {
		return out, fmt.Errorf("%d of %d requests to %s failed (at most %d allowed); first: %s", out.Failures, out.Requests, h.where(), allowed, out.FirstFailure)
	}
	return out, nil
}

// interrupted says why the requests stopped early: with until, which
// request failed last.
func (h *HTTP) interrupted(ctx context.Context, out *model.HTTPOutput, last string) error {
	if h.Until && last != "" && isDeadline(ctx.Err()) {
		return fmt.Errorf("timed out: none of %d requests to %s met the expectation; last: %s", out.Requests, h.where(), last)
	}
	return ctx.Err()
}

// statusDetail is the gist of an error response: the message of a
// Kubernetes Status (as the service proxy answers), or the body's start.
func statusDetail(status int, body string) string {
	if status < 400 || body == "" {
		return ""
	}
	var st struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(body), &st) == nil && st.Kind == "Status" && st.Message != "" {
		return ": " + st.Message
	}
	line, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	return ": " + line
}

func (h *HTTP) finish(out *model.HTTPOutput, latencies []time.Duration) *model.HTTPOutput {
	if out.Requests > 0 {
		out.SuccessRatio = float64(out.Requests-out.Failures) / float64(out.Requests)
	}
	if len(latencies) > 0 {
		sorted := slices.Clone(latencies)
		slices.Sort(sorted)
		out.LatencyP50.Duration = percentile(sorted, 0.50)
		out.LatencyP95.Duration = percentile(sorted, 0.95)
		out.LatencyMax.Duration = sorted[len(sorted)-1]
	}
	return out
}

// request sends one request and returns the status, the headers with
// lower-case names, and the body.
func (h *HTTP) request(ctx context.Context, to *target) (int, map[string]any, string, error) {
	rctx, cancel := context.WithTimeout(ctx, h.RequestTimeout.Duration)
	defer cancel()
	var body io.Reader
	if h.Body != "" {
		body = strings.NewReader(h.Body)
	}
	req, err := http.NewRequestWithContext(rctx, h.Method, to.url, body)
	if err != nil {
		return 0, nil, "", err
	}
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	resp, err := to.client.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("%s %s: %w", h.Method, h.where(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return resp.StatusCode, nil, "", fmt.Errorf("read response of %s: %w", h.where(), err)
	}
	headers := map[string]any{}
	for k, v := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return resp.StatusCode, headers, string(data), nil
}

func clipBody(s string) string {
	if len(s) <= 1024 {
		return s
	}
	return s[:1024] + "…"
}
