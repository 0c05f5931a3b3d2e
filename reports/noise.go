package reports

import (
	"math"
	"strings"
)

// regressed is the comparison rule: the current figure c is worse than the
// baseline's b by more than all of
//
//   - the relative tolerance, taken of the larger of the two values, so
//     that comparing two runs in either order flags a change the same way
//     (as worse in one order, better in the other);
//   - for durations, the absolute slack (timing noise on any machine),
//     at least wallTimeFloor for a step's or a scenario's wall time, a
//     single figure of whole cluster operations that a busy machine moves
//     by a second without anything being wrong (a scenario's own slack
//     for the metric holds as it is written);
//   - the figures' own noise, when they summarise samples: twice the
//     standard error of the difference, 2·√(s_b²/n_b + s_c²/n_c), for a
//     middle figure (a p50, a ratio), and twice the larger spread for a
//     figure from the slow end (p95, max), which one slow sample moves.
//     A run recorded without samples counts with the other's.
//
// A figure with no tolerance (passed, a lab's score) regresses on any
// change for the worse.
func regressed(b, c Metric, tol Tolerance) bool {
	worse := c.Value - b.Value
	if b.LowerIsWorse {
		worse = -worse
	}
	allowed := tol.Relative * max(math.Abs(b.Value), math.Abs(c.Value))
	if b.Seconds {
		slack := tol.SecondsSlack
		if isWallTime(b.Name) && !tol.ownSlack {
			slack = max(slack, wallTimeFloor)
		}
		allowed += slack
	}
	if tol != (Tolerance{}) {
		allowed += noise(b, c)
	}
	return worse > allowed+1e-9
}

// noise is how far two figures may differ by chance (see regressed).
func noise(b, c Metric) float64 {
	if b.Samples == 0 && c.Samples == 0 {
		return 0
	}
	if b.Samples == 0 {
		b.Samples, b.Spread = c.Samples, c.Spread
	}
	if c.Samples == 0 {
		c.Samples, c.Spread = b.Samples, b.Spread
	}
	if b.Tail || c.Tail {
		return 2 * max(b.Spread, c.Spread)
	}
	return 2 * math.Sqrt(b.Spread*b.Spread/float64(b.Samples)+c.Spread*c.Spread/float64(c.Samples))
}

// wallTimeFloor is the least slack of a wall time (see regressed).
const wallTimeFloor = 1.0

// isWallTime says whether a metric is a scenario's or a step's duration.
func isWallTime(name string) bool {
	return name == "duration" || strings.HasPrefix(name, "steps[") && strings.HasSuffix(name, "].duration")
}
