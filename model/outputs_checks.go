package model

import "time"

// AssertOutput is what steps.NAME holds after an assert.
type AssertOutput struct {
	// Evaluations counts how often the expression was evaluated.
	Evaluations int `json:"evaluations"`
	// Objects is how many objects were watched when it held.
	Objects int `json:"objects"`
	// WaitedSeconds is how long the step waited for the expression.
	WaitedSeconds float64 `json:"waitedSeconds"`
	// UnwatchedSeconds is how much of a holdFor window the control plane
	// was unavailable in: the time the assert could not see. A hold that
	// passed said nothing about it.
	UnwatchedSeconds float64 `json:"unwatchedSeconds,omitempty"`
}

// EventsOutput is what steps.NAME holds after an events step.
type EventsOutput struct {
	// Events is how many events matched when the expression held.
	Events int `json:"events"`
	// Reasons counts the matched events by reason.
	Reasons map[string]int `json:"reasons"`
}

// Rejection is a refusal as expressions see it.
type Rejection struct {
	Object  string          `json:"object"`
	Reason  string          `json:"reason"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Quota   *QuotaRejection `json:"quota,omitempty"`
}

// QuotaRejection is a ResourceQuota's refusal, parsed from its message.
type QuotaRejection struct {
	Name      string             `json:"name"`
	Requested map[string]float64 `json:"requested,omitempty"`
	Used      map[string]float64 `json:"used,omitempty"`
	Limited   map[string]float64 `json:"limited,omitempty"`
	// MustSpecify lists what a compute quota requires every pod to set.
	MustSpecify []string `json:"mustSpecify,omitempty"`
}

// ExpectRejectionOutput is what steps.NAME holds: one refusal per object.
type ExpectRejectionOutput struct {
	Rejections []Rejection `json:"rejections"`
	// Admitted counts creates the server accepted before it refused, each
	// deleted at once: admission (a ResourceQuota's count, say) trailed the
	// cluster's state for a moment.
	Admitted int `json:"admitted,omitempty"`
}

// CapacityOutput is what steps.NAME (and capacity in expr) holds.
type CapacityOutput struct {
	Nodes   map[string]NodeCapacity `json:"nodes" expr:"nodes"`
	Cluster NodeCapacity            `json:"cluster" expr:"cluster"`
	// Namespaces sums the pods' requests and limits per namespace (no
	// allocatable: namespaces share the nodes).
	Namespaces map[string]NodeCapacity `json:"namespaces" expr:"namespaces"`
	// Samples are every reading of a capacity step that samples (every,
	// duration), oldest first.
	Samples []CapacitySample `json:"samples,omitempty" expr:"samples"`
}

// CapacitySample is one reading's commitment, per node and for the
// cluster, in percent of allocatable.
type CapacitySample struct {
	Time    time.Time                 `json:"time" expr:"time"`
	Nodes   map[string]NodeCommitment `json:"nodes" expr:"nodes"`
	Cluster NodeCommitment            `json:"cluster" expr:"cluster"`
}

// NodeCommitment is a node's pods and its requests and limits in percent
// of what it can allocate.
type NodeCommitment struct {
	Pods                  int     `json:"pods" expr:"pods"`
	CPURequestsPercent    float64 `json:"cpuRequestsPercent" expr:"cpuRequestsPercent"`
	CPULimitsPercent      float64 `json:"cpuLimitsPercent" expr:"cpuLimitsPercent"`
	MemoryRequestsPercent float64 `json:"memoryRequestsPercent" expr:"memoryRequestsPercent"`
	MemoryLimitsPercent   float64 `json:"memoryLimitsPercent" expr:"memoryLimitsPercent"`
}

// NodeCapacity is one node's (or the cluster's) commitment.
type NodeCapacity struct {
	Pods   int              `json:"pods" expr:"pods"`
	CPU    ResourceCapacity `json:"cpu" expr:"cpu"`
	Memory ResourceCapacity `json:"memory" expr:"memory"`
}

// ResourceCapacity compares what pods ask for and may use with what a node
// offers; CPU is in cores, memory in bytes.
type ResourceCapacity struct {
	Allocatable     float64 `json:"allocatable" expr:"allocatable"`
	Requests        float64 `json:"requests" expr:"requests"`
	Limits          float64 `json:"limits" expr:"limits"`
	RequestsPercent float64 `json:"requestsPercent" expr:"requestsPercent"`
	LimitsPercent   float64 `json:"limitsPercent" expr:"limitsPercent"`
}
