package runner

import (
	"context"
	"fmt"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// actionFor is the action to run: the loaded one, or, for a templated
// step, one made again with its templates evaluated in the step's env.
func actionFor(st *scenario.Step, env *step.Env) (step.Action, error) {
	a := st.Action
	if st.Templated() {
		var err error
		if a, err = st.Instantiate(env.ExprEnv(nil)); err != nil {
			return nil, err
		}
	}
	run, ok := a.(step.Action)
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
