package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
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

// actionFor is the action to run: the loaded one, or, for a templated
// step, one made again with its templates evaluated in the step's env.
func actionFor(st *scenario.Step, env *Env) (Action, error) {
	a := st.Action
	if st.Templated() {
		var err error
		if a, err = st.Instantiate(env.ExprEnv(nil)); err != nil {
			return nil, err
		}
	}
	run, ok := a.(Action)
	if !ok {
		return nil, fmt.Errorf("a %s step cannot run: its kind has no Run", st.Kind)
	}
	return run, nil
}

// withStepPolicy tells the wire guard which step sends the context's
// requests and whether it lifted the policy.
func withStepPolicy(ctx context.Context, st *scenario.Step) context.Context {
	return kube.WithStepPolicy(ctx, st.Label(), st.AllowsUnsafe())
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

// isNotApplicable says the error is a NotApplicableError.
func isNotApplicable(err error) bool {
	var na *NotApplicableError
	return errors.As(err, &na)
}
