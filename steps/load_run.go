package steps

// The load generator: a schedule that sends each request when it is due,
// a bounded number in flight over reused connections, and a recorder
// that keeps an HDR histogram of the whole load and one per second.

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/step"
)

// maxLoadBody is how much of each response the generator reads (the rest
// is discarded so the connection can be reused).
const maxLoadBody = 64 << 10

// generate sends the requests on schedule until the duration ends or ctx
// does, and returns what happened.
func (l *Load) generate(ctx context.Context, env *step.Env, to *target, where string) *model.LoadOutput {
	client := to.client
	if client == http.DefaultClient {
		// The default transport keeps two idle connections per host: the
		// load would open a new one for most requests.
		client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: l.RequestTimeout.Duration, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        l.Concurrency,
			MaxIdleConnsPerHost: l.Concurrency,
			IdleConnTimeout:     30 * time.Second,
		}}
		defer client.CloseIdleConnections()
	}
	var base map[string]any
	if !l.Expect.IsZero() {
		base = env.ExprEnv(nil)
	}
	start := time.Now()
	rec := newLoadRecorder(start, l.RequestTimeout.Duration)
	rec.slow = l.Slow.Duration
	cpu0 := processCPU()
	// Requests in flight finish when the load is stopped (bounded by their
	// timeout): a stop is not the server's failure.
	reqCtx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, l.Concurrency)
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := 0; ; i++ {
		offset := l.at(i)
		if !l.Duration.IsZero() && offset >= l.Duration.Duration {
			break
		}
		due := start.Add(offset)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		now := time.Now()
		select {
		case slots <- struct{}{}:
		default:
			rec.drop(due)
			continue
		}
		rec.lag(now.Sub(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			l.one(reqCtx, client, to.url, base, rec)
		}()
	}
	ended := time.Now()
	wg.Wait()
	out := rec.finish(ended)
	out.Target = where
	out.TargetRate = l.meanRate()
	out.ClientCPU = (processCPU() - cpu0).Seconds() / max(time.Since(start).Seconds(), 1e-3)
	out.ClientCores = runtime.NumCPU()
	return out
}

