package steps

import (
	"slices"
	"time"

	"github.com/kdrill/kdrill/model"
)

// recoveryAfter finds when availability returned after a batch at t: the
// first sample, after a sample below the desired count, at or above it. A
// batch that never showed a dip recovered at once. A batch that lasted
// (a drain evicting until settled) recovered when availability was last
// back: a return before settled that another dip undid does not count.
func recoveryAfter(samples []model.Sample, t, settled time.Time, killed int, end time.Time) model.BatchRecovery {
	b := model.BatchRecovery{Time: t, Killed: killed}
	dipped := false
	var back *model.Sample // the return to desired that has held so far
	for i, smp := range samples {
		if smp.Time.Before(t) {
			continue
		}
		if smp.Available < smp.Desired {
			dipped, back = true, nil
			continue
		}
		if dipped && back == nil {
			back = &samples[i]
		}
		if back != nil && !smp.Time.Before(settled) {
			break
		}
	}
	switch {
	case back != nil:
		b.Recovery.Duration = back.Time.Sub(t)
		b.Recovered = true
	case !dipped:
		b.Recovered = true
	default:
		b.Recovery.Duration = end.Sub(t)
	}
	return b
}

// summarize computes percentiles of the batches' recovery times.
func summarize(batches []model.BatchRecovery) model.Recovery {
	r := model.Recovery{Batches: batches}
	if r.Batches == nil {
		r.Batches = []model.BatchRecovery{}
	}
	if len(batches) == 0 {
		return r
	}
	d := make([]time.Duration, len(batches))
	var sum time.Duration
	for i, b := range batches {
		d[i] = b.Recovery.Duration
		sum += b.Recovery.Duration
		if !b.Recovered {
			r.Unrecovered++
		}
	}
	slices.Sort(d)
	r.P50.Duration = percentile(d, 0.50)
	r.P95.Duration = percentile(d, 0.95)
	r.Max.Duration = d[len(d)-1]
	r.Mean.Duration = sum / time.Duration(len(d))
	return r
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(sorted)) + 0.999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// gapsWithin turns the run's API server outages into gaps of a series that
// ran from start to end; an outage still going on ends the series' gap at
// its end.
func gapsWithin(outages []model.Outage, start, end time.Time) []model.Gap {
	var gaps []model.Gap
	for _, o := range outages {
		oEnd := o.End
		if oEnd.IsZero() {
			oEnd = end
		}
		if oEnd.Before(start) || o.Start.After(end) {
			continue
		}
		gaps = append(gaps, model.Gap{Start: maxTime(o.Start, start), End: minTime(oEnd, end), Reason: "the API server was unreachable: " + o.Error})
	}
	return gaps
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
