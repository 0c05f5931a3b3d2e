package steps

import (
	"context"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Stop ends background steps now, such as a monitor whose measurements
// later steps assert on, and waits until they have finished. A stopped step
// counts as passed, with the output it gathered until then.
//
// Example:
//
//	steps:
//	- name: watch web
//	  background: true
//	  monitor: {workloads: [{kind: Deployment, name: web}]}
//	- name: end monitoring
//	  stop: {steps: [watch web]}
type Stop struct {
	// Steps names the background steps to stop.
	Steps []string `json:"steps"`
}

// Default does nothing: the step names are required.
func (s *Stop) Default() {}

// Validate checks that steps are named.
func (s *Stop) Validate() error { return validateStepNames(s.Steps) }

// StepRefs names the background steps this step stops.
func (s *Stop) StepRefs() []scenario.StepRef { return backgroundRefs(s.Steps) }

// Run stops the steps and waits for them.
func (s *Stop) Run(ctx context.Context, env *step.Env) (any, error) {
	return nil, env.Stop(ctx, s.Steps)
}
