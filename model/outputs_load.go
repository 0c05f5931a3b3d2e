package model

import (
	"math"
	"time"
)

// LoadOutput is what steps.NAME holds after a load step: the requests
// sent, how they fared, how long they took, and the load generator's own
// cost, so a saturated client is not taken for a slow server.
type LoadOutput struct {
	// Target is where the requests went: a URL, a Service or a pod.
	Target string `json:"target"`
	// Requests counts the requests sent; Succeeded and Failed split them
	// (a failure is an error, a timeout or a response the expectation
	// refused).
	Requests  int `json:"requests"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	// Dropped counts requests that were due but not sent, because
	// concurrency requests were already in flight: the server (or the
	// client) could not keep up with the rate.
	Dropped int `json:"dropped"`
	// ErrorRate is Failed / Requests (0 when nothing was sent).
	ErrorRate float64 `json:"errorRate"`
	// Rate is the requests sent per second; TargetRate the mean rate asked
	// for.
	Rate       float64  `json:"rate"`
	TargetRate float64  `json:"targetRate"`
	Duration   Duration `json:"duration"`
	// Latency of the requests that got a response, from an HDR histogram
	// (three significant digits).
	Latency LoadLatency `json:"latency"`
	// Status counts responses by status code ("200"); Errors counts the
	// requests that got none, by cause: timeout, refused, reset, eof, other.
	Status     map[string]int `json:"status"`
	Errors     map[string]int `json:"errors"`
	FirstError string         `json:"firstError,omitempty"`
	// Series is one entry per second of the load.
	Series []LoadSecond `json:"series"`
	// ClientCPU is the CPU kdrill's process used while the load ran, in
	// cores (1.0: one core busy); ClientCores is how many the machine has.
	// A client near its cores, or a large MaxLag, was the bottleneck.
	ClientCPU   float64 `json:"clientCPU"`
	ClientCores int     `json:"clientCores"`
	// MaxLag is the longest a request was sent after its scheduled time.
	MaxLag Duration `json:"maxLag"`
}

// LoadLatency summarises the latencies of answered requests.
type LoadLatency struct {
	P50    Duration `json:"p50"`
	P90    Duration `json:"p90"`
	P95    Duration `json:"p95"`
	P99    Duration `json:"p99"`
	Max    Duration `json:"max"`
	Mean   Duration `json:"mean"`
	StdDev Duration `json:"stdDev"`
}

// LoadSecond is one second of a load: requests sent, failed and dropped,
// and the latencies of those answered in it.
type LoadSecond struct {
	Time    time.Time `json:"time"`
	Sent    int       `json:"sent"`
	Failed  int       `json:"failed"`
	Dropped int       `json:"dropped"`
	// Slow counts the answers slower than the load's slow threshold.
	Slow int      `json:"slow"`
	P50  Duration `json:"p50"`
	P99  Duration `json:"p99"`
}

// Measures are the load's latencies and error rate, with the requests
// behind them for comparisons that know noise.
func (l *LoadOutput) Measures() []Measure {
	n, sd := l.Requests-sumErrors(l.Errors), l.Latency.StdDev.Seconds()
	return []Measure{
		{Name: "latency.p50", Value: l.Latency.P50.Seconds(), Seconds: true, Samples: n, Spread: sd},
		{Name: "latency.p99", Value: l.Latency.P99.Seconds(), Seconds: true, Samples: n, Spread: sd, Tail: true},
		{Name: "errorRate", Value: l.ErrorRate, Samples: l.Requests, Spread: math.Sqrt(l.ErrorRate * (1 - l.ErrorRate))},
		{Name: "rate", Value: l.Rate, LowerIsWorse: true},
	}
}

func sumErrors(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
