package steps

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/step"
)

// The API server's metric families the step reads. The SLI histogram
// leaves out webhooks and the priority-and-fairness wait; servers before
// it had only the plain one.
const (
	apiRequestsTotal = "apiserver_request_total"
	apiSLIDuration   = "apiserver_request_sli_duration_seconds"
	apiDuration      = "apiserver_request_duration_seconds"
)

// apiCounts are the API server's request counters at one scrape, by verb.
type apiCounts struct {
	// requests[verb][code] counts requests.
	requests map[string]map[string]float64
	// buckets[verb][le] counts requests that took at most le seconds.
	buckets map[string]map[float64]float64
}

// apiServer reads the API server's request metrics at an instant (since it
// started) or over the window (the counters' difference).
func (m *Metrics) readAPIServer(ctx context.Context, env *step.Env) (*model.MetricsOutput, error) {
	out := &model.MetricsOutput{Source: "apiserver /metrics"}
	var before *apiCounts
	if _, windowed := m.window(env); windowed {
		var err error
		if before, err = scrapeAPIServer(ctx, env.Cluster); err != nil {
			return out, err
		}
		out.From = time.Now()
	}
	if err := m.waitWindow(ctx, env); err != nil {
		return out, err
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	after, err := scrapeAPIServer(endCtx, env.Cluster)
	if err != nil {
		return out, err
	}
	out.To = time.Now()
	out.APIServer = after.minus(before).figures()
	return out, nil
}

// scrapeAPIServer reads /metrics, keeping only the request families, line
// by line: the whole text runs to megabytes.
func scrapeAPIServer(ctx context.Context, c *kube.Cluster) (*apiCounts, error) {
	rc, err := c.Typed.CoreV1().RESTClient().Get().AbsPath("/metrics").Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the API server's /metrics (kdrill needs get on the non-resource URL /metrics): %w", err)
	}
	defer func() { _ = rc.Close() }()
	counts, err := parseAPIMetrics(rc)
	if err != nil {
		return nil, fmt.Errorf("read the API server's /metrics: %w", err)
	}
	return counts, nil
}

// parseAPIMetrics reads the request families from the text format.
func parseAPIMetrics(r io.Reader) (*apiCounts, error) {
	var kept bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		name := line
		if bytes.HasPrefix(line, []byte("# ")) {
			if f := bytes.Fields(line); len(f) >= 3 {
				name = f[2]
			}
		}
		for _, fam := range []string{apiRequestsTotal, apiSLIDuration, apiDuration} {
			if bytes.HasPrefix(name, []byte(fam)) && (len(name) == len(fam) || strings.ContainsRune("_{ ", rune(name[len(fam)]))) {
				kept.Write(line)
				kept.WriteByte('\n')
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(prommodel.LegacyValidation)
	families, err := parser.TextToMetricFamilies(&kept)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	counts := &apiCounts{requests: map[string]map[string]float64{}, buckets: map[string]map[float64]float64{}}
	if f := families[apiRequestsTotal]; f != nil {
		for _, mt := range f.GetMetric() {
			l := labelsOf(mt.GetLabel())
			add(counts.requests, l["verb"], l["code"], mt.GetCounter().GetValue())
		}
	}
	hist := families[apiSLIDuration]
	if hist == nil {
		hist = families[apiDuration]
	}
	if hist != nil {
		for _, mt := range hist.GetMetric() {
			verb := labelsOf(mt.GetLabel())["verb"]
			for _, b := range mt.GetHistogram().GetBucket() {
				if !math.IsInf(b.GetUpperBound(), 1) { // +Inf is the count, below
					add(counts.buckets, verb, b.GetUpperBound(), float64(b.GetCumulativeCount()))
				}
			}
			add(counts.buckets, verb, math.Inf(1), float64(mt.GetHistogram().GetSampleCount()))
		}
	}
	return counts, nil
}

func labelsOf[L interface {
	GetName() string
	GetValue() string
}](pairs []L) map[string]string {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		out[p.GetName()] = p.GetValue()
	}
	return out
}

func add[K comparable](m map[string]map[K]float64, verb string, k K, v float64) {
	if m[verb] == nil {
		m[verb] = map[K]float64{}
	}
	m[verb][k] += v
}

// minus is what was counted since before (nil: everything); a counter that
// went down means the server restarted, and counts from its start.
func (a *apiCounts) minus(before *apiCounts) *apiCounts {
	if before == nil {
		return a
	}
	out := &apiCounts{requests: map[string]map[string]float64{}, buckets: map[string]map[float64]float64{}}
	for verb, codes := range a.requests {
		for code, v := range codes {
			add(out.requests, verb, code, since(v, before.requests[verb][code]))
		}
	}
	for verb, les := range a.buckets {
		for le, v := range les {
			add(out.buckets, verb, le, since(v, before.buckets[verb][le]))
		}
	}
	return out
}

func since(now, then float64) float64 {
	if now < then {
		return now
	}
	return now - then
}

// figures are the counts as users read them: requests, errors and latency
// quantiles, in all and per verb.
func (a *apiCounts) figures() *model.APIServerMetrics {
	out := &model.APIServerMetrics{Verbs: map[string]*model.APIVerbMetrics{}}
	all := map[float64]float64{}
	for verb, codes := range a.requests {
		v := &model.APIVerbMetrics{}
		for code, n := range codes {
			v.Requests += int64(n)
			switch {
			case code == "429":
				v.Throttled += int64(n)
			case strings.HasPrefix(code, "5"):
				v.Errors += int64(n)
			}
		}
		if v.Requests > 0 {
			v.ErrorRate = float64(v.Errors) / float64(v.Requests)
		}
		out.Requests += v.Requests
		out.Errors += v.Errors
		out.Throttled += v.Throttled
		out.Verbs[verb] = v
	}
	for verb, les := range a.buckets {
		v := out.Verbs[verb]
		if v == nil {
			v = &model.APIVerbMetrics{}
			out.Verbs[verb] = v
		}
		v.Latency = quantiles(les)
		if verb != "WATCH" && verb != "CONNECT" {
			for le, n := range les {
				all[le] += n
			}
		}
	}
	if out.Requests > 0 {
		out.ErrorRate = float64(out.Errors) / float64(out.Requests)
	}
	out.Latency = quantiles(all)
	return out
}

// quantiles estimates p50, p90 and p99 from cumulative buckets as
// Prometheus' histogram_quantile does: linear within the bucket the rank
// falls in, the highest finite bound when it falls in +Inf.
func quantiles(buckets map[float64]float64) model.APILatency {
	les := slices.Sorted(func(yield func(float64) bool) {
		for le := range buckets {
			if !yield(le) {
				return
			}
		}
	})
	if len(les) == 0 {
		return model.APILatency{}
	}
	total := buckets[les[len(les)-1]]
	at := func(q float64) model.Duration {
		rank := q * total
		lower, below := 0.0, 0.0
		for _, le := range les {
			n := buckets[le]
			if n >= rank && n > below {
				if math.IsInf(le, 1) {
					return seconds(lower)
				}
				return seconds(lower + (le-lower)*(rank-below)/(n-below))
			}
			lower, below = le, n
		}
		return seconds(lower)
	}
	if total == 0 {
		return model.APILatency{}
	}
	return model.APILatency{P50: at(0.5), P90: at(0.9), P99: at(0.99), Samples: int64(total)}
}

func seconds(s float64) model.Duration {
	return model.Duration{Duration: time.Duration(s * float64(time.Second))}
}
