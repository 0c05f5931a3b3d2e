package model

import (
	"maps"
	"slices"
	"sort"
	"time"
)

// FaultImpact is what one fault cost the users of a scenario's workloads:
// a batch of lost pods (a kill round, a node step that evicted or deleted
// them) from when it struck until the monitor saw the workload back, or a
// partition from its start to its heal. Requests are counted by the second
// of the load steps' series that overlap the window.
type FaultImpact struct {
	// Cause is what struck: "kill", "drain node-3", "partition cut".
	Cause string    `json:"cause"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Recovered says the workload came back (a partition: was healed)
	// before the end of monitoring.
	Recovered bool `json:"recovered"`
	// PodSecondsBelowDesired sums, over the window, how many pods each
	// monitored workload was short of its desired count.
	PodSecondsBelowDesired float64 `json:"podSecondsBelowDesired"`
	// FailedRequests and SlowRequests (slower than the load's slow
	// threshold) of every load step in the window; Requests all of them.
	Requests       int `json:"requests"`
	FailedRequests int `json:"failedRequests"`
	SlowRequests   int `json:"slowRequests"`
	// LongestGap is the longest run of whole seconds in the window in
	// which a load sent requests and none succeeded.
	LongestGap Duration `json:"longestGap"`
}

// Faults computes each fault's impact from a scenario's monitors, loads
// and partitions.
func Faults(monitors []*MonitorOutput, loads []*LoadOutput, partitions map[string]*PartitionOutput) []FaultImpact {
	out := []FaultImpact{}
	end := time.Time{}
	for _, m := range monitors {
		for _, w := range m.Workloads {
			end = later(end, w.End)
		}
	}
	for _, m := range monitors {
		for _, b := range m.Recovery.Batches {
			cause := b.Cause
			if cause == "" {
				cause = "kill"
			}
			f := FaultImpact{Cause: cause, Start: b.Time, End: b.Time.Add(b.Recovery.Duration), Recovered: b.Recovered}
			if !b.Recovered && !end.IsZero() {
				f.End = end
			}
			out = append(out, f)
		}
	}
	for _, name := range sortedNames(partitions) {
		p := partitions[name]
		f := FaultImpact{Cause: "partition " + name, Start: p.Started, End: p.Healed, Recovered: !p.Healed.IsZero()}
		if f.End.IsZero() {
			f.End = end
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	for i := range out {
		f := &out[i]
		for _, m := range monitors {
			for _, w := range m.Workloads {
				f.PodSecondsBelowDesired += shortfall(w.Samples, f.Start, f.End)
			}
		}
		for _, l := range loads {
			requestsIn(l, f)
		}
	}
	return out
}

// shortfall integrates max(0, desired-available) over [from, to]; a
// sample's values hold until the next.
func shortfall(samples []Sample, from, to time.Time) float64 {
	sum := 0.0
	for i, s := range samples {
		next := to
		if i+1 < len(samples) {
			next = samples[i+1].Time
		}
		a, b := later(s.Time, from), earlier(next, to)
		if !b.After(a) || s.Available >= s.Desired {
			continue
		}
		sum += float64(s.Desired-s.Available) * b.Sub(a).Seconds()
	}
	return sum
}

// requestsIn adds a load's seconds that overlap the fault's window.
func requestsIn(l *LoadOutput, f *FaultImpact) {
	run := 0
	for _, s := range l.Series {
		if !s.Time.Add(time.Second).After(f.Start) || s.Time.After(f.End) {
			run = 0
			continue
		}
		f.Requests += s.Sent
		f.FailedRequests += s.Failed
		f.SlowRequests += s.Slow
		if s.Sent > 0 && s.Failed == s.Sent {
			run++
			if d := time.Duration(run) * time.Second; d > f.LongestGap.Duration {
				f.LongestGap = Duration{Duration: d}
			}
		} else {
			run = 0
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sortedNames[T any](m map[string]T) []string {
	return slices.Sorted(maps.Keys(m))
}

// faultMeasures are what a fault cost on average, with the faults as
// samples (how many there were is the schedule's draw, so sums would not
// compare), and the longest gap; none when the monitor saw no fault.
func (m *MonitorOutput) faultMeasures() []Measure {
	if len(m.Faults) == 0 {
		return nil
	}
	var short, failed, slow []float64
	gap := 0.0
	for _, f := range m.Faults {
		short = append(short, f.PodSecondsBelowDesired)
		failed = append(failed, float64(f.FailedRequests))
		slow = append(slow, float64(f.SlowRequests))
		gap = max(gap, f.LongestGap.Seconds())
	}
	mean := func(name string, xs []float64) Measure {
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		return Measure{Name: name, Value: sum / float64(len(xs)), Samples: len(xs), Spread: SpreadOf(xs)}
	}
	return []Measure{
		mean("faults.podSecondsBelowDesired", short),
		mean("faults.failedRequests", failed),
		mean("faults.slowRequests", slow),
		{Name: "faults.longestGap", Value: gap, Seconds: true, Tail: true},
	}
}
