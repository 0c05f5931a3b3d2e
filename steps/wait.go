package steps

import (
	"context"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Wait waits until background steps finish, and fails if one of them
// failed. Steps still running at the end of the scenario's steps are waited
// for anyway; Wait places the join where the scenario needs it.
//
// Example:
//
//	steps:
//	- name: kill
//	  background: true
//	  kill: {selector: app=web, count: 1}
//	- name: kills done
//	  wait: {steps: [kill]}
type Wait struct {
	// Steps names the background steps to wait for.
	Steps []string `json:"steps"`
}

// Default does nothing: the step names are required.
func (w *Wait) Default() {}

// Validate checks that steps are named.
func (w *Wait) Validate() error { return validateStepNames(w.Steps) }

// StepRefs names the background steps this step joins.
func (w *Wait) StepRefs() []scenario.StepRef { return backgroundRefs(w.Steps) }

// Run joins the steps.
func (w *Wait) Run(ctx context.Context, env *step.Env) (any, error) {
	return nil, env.Join(ctx, w.Steps)
}

func validateStepNames(names []string) error {
	var errs scenario.FieldErrors
	if len(names) == 0 {
		errs.Add("steps", "name at least one background step")
	}
	return errs.Err()
}

// backgroundRefs names background steps that a wait or stop joins.
func backgroundRefs(names []string) []scenario.StepRef {
	refs := make([]scenario.StepRef, len(names))
	for i, n := range names {
		refs[i] = scenario.StepRef{Field: "steps", Name: n, Background: true}
	}
	return refs
}
