package model

// AppliedObject names an object a step wrote.
type AppliedObject struct {
	APIVersion      string `json:"apiVersion"`
	Kind            string `json:"kind"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name"`
	UID             string `json:"uid"`
	ResourceVersion string `json:"resourceVersion"`
}

// ApplyOutput is what steps.NAME holds after an apply.
type ApplyOutput struct {
	Objects []AppliedObject `json:"objects"`
}

// DeleteOutput is what steps.NAME holds after a delete.
type DeleteOutput struct {
	Deleted []string `json:"deleted"`
}

// PatchOutput is what steps.NAME holds after a patch.
type PatchOutput struct {
	ResourceVersion string `json:"resourceVersion"`
	Generation      int64  `json:"generation"`
}

// ScaleOutput is what steps.NAME holds after a scale.
type ScaleOutput struct {
	Previous int64 `json:"previous"`
	Replicas int32 `json:"replicas"`
}

// RolloutOutput is what steps.NAME holds after a rollout.
type RolloutOutput struct {
	// Revision is the workload's revision after the rollout.
	Revision int64 `json:"revision"`
	Desired  int   `json:"desired"`
	// MinAvailable and MaxUnavailable are the extremes seen while it rolled.
	MinAvailable   int `json:"minAvailable"`
	MaxUnavailable int `json:"maxUnavailable"`
	// MaxSurge is the most replicas seen above the desired count: for a
	// Deployment, the most its ReplicaSets were told to run at once (what
	// the strategy's maxSurge bounds), read from the ReplicaSets in order;
	// for a StatefulSet or DaemonSet, from its status.
	MaxSurge int      `json:"maxSurge"`
	Duration Duration `json:"duration"`
}

// SwitchOutput is what steps.NAME holds after a switchSelector.
type SwitchOutput struct {
	Service          string            `json:"service"`
	Namespace        string            `json:"namespace"`
	PreviousSelector map[string]string `json:"previousSelector"`
	Selector         map[string]string `json:"selector"`
	// EndpointsBefore and EndpointsAfter name the pods behind the Service's
	// ready endpoints before the switch and once it took effect.
	EndpointsBefore []string `json:"endpointsBefore"`
	EndpointsAfter  []string `json:"endpointsAfter"`
}

// HTTPOutput is what steps.NAME holds after an http step.
type HTTPOutput struct {
	Requests     int     `json:"requests"`
	Failures     int     `json:"failures"`
	SuccessRatio float64 `json:"successRatio"`
	// Status and Body of the last response (the body cut to 1 KiB).
	Status int    `json:"status"`
	Body   string `json:"body"`
	// LatencyP50, LatencyP95 and LatencyMax time the requests.
	LatencyP50 Duration `json:"latencyP50"`
	LatencyP95 Duration `json:"latencyP95"`
	LatencyMax Duration `json:"latencyMax"`
	// FirstFailure says what went wrong first, if anything did.
	FirstFailure string `json:"firstFailure,omitempty"`
}
