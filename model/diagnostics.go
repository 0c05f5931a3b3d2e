package model

// Diagnostics is what kdrill gathered when a step failed, so the failure
// report is enough on its own: the likely causes, one line each, and the
// raw material (objects as YAML, describe-like text, container logs)
// written under Dir in the report directory.
type Diagnostics struct {
	// Causes are the likely reasons, each a line a person would otherwise
	// dig out with kubectl describe.
	Causes []string `json:"causes"`
	// Dir is where the files are, relative to the report directory:
	// diagnostics/SCENARIO/STEP.
	Dir string `json:"dir,omitempty"`
	// Files are the files under Dir.
	Files []string `json:"files,omitempty"`
	// Pods summarises the pods of the namespaces looked at.
	Pods []PodSummary `json:"pods,omitempty"`
	// Skipped says what was not collected and why (the time or size bound,
	// an error).
	Skipped []string `json:"skipped,omitempty"`
	// Seconds and Bytes are what the collection took.
	Seconds float64 `json:"seconds"`
	Bytes   int     `json:"bytes"`

	// Contents are the files' bytes, written by the reports; results.json
	// names them only.
	Contents map[string][]byte `json:"-"`
}

// PodSummary is one pod as the diagnostics table shows it.
type PodSummary struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	Ready     bool   `json:"ready"`
	Node      string `json:"node,omitempty"`
	Restarts  int32  `json:"restarts,omitempty"`
	// Reason is why it is not ready, when it can tell: a waiting reason,
	// Unschedulable, a failed condition.
	Reason string `json:"reason,omitempty"`
}
