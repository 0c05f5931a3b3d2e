package model

import (
	"time"
)

// APIVersion is the API group and version of kdrill's files: scenarios
// and the results of running them.
const APIVersion = "kdrill.dev/v1alpha1"

// ResultsKind and ResultsVersion identify the results.json format. The
// version changes only when a field changes meaning or goes away; new fields
// may appear within a version.
const (
	ResultsKind    = "Results"
	ResultsVersion = 1
)

// Outcome is how a step or scenario ended.
type Outcome string

// Outcomes, in rising order of severity for a scenario.
const (
	Passed  Outcome = "passed"
	Skipped Outcome = "skipped"
	// NotApplicable is a check this cluster cannot make (NetworkPolicy not
	// enforced, pods that are simulated and carry no traffic): never a
	// pass, never a failure; the step's error says why.
	NotApplicable Outcome = "notApplicable"
	Failed        Outcome = "failed"    // an expectation did not hold
	Errored       Outcome = "error"     // the cluster failed or could not be reached
	Cancelled     Outcome = "cancelled" // interrupted by a signal
	Running       Outcome = "running"
)

// Results is a recorded run: everything the reports are rendered from.
type Results struct {
	APIVersion    string    `json:"apiVersion"`
	Kind          string    `json:"kind"`
	FormatVersion int       `json:"formatVersion"`
	KdrillVersion string    `json:"kdrillVersion"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt,omitzero"`
	Outcome       Outcome   `json:"outcome"`
	// Interrupted says a signal (Ctrl-C, SIGTERM) stopped the run; what it
	// could not clean up then is named in each scenario's leftBehind.
	Interrupted bool              `json:"interrupted,omitempty"`
	Cluster     ClusterInfo       `json:"cluster"`
	Scenarios   []*ScenarioResult `json:"scenarios"`
	// Outages are the times the API server could not be reached during the
	// run.
	Outages []Outage `json:"outages,omitempty"`
}

// ClusterInfo names the cluster a run talked to.
type ClusterInfo struct {
	Server  string `json:"server,omitempty"`
	Context string `json:"context,omitempty"`
	Version string `json:"version,omitempty"`
}

// ScenarioResult is one scenario's run.
type ScenarioResult struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	File        string `json:"file"`
	// Digest is the SHA-256 of the scenario's file and the files it
	// includes: runs with the same digest and vars had the same inputs.
	Digest    string            `json:"digest,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Namespace string            `json:"namespace"`
	// NamespaceCreated says the run created the namespace (and deleted it,
	// unless it was kept).
	NamespaceCreated bool `json:"namespaceCreated"`
	// NamespaceKept says the run left its namespace for inspection
	// (--keep-namespace).
	NamespaceKept   bool           `json:"namespaceKept,omitempty"`
	Seed            int64          `json:"seed"`
	Vars            map[string]any `json:"vars"`
	Outcome         Outcome        `json:"outcome"`
	Error           string         `json:"error,omitempty"`
	StartedAt       time.Time      `json:"startedAt"`
	FinishedAt      time.Time      `json:"finishedAt,omitzero"`
	DurationSeconds float64        `json:"durationSeconds"`
	Steps           []*StepResult  `json:"steps"`
	// Timeline holds what steps did, in time order: kill batches, say.
	Timeline []TimelineEvent `json:"timeline,omitempty"`
	// Cluster names the cluster this scenario ran on, in a run over several
	// (kdrill run --context a --context b); its Name ends with @CLUSTER.
	Cluster string `json:"cluster,omitempty"`
	// Instance are the matrix values this run of the scenario had (its
	// Name ends with them: scale[replicas=3]); empty without a matrix.
	Instance map[string]any `json:"instance,omitempty"`
	// Restored lists the changes to shared objects (nodes) undone when the
	// scenario ended.
	Restored []string `json:"restored,omitempty"`
	// Removed lists the objects steps created outside the run's namespace
	// (cluster-scoped ones, or in another namespace), deleted when the
	// scenario ended, as the namespace's deletion would not.
	Removed []string `json:"removed,omitempty"`
	// LeftBehind names what the run made and could not remove (its
	// namespace, objects outside it) within the cleanup timeout; a run
	// that leaves anything behind does not pass (kdrill leftovers lists
	// and removes it).
	LeftBehind []string `json:"leftBehind,omitempty"`
	// Attempt numbers this run of the scenario when it may be retried
	// (spec.retries, --retries): 1 for the first; 0 when it may not.
	Attempt int `json:"attempt,omitempty"`
	// Retried says this attempt failed and the scenario ran again.
	Retried bool `json:"retried,omitempty"`
	// Attempts are the earlier attempts of a retried scenario, first
	// first, each failed; the scenario's own record is its last attempt.
	Attempts []*ScenarioResult `json:"attempts,omitempty"`
	// Flaky says the scenario passed on a later attempt after failing:
	// passed, with Attempts holding the failures.
	Flaky bool `json:"flaky,omitempty"`
	// Score is a lab's grade.
	Score *Score `json:"score,omitempty"`
	// Tolerances are the scenario's, for comparisons with later runs.
	Tolerances map[string]Tolerance `json:"tolerances,omitempty"`
}

// NotApplicable counts the scenario's steps whose check this cluster could
// not make.
func (s *ScenarioResult) NotApplicable() int {
	n := 0
	for _, st := range s.Steps {
		if st.Outcome == NotApplicable {
			n++
		}
	}
	return n
}

// Score is a lab's grade for one namespace.
type Score struct {
	Earned int `json:"earned"`
	// Possible counts the points of the checks this cluster could make;
	// NotGraded those of the checks it could not (not applicable: traffic
	// on a cluster whose pods are simulated, say), which are neither
	// earned nor lost.
	Possible  int `json:"possible"`
	NotGraded int `json:"notGraded,omitempty"`
	// Ungraded counts the points of checks the cluster failed while they
	// ran (an infrastructure error: grade again); they are neither earned
	// nor lost, and Passed holds only when the points earned reach the
	// passing score without them.
	Ungraded int `json:"ungraded,omitempty"`
	// PassingScore is the lab's, scaled down in proportion when some
	// points could not be graded.
	PassingScore int          `json:"passingScore"`
	Passed       bool         `json:"passed"`
	Checks       []CheckScore `json:"checks"`
}

// CheckScore is one lab check's points.
type CheckScore struct {
	Step   string `json:"step"`
	Points int    `json:"points"`
	Earned int    `json:"earned"`
	Passed bool   `json:"passed"`
	// Hint is shown for a failed check.
	Hint string `json:"hint,omitempty"`
	// NotApplicable says why the check could not be made on this cluster;
	// its points are counted apart (Score.NotGraded).
	NotApplicable string `json:"notApplicable,omitempty"`
	// Ungraded says why the check could not be made this time: the
	// cluster failed while it ran (Score.Ungraded).
	Ungraded string `json:"ungraded,omitempty"`
	// Cause is the likeliest reason the check failed, from the step's
	// diagnostics: "pod web-1 is Pending: 0/5 nodes are available: ...".
	Cause string `json:"cause,omitempty"`
	// Found is what a failed check saw: the values its expression read
	// ("objects = <list of 0>"), or its error's first line.
	Found string `json:"found,omitempty"`
}

// StepResult is one step's run.
type StepResult struct {
	Index int    `json:"index"`
	Phase Phase  `json:"phase"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Line  int    `json:"line"`
	// Cluster is the scenario's named cluster the step ran on (spec.clusters);
	// empty for the run's cluster.
	Cluster         string    `json:"cluster,omitempty"`
	Outcome         Outcome   `json:"outcome"`
	StartedAt       time.Time `json:"startedAt,omitzero"`
	FinishedAt      time.Time `json:"finishedAt,omitzero"`
	DurationSeconds float64   `json:"durationSeconds"`
	Error           string    `json:"error,omitempty"`
	// FailedAsExpected is the error of a step that was expected to fail
	// (expectFailure) and did: it passed.
	FailedAsExpected string `json:"failedAsExpected,omitempty"`
	// Expression and Values show an assertion's condition and the values its
	// field paths had when it was last evaluated.
	Expression string         `json:"expression,omitempty"`
	Values     map[string]any `json:"values,omitempty"`
	// Output is what later expressions see as steps.NAME.
	Output any `json:"output,omitempty"`
	// Plan is what the step would do, from a dry run.
	Plan string `json:"plan,omitempty"`
	// Progress is how far a long step has come (kill batches done, replicas
	// available), as the live console shows it.
	Progress map[string]any `json:"progress,omitempty"`
	// Retries counts the requests the step sent again after a transient
	// error (the retry policy: backoff within the step's deadline).
	Retries int `json:"retries,omitempty"`
	// Events are the scenario namespace's latest events, collected when the
	// step failed, oldest first.
	Events []EventRecord `json:"events,omitempty"`
	// Diagnostics are what kdrill gathered when the step failed: likely
	// causes and where the raw files are.
	Diagnostics *Diagnostics `json:"diagnostics,omitempty"`
}

