//go:generate go run ../internal/gendocs

// Package scenario owns kdrill's scenario model and its loading: scenario
// and steps files read within bounds, decoded strictly, defaulted,
// validated and checked (expressions compiled in package expression's
// scopes), includes flattened, matrices expanded, the step kind registry,
// and the safety policy a scenario is held to before anything runs. It
// needs no cluster; running is package runner's.
package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
)

// APIVersion and Kind form the envelope every scenario file starts with.
const (
	APIVersion = model.APIVersion
	Kind       = "Scenario"
)

// Built-in timeouts, used when neither the step nor the scenario sets one.
const (
	DefaultScenarioTimeout = 30 * time.Minute
	DefaultStepTimeout     = 2 * time.Minute
)

// Scenario is one loaded and validated scenario file.
type Scenario struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`

	// File is the path the scenario was loaded from.
	File string `json:"-"`
	// Digest is the SHA-256 of the scenario's file and the files it
	// includes, in the order read: two runs with the same digest and vars
	// ran the same scenario.
	Digest string `json:"-"`
	// Dir is the directory that relative manifest paths resolve against.
	Dir string `json:"-"`
	// Instance is a matrix's combination this scenario runs with,
	// "replicas=3,strategy=Recreate", and InstanceVars the same as values;
	// empty for a scenario without a matrix.
	Instance     string         `json:"-"`
	InstanceVars map[string]any `json:"-"`
	// TargetName names the cluster this copy of the scenario runs on in a
	// run over several (runner.Options.Over), in its results; empty: the
	// run's cluster.
	TargetName string `json:"-"`
	// Root is the directory paths may not leave: the scenario file's, also
	// for the steps an included file brings, whose Dir is that file's.
	// Empty: Dir.
	Root string `json:"-"`
	// AllowOutsidePaths lets manifest paths leave Dir (LoadOptions).
	AllowOutsidePaths bool `json:"-"`

	// compiled counts the expressions and templates its load compiled;
	// matrixLine is where spec.matrix is written.
	compiled   int64
	matrixLine int
	// parsed is the scenario's document and the steps files it includes,
	// by path, as parsed once: a matrix's instances are built from them.
	parsed *parsedFiles
}

// Metadata names and describes a scenario.
type Metadata struct {
	// Name identifies the scenario in reports; it also prefixes the namespace
	// created for a run.
	Name string `json:"name"`
	// Description says in a sentence what the scenario checks.
	Description string `json:"description,omitempty"`
	// Labels let a run select scenarios.
	Labels map[string]string `json:"labels,omitempty"`
}

// MaxRetries bounds spec.retries and --retries.
const MaxRetries = 10

// Spec is the body of a scenario.
type Spec struct {
	// Namespace the scenario works in. Empty: a fresh namespace is created for
	// the run and deleted at the end. Set: used as it is and never deleted.
	Namespace string `json:"namespace,omitempty"`
	// Vars are values the expressions and manifests can use as vars.NAME;
	// --set NAME=VALUE overrides them.
	Vars map[string]any `json:"vars,omitempty"`
	// Timeout bounds the whole scenario (default 30m).
	Timeout model.Duration `json:"timeout,omitempty"`
	// StepTimeout is the timeout of a step that sets none (default 2m).
	StepTimeout model.Duration `json:"stepTimeout,omitempty"`
	// Lab makes the scenario a graded lab: it never writes to the cluster
	// (but for steps marked setup), every check carries points and a hint,
	// a failed check does not stop the others, and the run ends with a
	// score.
	Lab *Lab `json:"lab,omitempty"`
	// Tolerances say how much worse than a baseline run a metric may get
	// before kdrill compare (or run --baseline) calls it a regression, by
	// metric name, or a pattern in which * stands for any text:
	// "steps[recover].recovery.p95", "steps[*].duration".
	// They replace the built-in defaults and the command line's.
	Tolerances map[string]model.Tolerance `json:"tolerances,omitempty"`
	// Matrix runs the scenario once per combination of these values of its
	// vars, each in its own namespace and named name[var=value,...]:
	// {replicas: [3, 300], strategy: [RollingUpdate, Recreate]}. Each key
	// is a var declared in vars; --set pins one.
	Matrix map[string][]any `json:"matrix,omitempty"`
	// Clusters name the clusters a scenario works on besides the run's,
	// by kubeconfig context: {hub: {context: kind-hub}, spoke: {context:
	// kind-spoke}}. A step with cluster: spoke runs there; the scenario's
	// namespace is made on each cluster its steps use, and removed after.
	Clusters map[string]ClusterRef `json:"clusters,omitempty"`
	// Retries re-run the scenario when it fails, each time in a fresh
	// namespace, up to this many more times (0 to 10; it overrides
	// --retries). A scenario that passes on a later attempt is flaky:
	// passed, and said so in every report. A passed scenario, an
	// infrastructure error and an interrupt are never retried. It needs
	// namespaces kdrill makes: it cannot be used with spec.namespace.
	Retries *int `json:"retries,omitempty"`
	// Lock names something the scenario needs to itself (nodes, a
	// cluster-scoped object, a shared namespace): under --parallel,
	// scenarios with the same lock never run at the same time.
	Lock string `json:"lock,omitempty"`
	// Contexts narrow where this scenario may delete or kill: kubeconfig
	// context names (or patterns, * for any text). Disrupting needs a local
	// cluster's context or one --allow-context names, and, when Contexts is
	// set, one it lists too: a file can narrow what the command line
	// allows, never widen it.
	Contexts []string `json:"contexts,omitempty"`
	// Steps run in order; the first failure stops them.
	Steps []*Step `json:"-"`
	// Finally steps always run after Steps, also after a failure or an
	// interrupt.
	Finally []*Step `json:"-"`
}

// ClusterRef names a cluster by its kubeconfig context (in the kubeconfig
// the run uses).
type ClusterRef struct {
	// Context is the kubeconfig context.
	Context string `json:"context"`
	// Line is where the context is written, for messages.
	Line int `json:"-"`
}

// Lab configures grading.
type Lab struct {
	// PassingScore is the points needed to pass; default all of them.
	PassingScore *int `json:"passingScore,omitempty"`
	// Solution are manifest files, relative to the lab's file, that solve
	// the lab: kdrill grade --self-test applies them in order (waiting
	// until what they make is ready) to a fresh namespace and expects full
	// marks, and expects emptyScore of a namespace with nothing in it.
	Solution []string `json:"solution,omitempty"`
	// EmptyScore is the points a namespace with nothing in it earns, as
	// the lab means it to (default 0): --self-test checks it.
	EmptyScore *int `json:"emptyScore,omitempty"`
}

// Step is one entry of a scenario's steps or finally list: a name, common
// settings and exactly one action.
type Step struct {
	// Name identifies the step in output and as steps.NAME in expressions.
	Name string `json:"name"`
	// Timeout bounds the step; it overrides the scenario's stepTimeout.
	Timeout model.Duration `json:"timeout,omitempty"`
	// ContinueOnError records a failure of this step without stopping the
	// scenario's later steps.
	ContinueOnError bool `json:"continueOnError,omitempty"`
	// ExpectFailure says the step must fail: it passes when its action
	// fails (with message in its error, when given: expectFailure:
	// {message: TEXT}) and fails when the action succeeds. true expects
	// any failure. An outage or an interrupt is not the failure expected.
	ExpectFailure *ExpectFailure `json:"expectFailure,omitempty"`
	// Background runs the step beside the following ones; a wait or stop
	// step names it to join it, and the end of the steps joins it anyway
	// (stopping it if it runs until stopped, like a monitor).
	Background bool `json:"background,omitempty"`
	// Points a lab check is worth.
	Points int `json:"points,omitempty"`
	// Hint tells a student what to look at when the check fails.
	Hint string `json:"hint,omitempty"`
	// Setup marks a lab step that prepares rather than checks; only setup
	// steps may write to the cluster in a lab.
	Setup bool `json:"setup,omitempty"`
	// Cluster runs the step on one of the scenario's spec.clusters instead
	// of the run's cluster.
	Cluster string `json:"cluster,omitempty"`
	// AllowUnsafe lets this step write into a system namespace
	// (kube-system, kube-public, kube-node-lease) and bind a role to every
	// user (system:unauthenticated, system:anonymous,
	// system:authenticated), which the safety policy refuses otherwise.
	// Default false.
	AllowUnsafe bool `json:"allowUnsafe,omitempty"`

	// Kind is the action's key in the registry, such as "apply".
	Kind string `json:"-"`
	// Info is the kind's description from the registry.
	Info KindInfo `json:"-"`
	// Action is the decoded action spec.
	Action Action `json:"-"`
	// Index is the step's position in its list, Phase the list.
	Index int         `json:"-"`
	Phase model.Phase `json:"-"`
	// Line is where the step starts in the scenario file, or in File.
	Line int `json:"-"`
	// File is the steps file an included step is written in; Via the
	// include steps that brought it in, outermost first.
	File string     `json:"-"`
	Via  []Position `json:"-"`
	// Prefix is an included step's "<include>/" (its Name starts with it):
	// its expressions' steps.NAME and the steps it names are its file's.
	Prefix string `json:"-"`
	// Vars are an included step's vars, its file's with the include's
	// values; nil for the scenario's own steps.
	Vars map[string]any `json:"-"`

	// template, for a step whose fields hold ${{ }}, makes the action again
	// when the step starts.
	template *stepTemplate
	// node is the step as written, for the lines of its fields.
	node *tree
}

// describeJSONText names the kind of a JSON value, for messages.
func describeJSONText(t []byte) string {
	switch {
	case len(t) == 0 || string(t) == "null":
		return "empty"
	case t[0] == '[':
		return "a list"
	case t[0] == '"':
		return "text " + string(t)
	}
	return string(t)
}

// Label names the step the way errors and output do: steps[3] "kill web".
func (s *Step) Label() string {
	return fmt.Sprintf("%s[%d] %q", s.Phase, s.Index, s.Name)
}

// Action is one step kind's spec as the scenario holds it. Its fields are
// decoded strictly from the step's YAML; Default fills unset fields and
// Validate checks them without a cluster. What carries it out is the
// engine's (step.Action adds Run), so loading a scenario needs no cluster
// and knows nothing of the run.
type Action interface {
	Default()
	// Validate returns nil or a FieldErrors naming the fields that are wrong.
	Validate() error
}

// DisruptingStep returns the first step whose effect is Disrupts, or nil.
func (s *Scenario) DisruptingStep() *Step {
	for _, st := range s.AllSteps() {
		if st.Effect() == Disrupts {
			return st
		}
	}
	return nil
}

// AllSteps returns the steps, then the finally steps.
func (s *Scenario) AllSteps() []*Step {
	return slices.Concat(s.Spec.Steps, s.Spec.Finally)
}

// Preparer is implemented by actions that read files or compile templates
// when the scenario loads, so those errors surface before anything runs.
type Preparer interface {
	Prepare(in *Loading) error
}

// ExprScope is implemented by actions whose expressions can use names beyond
// the common environment (such as object in assert).
type ExprScope interface {
	ExprNames() map[string]any
}

// Effecter is implemented by actions whose effect depends on their spec
// (a command marked readOnly); it overrides the kind's declared Effect.
type Effecter interface {
	Effect() Effect
}

// Effect is what the step does to the cluster: its action's own say, else
// its kind's declaration (Disrupts when the kind declares none).
func (s *Step) Effect() Effect {
	if e, ok := s.Action.(Effecter); ok {
		return e.Effect()
	}
	return s.Info.Effect
}

// StepReferrer is implemented by actions that name other steps (wait,
// stop, a rollback), so loading can check that those steps exist, come
// earlier, and are what the reference needs.
type StepReferrer interface {
	StepRefs() []StepRef
}

// StepRef is one step an action names.
type StepRef struct {
	// Field names the reference in errors: "steps", "rollback".
	Field string
	Name  string
	// Kind, when set, is the kind the named step must be.
	Kind string
	// Background requires the named step to run in the background.
	Background bool
}

// DocComment returns the doc comment of a type ("Step") or a field
// ("Step.Timeout") of this package, for the schema and the reference docs.
func DocComment(key string) string { return docComments[key] }

// TypeDoc returns the doc comment of a type of this package or of model,
// or of one of its fields when field is not empty.
func TypeDoc(t reflect.Type, field string) string {
	key := t.Name()
	if field != "" {
		key += "." + field
	}
	if strings.HasSuffix(t.PkgPath(), "/model") {
		return model.DocComment(key)
	}
	return docComments[key]
}

// DefaultValue returns, for the reference docs and the schema, the plain
// value of a field an action's Default filled in: a duration as text, an
// expression as its source. Structs, maps and lists are not shown.
func DefaultValue(v reflect.Value) (any, bool) {
	if !v.IsValid() || v.IsZero() {
		return nil, false
	}
	switch x := v.Interface().(type) {
	case model.Duration:
		return x.String(), true
	case expression.Expr:
		return x.Source, true
	}
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Interface:
		return nil, false
	}
	return v.Interface(), true
}
