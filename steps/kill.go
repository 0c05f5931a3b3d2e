package steps

import (
	"context"
	"fmt"
	"math"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
)

// Kill deletes one batch of pods now: a count or a percentage of the
// Running pods a selector or workload picks, chosen at random with the
// scenario's seed. It refuses system namespaces and empty selectors unless
// allowUnsafe is set.
//
// Example:
//
//	steps:
//	- name: kill a third
//	  kill: {workload: {kind: Deployment, name: web}, percent: 33}
type Kill struct {
	PodTarget
	// Count of pods to delete.
	Count int `json:"count,omitempty"`
	// Percent of the eligible pods to delete, rounded down (at least one when
	// above zero).
	Percent float64 `json:"percent,omitempty"`
}

// Default does nothing: the count or percent is required.
func (k *Kill) Default() {}

// Validate checks the target and the amount.
func (k *Kill) Validate() error {
	var errs runner.FieldErrors
	k.validate(&errs)
	switch {
	case k.Count == 0 && k.Percent == 0:
		errs.Add("count", "give count or percent")
	case k.Count != 0 && k.Percent != 0:
		errs.Add("percent", "give count or percent, not both")
	case k.Count < 0:
		errs.Add("count", "must be > 0")
	case k.Percent < 0 || k.Percent > 100:
		errs.Add("percent", "must be between 0 and 100")
	}
	return errs.Err()
}

// Run deletes the batch.
func (k *Kill) Run(ctx context.Context, env *runner.Env) (any, error) {
	target, chosen, elig, err := k.victims(ctx, env)
	if err != nil {
		return nil, err
	}
	victims, err := deletePods(ctx, env, target.namespace, chosen, env.Clock.Now(), k.GracePeriodSeconds)
	env.Log.Info("killed pods", "count", len(victims), "eligible", elig)
	return &model.KillOutput{Eligible: elig, Killed: len(victims), Victims: victims}, err
}

// victims lists the target's pods and chooses, with the scenario's seed,
// the ones to delete; elig counts the pods that could have been chosen.
func (k *Kill) victims(ctx context.Context, env *runner.Env) (target *resolvedPods, chosen []string, elig int, err error) {
	if target, err = k.resolve(ctx, env); err != nil {
		return nil, nil, 0, err
	}
	pods, err := target.list(ctx, env)
	if err != nil {
		return nil, nil, 0, err
	}
	_, elig = chooseVictims(pods, 0, 0, nil)
	n := k.Count
	if k.Percent > 0 {
		n = max(1, int(math.Floor(k.Percent/100*float64(elig))))
	}
	chosen, _ = chooseVictims(pods, n, seedBits(env.Seed)^seedBits(int64(env.Step.Index+1)), nil)
	return target, chosen, elig, nil
}

// Plan names the victims the seed chooses among the pods running now.
func (k *Kill) Plan(ctx context.Context, env *runner.Env) (string, error) {
	target, chosen, elig, err := k.victims(ctx, env)
	if apierrors.IsNotFound(err) {
		return "kill: " + notYet("the workload"), nil
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("delete %d of %d eligible pods in %s (seed %d): %s", len(chosen), elig, target.namespace, env.Seed, strings.Join(chosen, ", ")), nil
}
