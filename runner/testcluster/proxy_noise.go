package testcluster

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Faults of a noisy link rather than a dead one: every request late, some
// throttled with Retry-After, some connections reset before the server sees
// them. The proxy also logs the deletes that reached the server, so a test
// can tell how many pods were really deleted, and whether one was twice.

// noise is what the proxy does besides forwarding; guarded by Proxy.mu.
type noise struct {
	latency    time.Duration
	throttle   map[string]int // by method: how many more to answer 429
	retryAfter int
	reset      map[string]int // by method: how many more connections to reset
	only       string         // when set, faults strike only paths holding it
	// deleted maps a path to the statuses the server answered its deletes.
	deleted map[string][]int
}

// Latency delays every request by d before it is forwarded.
func (p *Proxy) Latency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noise.latency = d
}

// Throttle answers the next n requests with this method 429 Too Many
// Requests, with Retry-After: seconds, as API Priority and Fairness does.
func (p *Proxy) Throttle(method string, n, seconds int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.noise.throttle == nil {
		p.noise.throttle = map[string]int{}
	}
	p.noise.throttle[strings.ToUpper(method)] = n
	p.noise.retryAfter = seconds
}

// ResetNext resets the connection of the next n requests with this method,
// before the server sees them.
func (p *Proxy) ResetNext(method string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.noise.reset == nil {
		p.noise.reset = map[string]int{}
	}
	p.noise.reset[strings.ToUpper(method)] = n
}

// Only has the faults strike only requests whose path holds part ("/pods",
// say); the others pass untouched (a run's own start-up reads).
func (p *Proxy) Only(part string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noise.only = part
}

// Deleted returns, for each path deleted through the proxy, the statuses
// the server answered (an injected answer is not counted: the server's is).
func (p *Proxy) Deleted() map[string][]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string][]int, len(p.noise.deleted))
	for k, v := range p.noise.deleted {
		out[k] = append([]int(nil), v...)
	}
	return out
}

// noisy applies the link's faults to a request; it reports whether it
// answered the request itself.
func (p *Proxy) noisy(w http.ResponseWriter, r *http.Request) bool {
	p.mu.Lock()
	latency := p.noise.latency
	throttled := p.noise.throttle[r.Method] > 0
	if throttled {
		p.noise.throttle[r.Method]--
	}
	reset := !throttled && p.noise.reset[r.Method] > 0
	if reset {
		p.noise.reset[r.Method]--
	}
	retryAfter := p.noise.retryAfter
	p.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case throttled:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		injected(w, http.StatusTooManyRequests)
		return true
	case reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tcp, ok := conn.(*net.TCPConn); ok {
					_ = tcp.SetLinger(0) // RST, not FIN
				}
				_ = conn.Close()
				return true
			}
		}
	}
	return false
}

// logDelete records the server's answer to a delete.
func (p *Proxy) logDelete(r *http.Request, status int) {
	if r.Method != http.MethodDelete {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.noise.deleted == nil {
		p.noise.deleted = map[string][]int{}
	}
	p.noise.deleted[r.URL.Path] = append(p.noise.deleted[r.URL.Path], status)
}

// statusRecorder keeps the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
