package model

import (
	"time"
)

// KillOutput is what steps.NAME holds after a kill.
type KillOutput struct {
	Eligible int      `json:"eligible"`
	Killed   int      `json:"killed"`
	Victims  []string `json:"victims"`
}

// KillRound is one batch of kills.
type KillRound struct {
	// Scheduled is when the schedule said to kill; Time is when the
	// deletions were sent, and Late the difference.
	Scheduled time.Time `json:"scheduled"`
	Time      time.Time `json:"time"`
	Late      Duration  `json:"late"`
	// Drawn is the count the distribution gave; Killed is what was deleted
	// after the cap and the pods available.
	Drawn    int      `json:"drawn"`
	Killed   int      `json:"killed"`
	Eligible int      `json:"eligible"`
	Victims  []string `json:"victims,omitempty"`
}

// KillPoissonOutput is what steps.NAME holds after a killPoisson.
type KillPoissonOutput struct {
	Seed   int64       `json:"seed"`
	Mode   string      `json:"mode"`
	Total  int         `json:"total"`
	Rounds []KillRound `json:"rounds"`
}

// Sample is a workload's state at one moment.
type Sample struct {
	Time        time.Time `json:"t"`
	Desired     int       `json:"desired"`
	Available   int       `json:"available"`
	Unavailable int       `json:"unavailable"`
	Ready       int       `json:"ready"`
	Updated     int       `json:"updated"`
	// Pods counts the workload's pods by phase, and Terminating those being
	// deleted.
	Pods map[string]int `json:"pods"`
}

// Recovery measures how fast availability came back after kill batches.
type Recovery struct {
	Batches []BatchRecovery `json:"batches"`
	P50     Duration        `json:"p50"`
	P95     Duration        `json:"p95"`
	Max     Duration        `json:"max"`
	// Unrecovered counts batches after which availability had not come back
	// when the monitor stopped; their time is a lower bound.
	Unrecovered int `json:"unrecovered"`
}

// BatchRecovery is one kill batch and the time availability took to return.
type BatchRecovery struct {
	Time      time.Time `json:"time"`
	Killed    int       `json:"killed"`
	Recovery  Duration  `json:"recovery"`
	Recovered bool      `json:"recovered"`
}

// WorkloadSeries is one monitored workload: its samples and measures.
type WorkloadSeries struct {
	Kind           string    `json:"kind"`
	Name           string    `json:"name"`
	Namespace      string    `json:"namespace"`
	Desired        int       `json:"desired"`
	MinAvailable   int       `json:"minAvailable"`
	MaxUnavailable int       `json:"maxUnavailable"`
	BelowDesired   Duration  `json:"belowDesired"`
	Kills          int       `json:"kills"`
	Recovery       Recovery  `json:"recovery"`
	Samples        []Sample  `json:"samples"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	// Gaps are times the API server could not be reached: no samples exist
	// there, and the chart shows them as gaps, not as the last value held.
	Gaps []Gap `json:"gaps,omitempty"`
}

// Gap is a time without samples because the API server was unreachable.
type Gap struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason"`
}

// MonitorOutput is what steps.NAME holds after a monitor: measures over all
// its workloads at the top, and each workload's series.
type MonitorOutput struct {
	MinAvailable   int              `json:"minAvailable"`
	MaxUnavailable int              `json:"maxUnavailable"`
	BelowDesired   Duration         `json:"belowDesired"`
	Kills          int              `json:"kills"`
	Recovery       Recovery         `json:"recovery"`
	Workloads      []WorkloadSeries `json:"workloads"`
}
