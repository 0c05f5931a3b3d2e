// Package step is the contract between the engine and the step kinds:
// what a kind implements (Action, and optionally Planner and Subjecter) and
// what it is given while it runs (Env, made of narrow capabilities). The
// kinds import this package and not the runner, which implements it.
package step

import (
	"context"
	"errors"
	"fmt"

	"github.com/kdrill/kdrill/scenario"
)

// Labels kdrill puts on what it creates.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelScenario  = "kdrill.dev/scenario"
)

// Action is a step kind's spec that the engine can carry out: a
// scenario.Action (decoded, defaulted and validated at load) with Run.
type Action interface {
	scenario.Action
	// Run performs the action and returns its output, which later expressions
	// see as steps.NAME.
	Run(ctx context.Context, env *Env) (any, error)
}

// Planner is implemented by actions that write: in a dry run (kdrill run
// --dry-run), Plan says what the step would do, sending its writes as
// server-side dry runs, and changes nothing. Steps that only read or wait
// are described, not run.
type Planner interface {
	Plan(ctx context.Context, env *Env) (string, error)
}

// NewAction makes an empty *T, for a registry entry's New: the compiler
// checks that *T is an Action the engine can run, which scenario.KindInfo's
// New (loading needs only Default and Validate) cannot.
func NewAction[T any, P interface {
	*T
	Action
}]() scenario.Action {
	return P(new(T))
}

// Subject names an object a step is about, for the diagnostics of its
// failure.
type Subject struct {
	APIVersion, Kind, Name, Namespace string
}

// Subjecter is implemented by actions that act on or watch named objects
// (their resource, workload, Service).
type Subjecter interface {
	Subjects() []Subject
}

// NotApplicableError is what a step returns when this cluster cannot make
// its check: traffic between pods that are simulated, a denial where no
// NetworkPolicy is enforced. The step's outcome is not applicable, with
// Reason as its error: neither a pass nor a failure, and the run goes on.
type NotApplicableError struct{ Reason string }

func (e *NotApplicableError) Error() string { return "not applicable: " + e.Reason }

// NotApplicable says why a check cannot be made here.
func NotApplicable(format string, args ...any) error {
	return &NotApplicableError{Reason: fmt.Sprintf(format, args...)}
}

// IsNotApplicable says the error is a NotApplicableError.
func IsNotApplicable(err error) bool {
	var na *NotApplicableError
	return errors.As(err, &na)
}

// Undo undoes a change a step made to an object the scenario does not own.
// It must be idempotent: the scenario's end calls it even when a later step
// already put things back.
type Undo func(ctx context.Context) (string, error)
