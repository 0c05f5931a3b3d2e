package model

import "time"

// MetricsOutput is what steps.NAME holds after a metrics step: a PromQL
// query's answer, or the API server's request metrics, at an instant or
// over the step's window.
type MetricsOutput struct {
	// Source is where the figures came from: "prometheus URL" or
	// "apiserver /metrics".
	Source string `json:"source"`
	// Query is the PromQL asked, as sent.
	Query string `json:"query,omitempty"`
	// ResultType is Prometheus' type of the answer: scalar, vector or
	// matrix (a range query's answer is a matrix of the query's series).
	ResultType string `json:"resultType,omitempty"`
	// From and To bound the window the figures cover; From is zero for an
	// instant (the API server's counters then cover its whole life).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to"`
	// Result is the answer's one value: the scalar, the only series' value
	// or, over a window, its last. Nil when the answer has no series or
	// several (aggregate them, or read series).
	Result *float64 `json:"result"`
	// Min, Max and Mean of the only series over the window (nil for an
	// instant, or several series).
	Min  *float64 `json:"min"`
	Max  *float64 `json:"max"`
	Mean *float64 `json:"mean"`
	// Series are the answer's series, each with its labels.
	Series []MetricSeries `json:"series,omitempty"`
	// APIServer holds the API server's request figures, for apiServer.
	APIServer *APIServerMetrics `json:"apiServer,omitempty"`
}

// MetricSeries is one series of a PromQL answer.
type MetricSeries struct {
	Labels map[string]string `json:"labels"`
	// Value is the series' value at the instant, or its last over the
	// window; Min, Max and Mean are over the window's samples.
	Value float64 `json:"value"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	// Samples are the window's points (none for an instant).
	Samples []MetricSample `json:"samples,omitempty"`
}

// MetricSample is one point of a series.
type MetricSample struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// APIServerMetrics are the API server's requests as its /metrics counts
// them (apiserver_request_total, and the latency its SLI histogram
// apiserver_request_sli_duration_seconds measures, which leaves out
// webhooks and the wait for a priority-and-fairness seat): over the window,
// or since the server started.
type APIServerMetrics struct {
	// Requests counts the requests; Errors those answered 5xx; Throttled
	// those answered 429.
	Requests  int64 `json:"requests"`
	Errors    int64 `json:"errors"`
	Throttled int64 `json:"throttled"`
	// ErrorRate is Errors / Requests.
	ErrorRate float64 `json:"errorRate"`
	// Latency of every verb but WATCH and CONNECT (long-running by design),
	// estimated from the histogram's buckets as histogram_quantile does.
	Latency APILatency `json:"latency"`
	// Verbs has the same figures per verb: GET, LIST, WATCH, POST, PUT,
	// PATCH, DELETE, ...
	Verbs map[string]*APIVerbMetrics `json:"verbs"`
}

// APIVerbMetrics are one verb's requests.
type APIVerbMetrics struct {
	Requests  int64      `json:"requests"`
	Errors    int64      `json:"errors"`
	Throttled int64      `json:"throttled"`
	ErrorRate float64    `json:"errorRate"`
	Latency   APILatency `json:"latency"`
}

// APILatency are quantiles estimated from a latency histogram; Samples is
// the count of requests they summarise.
type APILatency struct {
	P50     Duration `json:"p50"`
	P90     Duration `json:"p90"`
	P99     Duration `json:"p99"`
	Samples int64    `json:"samples"`
}

// Measures are the query's value and the API server's latency and errors.
func (m *MetricsOutput) Measures() []Measure {
	var out []Measure
	if m.Result != nil {
		out = append(out, Measure{Name: "result", Value: *m.Result})
	}
	if a := m.APIServer; a != nil {
		n := int(a.Latency.Samples)
		out = append(out,
			Measure{Name: "apiServer.latency.p50", Value: a.Latency.P50.Seconds(), Seconds: true},
			Measure{Name: "apiServer.latency.p99", Value: a.Latency.P99.Seconds(), Seconds: true, Samples: n, Tail: true},
			Measure{Name: "apiServer.errorRate", Value: a.ErrorRate},
		)
	}
	return out
}
