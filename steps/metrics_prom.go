package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/step"
)

// Bounds of a Prometheus answer kdrill keeps.
const (
	maxPromBody   = 32 << 20
	maxPromSeries = 1000
)

// promError is Prometheus refusing or failing a query (its errorType and
// error), as opposed to not answering at all.
type promError struct {
	status    int
	errorType string
	msg       string
}

func (e *promError) Error() string {
	return fmt.Sprintf("Prometheus answered %d (%s): %s", e.status, e.errorType, e.msg)
}

// prometheus asks the query at the step's end, or over its window.
func (m *Metrics) prometheus(ctx context.Context, env *step.Env) (*model.MetricsOutput, error) {
	p := m.Prometheus
	h := &HTTP{URL: p.URL, Service: p.Service, PortForward: p.PortForward}
	to, err := h.target(ctx, env)
	if to != nil && to.close != nil {
		defer to.close()
	}
	if err != nil {
		return nil, m.unavailable(h.where(), err)
	}
	api := &promAPI{base: strings.TrimSuffix(to.url, "/"), client: to.client}
	out := &model.MetricsOutput{Source: "prometheus " + h.where(), Query: m.Query}
	_, windowed := m.window(env)
	if !windowed {
		out.To = time.Now()
		body, err := api.get(ctx, "/api/v1/query", url.Values{"query": {m.Query}, "time": {promTime(out.To)}})
		if err != nil {
			return out, m.unavailable(out.Source, err)
		}
		return out, readPromAnswer(body, out)
	}
	// Asked once at the start too, so a wrong query or a missing
	// Prometheus fails now rather than at the window's end.
	out.From = time.Now()
	if _, err := api.get(ctx, "/api/v1/query", url.Values{"query": {m.Query}, "time": {promTime(out.From)}}); err != nil {
		return out, m.unavailable(out.Source, err)
	}
	if err := m.waitWindow(ctx, env); err != nil {
		return out, err
	}
	out.To = time.Now()
	res := m.Resolution.Duration
	if res == 0 {
		res = max(time.Second, out.To.Sub(out.From)/100)
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	body, err := api.get(endCtx, "/api/v1/query_range", url.Values{
		"query": {m.Query}, "start": {promTime(out.From)}, "end": {promTime(out.To)},
		"step": {strconv.FormatFloat(res.Seconds(), 'f', -1, 64)},
	})
	if err != nil {
		return out, m.unavailable(out.Source, err)
	}
	return out, readPromAnswer(body, out)
}

// unavailable is the error of a Prometheus that did not answer: a failure
// with its cause, or not applicable when the step is optional. A query
// Prometheus refused is the scenario's mistake and fails either way.
func (m *Metrics) unavailable(where string, err error) error {
	var pe *promError
	if errors.As(err, &pe) && pe.status >= 400 && pe.status < 500 {
		return err
	}
	if m.Optional {
		return step.NotApplicable("no answer from %s (the check is optional): %s", where, message.FirstLine(err.Error()))
	}
	return fmt.Errorf("no answer from %s: %w", where, err)
}

// promAPI is a Prometheus HTTP API at base.
type promAPI struct {
	base   string
	client *http.Client
}

// get sends one API request, again after a transient failure (no
// connection, 5xx) while the context allows, and returns the body of a
// successful answer.
func (a *promAPI) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	var last error
	for attempt, wait := 0, 250*time.Millisecond; attempt < 4; attempt, wait = attempt+1, wait*2 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w (then %w)", last, ctx.Err())
			case <-time.After(wait):
			}
		}
		body, status, err := a.once(ctx, path, q)
		switch {
		case err != nil:
			last = err
			continue
		case status == http.StatusOK:
			return body, nil
		}
		var ans promAnswer
		if json.Unmarshal(body, &ans) == nil && ans.Status == "error" {
			last = &promError{status: status, errorType: ans.ErrorType, msg: ans.Error}
		} else {
			last = &promError{status: status, errorType: http.StatusText(status), msg: message.Clip(string(body), 200)}
		}
		if status < 500 {
			return nil, last
		}
	}
	return nil, last
}

func (a *promAPI) once(ctx context.Context, path string, q url.Values) ([]byte, int, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, a.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPromBody+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > maxPromBody {
		return nil, 0, fmt.Errorf("the answer is larger than %d MiB: narrow the query", maxPromBody>>20)
	}
	return body, resp.StatusCode, nil
}

// promAnswer is the envelope of every Prometheus API answer.
type promAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// promSeries is one series of a vector (value) or a matrix (values).
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
	Values [][]any           `json:"values"`
}

// readPromAnswer fills out from a successful answer.
func readPromAnswer(body []byte, out *model.MetricsOutput) error {
	var ans promAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("the answer is not Prometheus' JSON: %w", err)
	}
	out.ResultType = ans.Data.ResultType
	var series []promSeries
	switch ans.Data.ResultType {
	case "scalar":
		var pt []any
		if err := json.Unmarshal(ans.Data.Result, &pt); err != nil {
			return fmt.Errorf("read the scalar: %w", err)
		}
		series = []promSeries{{Metric: map[string]string{}, Value: pt}}
	case "vector", "matrix":
		if err := json.Unmarshal(ans.Data.Result, &series); err != nil {
			return fmt.Errorf("read the %s: %w", ans.Data.ResultType, err)
		}
	default:
		return fmt.Errorf("the query's answer is a %s; want a number or a vector", ans.Data.ResultType)
	}
	if len(series) > maxPromSeries {
		return fmt.Errorf("the answer has %d series, more than %d: aggregate them (sum by (...))", len(series), maxPromSeries)
	}
	for _, s := range series {
		ms := model.MetricSeries{Labels: s.Metric}
		points := s.Values
		if s.Value != nil {
			points = [][]any{s.Value}
		}
		var vals []float64
		for _, p := range points {
			at, v, ok := promPoint(p)
			if !ok {
				continue
			}
			if len(points) > 1 {
				ms.Samples = append(ms.Samples, model.MetricSample{At: at, Value: v})
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			continue // no number in it (NaN): as if absent
		}
		ms.Value, ms.Min, ms.Max = vals[len(vals)-1], slices.Min(vals), slices.Max(vals)
		for _, v := range vals {
			ms.Mean += v / float64(len(vals))
		}
		out.Series = append(out.Series, ms)
	}
	if len(out.Series) == 1 {
		s := out.Series[0]
		out.Result = &s.Value
		if !out.From.IsZero() {
			out.Min, out.Max, out.Mean = &s.Min, &s.Max, &s.Mean
		}
	}
	return nil
}

// promPoint reads [unix seconds, "value"]; NaN is no sample, an infinity
// the largest number JSON can hold.
func promPoint(p []any) (time.Time, float64, bool) {
	if len(p) != 2 {
		return time.Time{}, 0, false
	}
	sec, _ := p[0].(float64)
	str, _ := p[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil || math.IsNaN(v) {
		return time.Time{}, 0, false
	}
	v = max(min(v, math.MaxFloat64), -math.MaxFloat64)
	return time.Unix(0, int64(sec*1e9)), v, true
}

// promTime is a time as the API reads it: unix seconds.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}
