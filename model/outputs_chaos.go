package model

import (
	"time"
)

// KillOutput is what steps.NAME holds after a kill.
type KillOutput struct {
	Eligible int      `json:"eligible"`
	Killed   int      `json:"killed"`
	Victims  []string `json:"victims"`
	// Evicted says the victims went through the Eviction API; BlockedByPDB
	// counts those a PodDisruptionBudget refused (they were not killed).
	Evicted      bool `json:"evicted,omitempty"`
	BlockedByPDB int  `json:"blockedByPDB"`
	// Recovery is the time from the deletions until the workload was back
	// at its desired count, with recover: true; Recovered says it got
	// there before the recover timeout.
	Recovery  *Duration `json:"recovery,omitempty"`
	Recovered bool      `json:"recovered,omitempty"`
}

// Measures are the kill's recovery time, when it waited for one.
func (k *KillOutput) Measures() []Measure {
	if k.Recovery == nil {
		return nil
	}
	return []Measure{{Name: "recovery", Value: k.Recovery.Seconds(), Seconds: true}}
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
	// BlockedByPDB counts victims whose eviction a PodDisruptionBudget
	// refused (evict: true); they were not retried.
	BlockedByPDB int `json:"blockedByPDB,omitempty"`
}

// KillPoissonOutput is what steps.NAME holds after a killPoisson.
type KillPoissonOutput struct {
	Seed  int64  `json:"seed"`
	Mode  string `json:"mode"`
	Total int    `json:"total"`
	// BlockedByPDB counts refused evictions over all rounds (evict: true).
	BlockedByPDB int         `json:"blockedByPDB"`
	Rounds       []KillRound `json:"rounds"`
	// Recovery is the time from the last kill until the workload was back
	// at its desired count, with recover: true; Recovered says it got there
	// before the recover timeout.
	Recovery  *Duration `json:"recovery,omitempty"`
	Recovered bool      `json:"recovered,omitempty"`
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
	// Mean is the batches' mean recovery.
	Mean Duration `json:"mean"`
	// Unrecovered counts batches after which availability had not come back
	// when the monitor stopped; their time is a lower bound.
	Unrecovered int `json:"unrecovered"`
}

// BatchRecovery is one batch of lost pods (a kill, or a node step that
// evicted them) and the time availability took to return.
type BatchRecovery struct {
	Time   time.Time `json:"time"`
	Killed int       `json:"killed"`
	// Cause is what took the pods: "kill", or a node step's action and
	// nodes ("fail node-000001").
	Cause     string   `json:"cause,omitempty"`
	Recovery  Duration `json:"recovery"`
	Recovered bool     `json:"recovered"`
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
	// NodesOut are the times nodes were out of service (cordoned, tainted
	// NoSchedule or NoExecute, or not Ready) while the monitor ran; the
	// chart shades them.
	NodesOut []NodeWindow `json:"nodesOut,omitempty"`
}

// NodeWindow is a time a node was out of service.
type NodeWindow struct {
	Node  string    `json:"node"`
	Start time.Time `json:"start"`
	// End is zero when the node was still out at the monitor's end.
	End time.Time `json:"end,omitzero"`
	// Reason says how it was out: "cordoned", "NotReady", "tainted ...".
	Reason string `json:"reason"`
}

// NodeEvent is a change the monitor saw on a node.
type NodeEvent struct {
	Time time.Time `json:"time"`
	Node string    `json:"node"`
	// Event is cordoned, uncordoned, tainted, untainted, NotReady or Ready;
	// Detail names the taint or the condition's reason.
	Event  string `json:"event"`
	Detail string `json:"detail,omitempty"`
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
	// NodeEvents are the node changes seen while the monitor ran: cordons,
	// taints, readiness, whoever made them.
	NodeEvents []NodeEvent `json:"nodeEvents,omitempty"`
	// Connections are the connections the monitor tried, each with when
	// it was lost and back.
	Connections []ConnectionSeries `json:"connections,omitempty"`
	// Faults is what each fault the monitor saw cost (and each partition
	// of the scenario): pods short, failed and slow requests of the
	// scenario's load steps, the longest gap. Filled as the scenario's
	// other steps end, so an assert after the loads sees them.
	Faults []FaultImpact `json:"faults,omitempty"`
}

