package steps

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// MonitorConnection is a connection a monitor tries every interval, from
// inside a source pod as connect does: when it was lost, when it was back,
// and how long after each heal.
type MonitorConnection struct {
	// From picks the pod the connection starts in (the first Running one).
	From *ConnectFrom `json:"from"`
	// To is where it goes: a Service, pods (the first Running one) or a
	// host, and a port.
	To *ConnectTo `json:"to"`
}

func (m *MonitorConnection) validate(errs *scenario.FieldErrors, at string) {
	k := ConnectCheck{From: m.From, To: m.To, Expect: connectAllowed}
	k.validate(errs, at)
}

func (m *MonitorConnection) name() string {
	to := m.To.Service
	switch {
	case m.To.Selector != "":
		to = "pods -l " + m.To.Selector
	case m.To.Host != "":
		to = "host " + m.To.Host
	default:
		to = "service " + to
	}
	if m.To.Port != 0 {
		to += ":" + strconv.Itoa(m.To.Port)
	}
	return "-l " + m.From.Selector + " to " + to
}

// connectionWatcher tries one connection every interval until stopped.
type connectionWatcher struct {
	conn   *MonitorConnection
	done   chan struct{}
	mu     sync.Mutex
	series model.ConnectionSeries
	open   *model.ConnectionLoss
}

// startConnectionWatchers starts a watcher per connection.
func (m *Monitor) startConnectionWatchers(ctx context.Context, env *step.Env) []*connectionWatcher {
	var out []*connectionWatcher
	for i := range m.Connections {
		w := &connectionWatcher{conn: &m.Connections[i], done: make(chan struct{})}
		w.series = model.ConnectionSeries{Name: w.conn.name(), Lost: []model.ConnectionLoss{}, Samples: []model.ConnectionSample{}}
		go w.run(ctx, env, m.Interval.Duration)
		out = append(out, w)
	}
	return out
}

func (w *connectionWatcher) run(ctx context.Context, env *step.Env, every time.Duration) {
	defer close(w.done)
	c := &Connect{Timeout: model.Duration{Duration: time.Second}}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ok, reason := w.try(ctx, env, c)
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		na := w.series.NotApplicable != ""
		w.mu.Unlock()
		if na {
			return
		}
		w.note(env.Clock.Now(), ok, reason)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// try makes one connection; a source or destination that cannot be found
// is a failure too, with the reason.
func (w *connectionWatcher) try(ctx context.Context, env *step.Env, c *Connect) (bool, string) {
	from, err := c.sources(ctx, env, w.conn.From)
	if err != nil {
		return false, err.Error()
	}
	if why := simulated(ctx, env, from[0].Spec.NodeName); why != "" {
		w.mu.Lock()
		w.series.NotApplicable = "not verified by traffic: " + why
		w.mu.Unlock()
		return false, why
	}
	to, err := c.targets(ctx, env, w.conn.To)
	if err != nil {
		return false, err.Error()
	}
	p := c.probe(ctx, env, w.conn.From, from[0].Name, to[0])
	return p.Observed == connectAllowed, p.Reason
}

func (w *connectionWatcher) note(at time.Time, ok bool, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &w.series
	s.Tries++
	s.Samples = append(s.Samples, model.ConnectionSample{Time: at, OK: ok})
	switch {
	case !ok:
		s.Failures++
		if w.open == nil {
			w.open = &model.ConnectionLoss{Start: at, Reason: reason}
		}
	case w.open != nil:
		w.open.End = at
		w.open.Seconds = at.Sub(w.open.Start).Seconds()
		s.Lost = append(s.Lost, *w.open)
		w.open = nil
	}
}

// finish waits for the watcher and returns its series, with the time to
// reconnect after each heal.
func (w *connectionWatcher) finish(heals []model.TimelineEvent) model.ConnectionSeries {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.series
	if w.open != nil {
		s.Lost = append(s.Lost, *w.open)
	}
	for _, h := range heals {
		// A heal counts for a connection lost when it came.
		lost, back := false, -1.0
		for _, sample := range s.Samples {
			if sample.Time.Before(h.Time) {
				lost = !sample.OK
				continue
			}
			if sample.OK {
				back = sample.Time.Sub(h.Time).Seconds()
				break
			}
		}
		if lost {
			s.Reconnected = append(s.Reconnected, back)
		}
	}
	return s
}