// one sends a request and records how it went.
func (l *Load) one(ctx context.Context, client *http.Client, url string, base map[string]any, rec *loadRecorder) {
	ctx, cancel := context.WithTimeout(ctx, l.RequestTimeout.Duration)
	defer cancel()
	var body io.Reader
	if l.Body != "" {
		body = strings.NewReader(l.Body)
	}
	sent := time.Now()
	req, err := http.NewRequestWithContext(ctx, l.Method, url, body)
	if err != nil {
		rec.failed(sent, "other", err.Error())
		return
	}
	for k, v := range l.Headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		rec.failed(sent, errorCause(err), err.Error())
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLoadBody))
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	latency := time.Since(sent)
	if err != nil {
		rec.failed(sent, errorCause(err), err.Error())
		return
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 400
	why := ""
	if base != nil {
		headers := make(map[string]any, len(resp.Header))
		for k, v := range resp.Header {
			headers[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		vars := maps.Clone(base)
		vars["status"], vars["headers"], vars["body"] = resp.StatusCode, headers, string(data)
		var evalErr error
		ok, _, evalErr = l.Expect.Eval(vars)
		if evalErr != nil {
			ok, why = false, evalErr.Error()
		}
	}
	if !ok && why == "" {
		why = "status " + strconv.Itoa(resp.StatusCode) + statusDetail(resp.StatusCode, string(data))
	}
	rec.answered(sent, latency, resp.StatusCode, ok, why)
}

// errorCause names why a request got no response.
func errorCause(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}

// processCPU is the CPU time kdrill's process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadRecorder gathers a load's requests: counts, an HDR histogram of the
// whole load (3 significant digits, 1 µs to an hour) and one per second
// of sending, each closed once no request sent in it can still answer.
type loadRecorder struct {
	mu      sync.Mutex
	start   time.Time
	horizon int // seconds after which a second's requests have all ended
	all     *hdrhistogram.Histogram
	seconds map[int]*loadSecond
	out     *model.LoadOutput
	maxLag  time.Duration
	slow    time.Duration
}

type loadSecond struct {
	model.LoadSecond
	hist *hdrhistogram.Histogram
}

func newLoadRecorder(start time.Time, timeout time.Duration) *loadRecorder {
	return &loadRecorder{
		start: start, horizon: int(timeout/time.Second) + 2,
		all:     hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
		seconds: map[int]*loadSecond{},
		out:     &model.LoadOutput{Status: map[string]int{}, Errors: map[string]int{}, Series: []model.LoadSecond{}},
	}
}

// second returns the bucket of the second t falls in, closing those no
// request can still answer. Called with mu held.
func (r *loadRecorder) second(t time.Time) *loadSecond {
	i := int(t.Sub(r.start) / time.Second)
	s := r.seconds[i]
	if s == nil {
		s = &loadSecond{LoadSecond: model.LoadSecond{Time: r.start.Add(time.Duration(i) * time.Second)}, hist: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)}
		r.seconds[i] = s
		for j, old := range r.seconds {
			if j < i-r.horizon {
				r.close(j, old)
			}
		}
	}
	return s
}

// close moves a finished second into the series. Called with mu held.
func (r *loadRecorder) close(i int, s *loadSecond) {
	if s.hist.TotalCount() > 0 {
		s.P50 = model.Duration{Duration: time.Duration(s.hist.ValueAtQuantile(50)) * time.Microsecond}
		s.P99 = model.Duration{Duration: time.Duration(s.hist.ValueAtQuantile(99)) * time.Microsecond}
	}
	r.out.Series = append(r.out.Series, s.LoadSecond)
	delete(r.seconds, i)
}

func (r *loadRecorder) drop(due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Dropped++
	r.second(due).Dropped++
}

func (r *loadRecorder) lag(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maxLag = max(r.maxLag, d)
}

func (r *loadRecorder) failed(sent time.Time, cause, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Requests++
	r.out.Failed++
	r.out.Errors[cause]++
	if r.out.FirstError == "" {
		r.out.FirstError = message.Clip(message.FirstLine(text), 300)
	}
	s := r.second(sent)
	s.Sent++
	s.Failed++
}

func (r *loadRecorder) answered(sent time.Time, latency time.Duration, status int, ok bool, why string) {
	us := max(latency.Microseconds(), 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Requests++
	r.out.Status[strconv.Itoa(status)]++
	_ = r.all.RecordValue(us)
	s := r.second(sent)
	s.Sent++
	_ = s.hist.RecordValue(us)
	if r.slow > 0 && latency > r.slow {
		s.Slow++
	}
	if ok {
		r.out.Succeeded++
		return
	}
	r.out.Failed++
	s.Failed++
	if r.out.FirstError == "" {
		r.out.FirstError = message.Clip(message.FirstLine(why), 300)
	}
}

// finish closes every second and summarises the load.
func (r *loadRecorder) finish(ended time.Time) *model.LoadOutput {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, i := range sortedSeconds(r.seconds) {
		r.close(i, r.seconds[i])
	}
	sort.Slice(r.out.Series, func(i, j int) bool { return r.out.Series[i].Time.Before(r.out.Series[j].Time) })
	out := r.out
	elapsed := ended.Sub(r.start)
	out.Duration = model.Duration{Duration: elapsed}
	if elapsed > 0 {
		out.Rate = float64(out.Requests) / elapsed.Seconds()
	}
	if out.Requests > 0 {
		out.ErrorRate = float64(out.Failed) / float64(out.Requests)
	}
	q := func(p float64) model.Duration {
		return model.Duration{Duration: time.Duration(r.all.ValueAtQuantile(p)) * time.Microsecond}
	}
	if r.all.TotalCount() > 0 {
		out.Latency = model.LoadLatency{
			P50: q(50), P90: q(90), P95: q(95), P99: q(99),
			Max:    model.Duration{Duration: time.Duration(r.all.Max()) * time.Microsecond},
			Mean:   model.Duration{Duration: time.Duration(r.all.Mean() * float64(time.Microsecond))},
			StdDev: model.Duration{Duration: time.Duration(r.all.StdDev() * float64(time.Microsecond))},
		}
	}
	out.MaxLag = model.Duration{Duration: r.maxLag}
	return out
}

func sortedSeconds(m map[int]*loadSecond) []int {
	return slices.Sorted(maps.Keys(m))
}