// ConnectionSeries is one connection a monitor tried again and again.
type ConnectionSeries struct {
	// Name is the pair: "-l app=frontend to service backend:8080".
	Name string `json:"name"`
	// NotApplicable says why the connection was not tried (the source pod
	// is simulated).
	NotApplicable string `json:"notApplicable,omitempty"`
	// Tries and Failures count the attempts and those that did not connect.
	Tries    int `json:"tries"`
	Failures int `json:"failures"`
	// Lost are the times it could not connect, from the first failed try
	// to the next that connected (End zero: lost when the monitor
	// stopped).
	Lost []ConnectionLoss `json:"lost"`
	// Reconnected is, for each heal while the monitor ran, how long after
	// it the connection was back (seconds; -1: not back when the monitor
	// stopped).
	Reconnected []float64 `json:"reconnected,omitempty"`
	// Samples are the tries: time, and whether it connected.
	Samples []ConnectionSample `json:"samples"`
}

// ConnectionLoss is a time a monitored connection failed.
type ConnectionLoss struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Seconds float64   `json:"seconds"`
	// Reason is how the first failed try failed: timed out, refused.
	Reason string `json:"reason,omitempty"`
}

// ConnectionSample is one try.
type ConnectionSample struct {
	Time time.Time `json:"time"`
	OK   bool      `json:"ok"`
}

// NodeOutput is what steps.NAME holds after a node step.
type NodeOutput struct {
	Action string `json:"action"`
	// Nodes are the nodes acted on.
	Nodes []string `json:"nodes"`
	// Evicted are the pods drained or deleted from them, as namespace/name;
	// BlockedByPDB are the pods a PodDisruptionBudget still held back when
	// the drain ended (drain retries them until its timeout).
	Evicted      []string `json:"evicted"`
	BlockedByPDB []string `json:"blockedByPDB"`
	// DelayedByPDB are the pods a PodDisruptionBudget held back for a
	// while and that were evicted in the end.
	DelayedByPDB []string `json:"delayedByPDB"`
	// EvictedOwn are the evicted pods of the scenario's own namespace;
	// EvictedOthers those of other namespaces that shared the nodes (a
	// neighbour's, on a shared cluster). A check of what the scenario's
	// workloads lost reads EvictedOwn.
	EvictedOwn    []string `json:"evictedOwn"`
	EvictedOthers []string `json:"evictedOthers"`
	// Spared are pods left on the nodes: DaemonSet and mirror pods, and
	// pods in system namespaces unless allowUnsafe is set.
	Spared []string `json:"spared"`
	// Restored are the changes a restore undid, one line per node.
	Restored []string  `json:"restored,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Duration Duration  `json:"duration"`
}

// Measures are the node step's duration and the pods it moved.
func (n *NodeOutput) Measures() []Measure {
	return []Measure{
		{Name: "duration", Value: n.Duration.Seconds(), Seconds: true},
		{Name: "evicted", Value: float64(len(n.Evicted))},
	}
}

// PartitionOutput is what steps.NAME holds after a partition: the
// NetworkPolicies that made it and the pods it cut off.
type PartitionOutput struct {
	// Policies are the NetworkPolicies made, as namespace/name.
	Policies []string `json:"policies"`
	// Pods are the pods cut off when it began, as namespace/name.
	Pods []string `json:"pods"`
	// Direction is ingress, egress or both.
	Direction string    `json:"direction"`
	Started   time.Time `json:"started"`
	// Healed is when its duration was up and the policies went; zero when
	// a heal step or the scenario's end removed them.
	Healed time.Time `json:"healed,omitzero"`
}

// HealOutput is what steps.NAME holds after a heal.
type HealOutput struct {
	// Removed are the NetworkPolicies removed, as namespace/name.
	Removed []string `json:"removed"`
	// Time is when the last of them went.
	Time time.Time `json:"time"`
}
