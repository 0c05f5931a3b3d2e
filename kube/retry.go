package kube

// The retry policy: every request the cluster's clients send (reads, lists,
// watches, creates, patches, deletes, evictions, the dials of exec and
// port-forward) is tried again, with backoff, while it fails transiently
// and the request's own deadline (the step's) leaves time for another try.
// A step never decides on its own that a blip is fatal.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
)

// RetryBackoff paces the tries of one request. Its Steps are not a budget:
// the request's deadline is.
var RetryBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 1 << 30, Cap: 2 * time.Second}

// AttemptTimeout bounds how long one try waits for the server to start
// answering; a server that accepts the connection and says nothing is
// tried again (or given up on) after it.
var AttemptTimeout = 15 * time.Second

// UndeadlinedBudget is how long a request whose context has no deadline
// keeps trying.
var UndeadlinedBudget = 60 * time.Second

// Retry is one request tried again, as its step's observer hears of it.
type Retry struct {
	Method, Path string
	Attempt      int // the try that failed, from 1
	Err          string
	Wait         time.Duration
}

type retryObserverKey struct{}

// WithRetryObserver has fn called, on the request's goroutine, each time a
// request sent with the context is tried again.
func WithRetryObserver(ctx context.Context, fn func(Retry)) context.Context {
	return context.WithValue(ctx, retryObserverKey{}, fn)
}

// retryTransport applies the retry policy to every request.
type retryTransport struct {
	next    http.RoundTripper
	health  *health // told of a try that waited for an answer until its deadline
	clock   clock.WithDelayedExecution
	backoff wait.Backoff
}

func newRetryTransport(rt http.RoundTripper, h *health) http.RoundTripper {
	return &retryTransport{next: rt, health: h, clock: clock.RealClock{}, backoff: RetryBackoff}
}

// StallNotice is how long a try must have waited for an answer, when its
// deadline ends it, to count as the control plane stalling (an etcd that
// does not answer, say) rather than a request cut short.
var StallNotice = 2 * time.Second

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	start := t.clock.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(UndeadlinedBudget)
	}
	backoff := t.backoff
	uncertain := false // an earlier try may have reached the server and done its work
	var last failedTry // the last transient failure
	for attempt := 1; ; attempt++ {
		try, err := rewind(req, attempt)
		if err != nil {
			return nil, err
		}
		sent := t.clock.Now()
		resp, err := t.attempt(try)
		if err != nil && ctx.Err() != nil {
			if last.tries == 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) && t.clock.Since(sent) >= StallNotice {
				stall := &StallError{Method: req.Method, Path: req.URL.Path, After: t.clock.Since(sent).Round(time.Millisecond)}
				if t.health != nil {
					t.health.down(sent, stall)
				}
				return nil, stall
			}
			return last.or(ctx, resp, err)
		}
		cause := transientCause(req, resp, err)
		if cause == nil {
			if uncertain {
				return t.settle(req, resp, err, start)
			}
			return resp, err
		}
		if !mayRetry(req, resp, err, uncertain) {
			return resp, err
		}
		delay := backoff.Step()
		if ra := retryAfter(resp); ra > delay {
			delay = ra
		}
		if t.clock.Now().Add(delay).After(deadline) {
			return resp, err
		}
		uncertain = uncertain || mayHaveReached(resp, err)
		last = failedTry{resp: buffered(resp), err: err, tries: attempt}
		if fn, ok := ctx.Value(retryObserverKey{}).(func(Retry)); ok {
			fn(Retry{Method: req.Method, Path: req.URL.Path, Attempt: attempt, Err: cause.Error(), Wait: delay})
		}
		timer := t.clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return last.or(ctx, nil, ctx.Err())
		case <-timer.C():
		}
	}
}

// failedTry is a try that failed transiently: its answer, read into
// memory, or its error.
type failedTry struct {
	resp  *http.Response
	err   error
	tries int
}

// or is what a request whose context ended returns: when its deadline
// passed after transient failures, the last of them (the cluster's fault,
// not the step's); otherwise what the try that ended got.
func (f failedTry) or(ctx context.Context, resp *http.Response, err error) (*http.Response, error) {
	if f.tries == 0 || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return resp, err
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	if f.resp != nil {
		return f.resp, nil
	}
	return nil, &NoAnswerError{Tries: f.tries, Last: f.err}
}

// NoAnswerError is a request that failed transiently on every try until
// its deadline. It is a network timeout, which IsTransient knows.
type NoAnswerError struct {
	Tries int
	Last  error
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("no answer before the deadline after %d tries; the last: %v", e.Tries, e.Last)
}

// Unwrap returns the last try's error.
func (e *NoAnswerError) Unwrap() error { return e.Last }

// Timeout makes it a network timeout, which IsTransient knows.
func (e *NoAnswerError) Timeout() bool { return true }

// Temporary says trying later may work.
func (e *NoAnswerError) Temporary() bool { return true }

