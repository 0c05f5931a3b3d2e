package kube

// The request counter and the health record: every try the cluster's
// clients send is counted, and whether the control plane answered it
// makes the run's record of outages.

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/kdrill/kdrill/model"
)

// RequestCounter counts the HTTP requests a cluster's clients send, by
// method and by whether they are watches.
type RequestCounter struct {
	mu     sync.Mutex
	counts map[string]int
	health health
}

func (rc *RequestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		key := req.Method
		if req.URL.Query().Get("watch") == "true" {
			key = "WATCH"
		}
		rc.mu.Lock()
		rc.counts[key]++
		rc.mu.Unlock()
		resp, err := rt.RoundTrip(req)
		switch {
		case err == nil && isServerFault(resp.StatusCode) && !isProxied(req):
			rc.health.down(time.Now(), fmt.Errorf("%s %s: the API server answered %s", req.Method, req.URL.Path, resp.Status))
		case err == nil:
			rc.health.up(time.Now())
		case req.Context().Err() == nil && IsTransient(err):
			rc.health.down(time.Now(), err)
		}
		return resp, err
	})
}

// isServerFault says whether an answer's status is the control plane
// failing (etcd unavailable, an overloaded or restarting API server), as
// opposed to an answer about the request.
func isServerFault(code int) bool {
	return code == http.StatusInternalServerError || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// health follows whether the API server answers, from every request the
// cluster's clients send.
type health struct {
	mu      sync.Mutex
	outages []model.Outage
	inside  bool
}

func (h *health) down(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.inside {
		h.inside = true
		h.outages = append(h.outages, model.Outage{Start: now, Error: err.Error()})
	}
}

func (h *health) up(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inside {
		h.inside = false
		o := &h.outages[len(h.outages)-1]
		o.End, o.Seconds = now, now.Sub(o.Start).Seconds()
	}
}

// NoteWaiting records that a step's request waited for the outage going
// on now (or the last one).
func (c *Cluster) NoteWaiting(step string) {
	if c == nil || c.Requests == nil || step == "" {
		return
	}
	h := &c.Requests.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.outages); n > 0 && !slices.Contains(h.outages[n-1].Steps, step) {
		h.outages[n-1].Steps = append(h.outages[n-1].Steps, step)
	}
}

// Unreachable returns the outage going on now, if the last request to the
// API server failed to reach it. A nil Cluster is never unreachable.
func (c *Cluster) Unreachable() (model.Outage, bool) {
	if c == nil || c.Requests == nil {
		return model.Outage{}, false
	}
	h := &c.Requests.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.inside {
		return model.Outage{}, false
	}
	return h.outages[len(h.outages)-1], true
}

// Outages returns the times the API server could not be reached so far.
func (c *Cluster) Outages() []model.Outage {
	if c == nil || c.Requests == nil {
		return nil
	}
	h := &c.Requests.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]model.Outage(nil), h.outages...)
	for i := range out {
		out[i].Steps = slices.Clone(out[i].Steps)
	}
	return out
}

// Snapshot returns the counts so far, keyed GET, WATCH, POST, PATCH, ...
func (rc *RequestCounter) Snapshot() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]int, len(rc.counts))
	for k, v := range rc.counts {
		out[k] = v
	}
	return out
}
