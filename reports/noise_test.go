package reports

import (
	"testing"
)

func TestNoiseRule(t *testing.T) {
	rec := func(v float64, n int, sd float64, tail bool) Metric {
		return Metric{Scenario: "s", Name: "steps[m].recovery.p50", Value: v, Seconds: true, Samples: n, Spread: sd, Tail: tail}
	}
	for _, tc := range []struct {
		name       string
		a, b       Metric
		aToB, bToA bool // regressed, baseline first
	}{
		// Two fair-weather runs: recoveries from 0.1 s to 3 s, a p50 five
		// times another by chance.
		{"spread samples, a p50 five-fold", rec(0.3, 8, 1.1, false), rec(1.5, 8, 1.2, false), false, false},
		// The same shift with tight samples is real, and worse one way only.
		{"tight samples, a real shift", rec(0.3, 30, 0.05, false), rec(1.5, 30, 0.06, false), true, false},
		// A p95 moves with one slow sample: its noise is the spread.
		{"a tail figure", rec(1.0, 10, 0.8, true), rec(2.5, 10, 0.9, true), false, false},
		// A single figure has no noise of its own: tolerance and slack.
		{"single figures", Metric{Name: "duration", Value: 10, Seconds: true}, Metric{Name: "duration", Value: 14, Seconds: true}, true, false},
		// A step's wall time on a busy machine: a second of slack at least.
		{"a step's wall time", Metric{Name: "steps[deploy].duration", Value: 1.19, Seconds: true}, Metric{Name: "steps[deploy].duration", Value: 1.80, Seconds: true}, false, false},
		{"a step's wall time, doubled", Metric{Name: "steps[deploy].duration", Value: 5, Seconds: true}, Metric{Name: "steps[deploy].duration", Value: 10, Seconds: true}, true, false},
		// A latency keeps the plain slack.
		{"a latency", Metric{Name: "steps[load].latency.p50", Value: 0.010, Seconds: true}, Metric{Name: "steps[load].latency.p50", Value: 0.600, Seconds: true}, true, false},
		// The relative tolerance is of the larger value: symmetric.
		{"just inside 20 %", Metric{Name: "x", Value: 100}, Metric{Name: "x", Value: 124}, false, false},
		{"outside 20 %", Metric{Name: "x", Value: 100}, Metric{Name: "x", Value: 130}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := regressed(tc.a, tc.b, DefaultTolerance); got != tc.aToB {
				t.Errorf("a→b regressed=%v, want %v", got, tc.aToB)
			}
			if got := regressed(tc.b, tc.a, DefaultTolerance); got != tc.bToA {
				t.Errorf("b→a regressed=%v, want %v", got, tc.bToA)
			}
		})
	}
	// No tolerance (whether it passed, a score): any change for the worse.
	if !regressed(Metric{Name: "passed", Value: 1, LowerIsWorse: true}, Metric{Name: "passed", Value: 0, LowerIsWorse: true}, Tolerance{}) {
		t.Error("a scenario that no longer passes did not regress")
	}
}
