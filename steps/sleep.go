package steps

import (
	"context"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Sleep waits for a while; an interrupt ends it at once.
//
// Example:
//
//	steps:
//	- name: let it settle
//	  sleep: {duration: 5s}
type Sleep struct {
	// Duration to wait.
	Duration model.Duration `json:"duration"`
}

// Default does nothing: the duration is required.
func (s *Sleep) Default() {}

// Validate checks that a duration is given.
func (s *Sleep) Validate() error {
	var errs scenario.FieldErrors
	if s.Duration.IsZero() {
		errs.Add("duration", "required, such as 5s")
	}
	return errs.Err()
}

// Run waits on the injected clock or until ctx ends.
func (s *Sleep) Run(ctx context.Context, env *step.Env) (any, error) {
	t := env.Clock.NewTimer(s.Duration.Duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C():
		return map[string]any{"slept": s.Duration.Duration.Round(time.Millisecond).String()}, nil
	}
}