// EventRecord is a Kubernetes Event as reports show it.
type EventRecord struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // Normal or Warning
	Reason  string    `json:"reason"`
	Object  string    `json:"object"` // Kind/name
	Message string    `json:"message"`
	Count   int32     `json:"count,omitempty"`
}

// Worst is the most severe outcome of the scenarios: the run's outcome.
func (r *Results) Worst() Outcome {
	worst := Passed
	for _, s := range r.Scenarios {
		if Severity(s.Outcome) > Severity(worst) {
			worst = s.Outcome
		}
	}
	return worst
}

// Severity ranks outcomes for a scenario: the worst step's outcome is the
// scenario's.
func Severity(o Outcome) int {
	switch o {
	case Passed:
		return 0
	case Skipped, NotApplicable:
		return 1
	case Failed:
		return 2
	case Errored:
		return 3
	case Cancelled:
		return 4
	}
	return 5
}

// TimelineEvent is something a step did that other steps and the reports
// place in time, such as a batch of pod kills.
type TimelineEvent struct {
	Time time.Time `json:"time"`
	Step string    `json:"step"`
	// Kind says what happened: "kill" for deleted or evicted pods, "node"
	// for a node step's action.
	Kind string `json:"kind"`
	// Action is a node step's: cordon, drain, fail, taint, restore...
	Action string `json:"action,omitempty"`
	Count  int    `json:"count"`
	// Objects names the pods acted on, as namespace/name.
	Objects []string `json:"objects,omitempty"`
	// Nodes names the nodes a node step acted on.
	Nodes []string `json:"nodes,omitempty"`
	// End is when a node step's action finished (a drain evicts for a
	// while); zero for a kill, which is done at Time.
	End time.Time `json:"end,omitzero"`
}

// Outage is a time the control plane could not serve kdrill: from the
// first request that failed to connect or got a 5xx answer to the next
// that got an answer.
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"` // zero while it lasts
	// Seconds is End - Start.
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error"`
	// Steps are the steps whose requests waited for it (retried).
	Steps []string `json:"steps,omitempty"`
}

// Phase names the list a step is in: the steps, or the finally steps that
// always run after them.
type Phase string

// The two lists of a scenario.
const (
	PhaseSteps   Phase = "steps"
	PhaseFinally Phase = "finally"
)
