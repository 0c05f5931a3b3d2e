package model

import (
	"encoding/json"
	"math"
	"reflect"
)

// outputTypes is what each step kind records as its output: the type a
// live run's output has, and the one a results.json's output is read back
// into. A kind that records nothing is not listed.
var outputTypes = map[string]reflect.Type{
	"apply":           reflect.TypeFor[ApplyOutput](),
	"assert":          reflect.TypeFor[AssertOutput](),
	"connect":         reflect.TypeFor[ConnectOutput](),
	"capacity":        reflect.TypeFor[CapacityOutput](),
	"delete":          reflect.TypeFor[DeleteOutput](),
	"events":          reflect.TypeFor[EventsOutput](),
	"exec":            reflect.TypeFor[ExecOutput](),
	"expectRejection": reflect.TypeFor[ExpectRejectionOutput](),
	"http":            reflect.TypeFor[HTTPOutput](),
	"kill":            reflect.TypeFor[KillOutput](),
	"load":            reflect.TypeFor[LoadOutput](),
	"killPoisson":     reflect.TypeFor[KillPoissonOutput](),
	"logs":            reflect.TypeFor[LogsOutput](),
	"metrics":         reflect.TypeFor[MetricsOutput](),
	"monitor":         reflect.TypeFor[MonitorOutput](),
	"node":            reflect.TypeFor[NodeOutput](),
	"patch":           reflect.TypeFor[PatchOutput](),
	"podExec":         reflect.TypeFor[ExecOutput](),
	"resolve":         reflect.TypeFor[ResolveOutput](),
	"partition":       reflect.TypeFor[PartitionOutput](),
	"heal":            reflect.TypeFor[HealOutput](),
	"rollout":         reflect.TypeFor[RolloutOutput](),
	"scale":           reflect.TypeFor[ScaleOutput](),
	"switchSelector":  reflect.TypeFor[SwitchOutput](),
}

// OutputType returns the type of a step kind's output, or nil when the
// kind records none.
func OutputType(kind string) reflect.Type { return outputTypes[kind] }

// OutputKinds lists the kinds that record an output, for tests that keep
// this list and the step registry in step.
func OutputKinds() []string {
	kinds := make([]string, 0, len(outputTypes))
	for k := range outputTypes {
		kinds = append(kinds, k)
	}
	return kinds
}

// DecodedOutput returns the step's output as a pointer to its kind's type,
// whether the run is live or was read back from results.json; nil when
// the step recorded none.
func (st *StepResult) DecodedOutput() (any, error) {
	t := outputTypes[st.Kind]
	if t == nil || st.Output == nil {
		return nil, nil
	}
	if reflect.TypeOf(st.Output) == reflect.PointerTo(t) {
		return st.Output, nil // a live run's, typed already: readers do not change it
	}
	v := reflect.New(t).Interface()
	return v, DecodeOutput(st.Output, v)
}

// DecodeOutput reads a step's output into v: the typed value of a live run
// or the plain maps of a results.json read back.
func DecodeOutput(output, v any) error {
	data, err := json.Marshal(output)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Measure is one number a step measured, which kdrill compare and report
// trend follow from run to run.
type Measure struct {
	// Name is relative to the step: "recovery.p95".
	Name  string
	Value float64
	// Seconds marks a duration, which gets a slack for timing noise.
	Seconds bool
	// LowerIsWorse is set for availability, success ratios and scores.
	LowerIsWorse bool
	// Samples counts the observations the figure summarises (the
	// recoveries behind a p50, the requests behind a success ratio) and
	// Spread is their standard deviation, so a comparison can tell a
	// change from noise; both zero for a single figure.
	Samples int
	Spread  float64
	// Tail marks a figure from the slow end of its samples (p95, max),
	// whose noise is the samples' spread itself, not its standard error.
	Tail bool
}

// SpreadOf is the sample standard deviation of xs (0 for fewer than two).
func SpreadOf(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// Measured is implemented by outputs that carry numbers worth comparing
// between runs.
type Measured interface {
	Measures() []Measure
}

// AvailabilityCharted is implemented by outputs that followed workloads'
// availability over time; the reports chart each series.
type AvailabilityCharted interface {
	AvailabilitySeries() []WorkloadSeries
}

// CommitmentCharted is implemented by outputs that measured the nodes'
// commitment; the reports chart and tabulate it.
type CommitmentCharted interface {
	Commitment() *CapacityOutput
}

// Measures are the monitor's recovery, time below desired and extremes.
func (m *MonitorOutput) Measures() []Measure {
	var rec []float64
	for _, b := range m.Recovery.Batches {
		rec = append(rec, b.Recovery.Seconds())
	}
	n, sd := len(rec), SpreadOf(rec)
	out := m.faultMeasures()
	return append(out, []Measure{
		{Name: "recovery.p50", Value: m.Recovery.P50.Seconds(), Seconds: true, Samples: n, Spread: sd},
		{Name: "recovery.p95", Value: m.Recovery.P95.Seconds(), Seconds: true, Samples: n, Spread: sd, Tail: true},
		{Name: "recovery.max", Value: m.Recovery.Max.Seconds(), Seconds: true, Samples: n, Spread: sd, Tail: true},
		{Name: "belowDesired", Value: m.BelowDesired.Seconds(), Seconds: true},
		{Name: "minAvailable", Value: float64(m.MinAvailable), LowerIsWorse: true},
		{Name: "maxUnavailable", Value: float64(m.MaxUnavailable)},
	}...)
}

// AvailabilitySeries are the monitored workloads' samples.
func (m *MonitorOutput) AvailabilitySeries() []WorkloadSeries { return m.Workloads }

// Measures are the rollout's availability floor and surge.
func (r *RolloutOutput) Measures() []Measure {
	return []Measure{
		{Name: "minAvailable", Value: float64(r.MinAvailable), LowerIsWorse: true},
		{Name: "maxSurge", Value: float64(r.MaxSurge)},
	}
}

// Measures are the requests' success ratio and slow end.
func (h *HTTPOutput) Measures() []Measure {
	return []Measure{
		// Each request passes or not: the ratio's spread is binomial.
		{Name: "successRatio", Value: h.SuccessRatio, LowerIsWorse: true, Samples: h.Requests, Spread: math.Sqrt(h.SuccessRatio * (1 - h.SuccessRatio))},
		{Name: "latencyP95", Value: h.LatencyP95.Seconds(), Seconds: true},
	}
}

// Commitment is the capacity output itself.
func (c *CapacityOutput) Commitment() *CapacityOutput { return c }

// UnmarshalJSON reads a step's record from results.json with its output
// decoded once, straight into its kind's type (as a live run has it), not
// into plain maps that every reader decodes again; an output its kind's
// type cannot hold (a results.json an older kdrill wrote, say) is kept as
// plain values.
func (st *StepResult) UnmarshalJSON(data []byte) error {
	type record StepResult // without this method
	aux := struct {
		*record
		Output json.RawMessage `json:"output,omitempty"`
	}{record: (*record)(st)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	st.Output = nil
	if len(aux.Output) == 0 || string(aux.Output) == "null" {
		return nil
	}
	if t := outputTypes[st.Kind]; t != nil {
		v := reflect.New(t).Interface()
		if json.Unmarshal(aux.Output, v) == nil {
			st.Output = v
			return nil
		}
	}
	var plain any
	if err := json.Unmarshal(aux.Output, &plain); err != nil {
		return err
	}
	st.Output = plain
	return nil
}