// buffered reads a failed answer's body into memory (at most 1 MiB) and
// closes it, so the connection is free while the request waits to retry
// and the answer can still be returned if no retry comes.
func buffered(resp *http.Response) *http.Response {
	if resp == nil {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	copied := *resp
	copied.Body = io.NopCloser(bytes.NewReader(data))
	copied.ContentLength = int64(len(data))
	return &copied
}

// rewind returns the request to send as the given try: a copy of it
// (transports below may change what they are given: the WebSocket one
// rewrites the URL's scheme and takes out the protocol header), with a
// fresh body after the first.
func rewind(req *http.Request, attempt int) (*http.Request, error) {
	try := req.Clone(req.Context())
	if attempt > 1 && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		try.Body = body
	}
	return try, nil
}

// StallError is a try the server did not start answering within
// AttemptTimeout.
type StallError struct {
	Method, Path string
	After        time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s %s: the API server accepted the request but did not answer within %s", e.Method, e.Path, e.After)
}

// Timeout makes a stall a network timeout, which IsTransient knows.
func (e *StallError) Timeout() bool { return true }

// Temporary says trying later may work.
func (e *StallError) Temporary() bool { return true }

// attempt sends one try, giving up on it when the server has not started
// answering within AttemptTimeout. The try's context lives on with the
// response's body, so a watch streams as long as its caller reads it.
func (t *retryTransport) attempt(req *http.Request) (*http.Response, error) {
	if isUpgrade(req) {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	stalled := make(chan struct{})
	timer := t.clock.AfterFunc(AttemptTimeout, func() { close(stalled); cancel() })
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		select {
		case <-stalled:
			if err != nil {
				cancel()
				return nil, &StallError{Method: req.Method, Path: req.URL.Path, After: AttemptTimeout}
			}
		default:
		}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel, ctx: ctx, health: t.health}
	return resp, nil
}

// cancelOnClose ends a try's context with its body; a body cut off while
// it streams (a watch, when the API server goes away) starts an outage in
// the health record at once, not when the next request fails.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
	ctx    context.Context
	health *health
}

func (c *cancelOnClose) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if err != nil && err != io.EOF && c.ctx.Err() == nil && c.health != nil && IsTransient(err) {
		c.health.down(time.Now(), err)
	}
	return n, err
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func isUpgrade(req *http.Request) bool {
	return req.Header.Get("Upgrade") != "" || strings.EqualFold(req.Header.Get("Connection"), "upgrade")
}

// transientCause returns why a try may succeed if sent again, or nil: an
// error IsTransient knows, or an answer of 429 or 5xx.
func transientCause(req *http.Request, resp *http.Response, err error) error {
	if err != nil {
		if IsTransient(err) {
			return err
		}
		return nil
	}
	if isProxied(req) {
		return nil // the answer of a program behind the API server, not of the control plane
	}
	switch resp.StatusCode {
	case http.StatusForbidden:
		if waitsForDefaultServiceAccount(resp) {
			return fmt.Errorf("%s %s: the namespace's default ServiceAccount is not made yet", req.Method, req.URL.Path)
		}
		return nil
	case http.StatusTooManyRequests:
		if isEviction(req) {
			return nil // a disruption budget's refusal: the caller decides
		}
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return nil
	}
	return fmt.Errorf("%s %s: the server answered %s", req.Method, req.URL.Path, resp.Status)
}

// mayRetry says whether a request may be sent again after a transient
// failure: a write that would do its work twice only when no try can have
// reached the server; a request whose body cannot be read again, never.
func mayRetry(req *http.Request, resp *http.Response, err error, uncertain bool) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	if isUpgrade(req) && mayHaveReached(resp, err) {
		return false
	}
	if sentTwiceDoesTwice(req) {
		return !uncertain && !mayHaveReached(resp, err)
	}
	return true
}

// mayHaveReached says whether a failed try may have been carried out by
// the server: it was not refused before it was sent (a dial that failed,
// a 429 that throttles before any work).
func mayHaveReached(resp *http.Response, err error) bool {
	if resp != nil {
		// A throttled or forbidden request was refused before any work.
		return resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden
	}
	return !isDialError(err)
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// retryAfter is the wait a 429 or 503 asks for, at most 10 s.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, 10*time.Second)
}

// isProxied says whether a request goes through the API server to a
// Service, pod or node (the proxy subresource): its status is that
// program's.
func isProxied(req *http.Request) bool {
	return strings.HasSuffix(req.URL.Path, "/proxy") || strings.Contains(req.URL.Path, "/proxy/")
}

func isEviction(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/eviction")
}

// waitsForDefaultServiceAccount says whether a 403 is the ServiceAccount
// admission refusing a pod because the namespace's default ServiceAccount
// does not exist yet: a namespace made a moment ago (by the run, a step or
// anyone), which the service account controller has not reached. Trying
// again fixes it within a second or so. The body is read and put back.
func waitsForDefaultServiceAccount(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), rest), rest}
	msg := string(data)
	// JSON escapes the quotes around "default"; protobuf does not.
	return strings.Contains(msg, "error looking up service account") && strings.Contains(msg, `default`) && strings.Contains(msg, "not found")
}
