package steps

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Kill deletes one batch of pods now: a count or a percentage of the
// Running pods a selector or workload picks, chosen at random with the
// scenario's seed. It refuses system namespaces and empty selectors unless
// allowUnsafe is set.
//
// With recover: true the step then waits until the workload is back at its
// desired count of available pods, none of them a victim, and outputs the
// recovery time: an assert right after a kill that does not wait can pass
// before the controller has even seen the deletions.
//
// Example:
//
//	steps:
//	- name: kill a third
//	  kill: {workload: {kind: Deployment, name: web}, percent: 33}
//	- name: five pods die, and we wait until they are back
//	  kill: {workload: {kind: Deployment, name: web}, count: 5, recover: true}
type Kill struct {
	PodTarget
	// Count of pods to delete.
	Count int `json:"count,omitempty"`
	// Percent of the eligible pods to delete, rounded down (at least one when
	// above zero).
	Percent float64 `json:"percent,omitempty"`
	// Recover waits until the workload is back at its desired available
	// count; steps.NAME.recovery is the time that took. Needs workload.
	// Default false.
	Recover bool `json:"recover,omitempty"`
	// RecoverTimeout bounds the wait (default 2m); the step fails when the
	// workload has not recovered by then.
	RecoverTimeout model.Duration `json:"recoverTimeout,omitempty"`
}

// Default sets the recover timeout when the step waits.
func (k *Kill) Default() {
	if k.Recover && k.RecoverTimeout.Duration == 0 {
		k.RecoverTimeout.Duration = 2 * time.Minute
	}
}

// Validate checks the target and the amount.
func (k *Kill) Validate() error {
	var errs scenario.FieldErrors
	k.validate(&errs)
	if k.Count == 0 && k.Percent == 0 {
		errs.Add("count", "give count or percent")
	} else {
		validateAmount(&errs, k.Count, k.Percent)
	}
	validateRecover(&errs, k.Recover, k.Workload != nil, k.RecoverTimeout)
	return errs.Err()
}

// Run deletes the batch.
func (k *Kill) Run(ctx context.Context, env *step.Env) (any, error) {
	target, chosen, uids, elig, err := k.victims(ctx, env)
	if err != nil {
		return nil, err
	}
	if elig == 0 {
		return nil, target.nothingEligible(ctx, env)
	}
	var pods *podCache
	if k.Recover {
		// Watching from before the deletions, so none is missed.
		if pods, err = watchPods(ctx, env, target); err != nil {
			return nil, err
		}
		defer pods.stop()
	}
	at := env.Clock.Now()
	victims, blocked, err := k.deletePods(ctx, env, target.namespace, chosen, uids, at)
	env.Log.Info("killed pods", "count", len(victims), "eligible", elig, "blockedByPDB", blocked)
	out := &model.KillOutput{Eligible: elig, Killed: len(victims), Victims: victims, Evicted: k.Evict, BlockedByPDB: blocked}
	if err != nil || !k.Recover {
		return out, err
	}
	out.Recovery, out.Recovered, err = waitRecovered(ctx, env, k.recoverRef(env), k.RecoverTimeout.Duration, pods, victims, at)
	return out, err
}

// victims lists the target's pods and chooses, with the scenario's seed,
// the ones to delete; elig counts the pods that could have been chosen.
func (k *Kill) victims(ctx context.Context, env *step.Env) (target *resolvedPods, chosen []string, uids map[string]types.UID, elig int, err error) {
	if target, err = k.resolve(ctx, env); err != nil {
		return nil, nil, nil, 0, err
	}
	listed, err := target.list(ctx, env)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	pods := statesOf(listed)
	_, elig = chooseVictims(pods, 0, 0, nil)
	n := k.Count
	if k.Percent > 0 {
		n = max(1, int(math.Floor(k.Percent/100*float64(elig))))
	}
	chosen, _ = chooseVictims(pods, n, seedBits(env.Seed)^seedBits(int64(env.Step.Index+1)), nil)
	return target, chosen, uidsOf(pods, chosen), elig, nil
}

// Plan names the victims the seed chooses among the pods running now.
func (k *Kill) Plan(ctx context.Context, env *step.Env) (string, error) {
	target, chosen, _, elig, err := k.victims(ctx, env)
	if apierrors.IsNotFound(err) {
		return "kill: " + notYet("the workload"), nil
	} else if err != nil {
		return "", err
	}
	if elig == 0 {
		return "kill: " + notYet("a Running pod matching -l "+target.selector.String()), nil
	}
	return fmt.Sprintf("delete %d of %d eligible pods in %s (seed %d): %s", len(chosen), elig, target.namespace, env.Seed, strings.Join(chosen, ", ")), nil
}

// AbsentOutputs says that without recover the kill does not wait, and has no
// recovery to report.
func (k *Kill) AbsentOutputs() map[string]string {
	if k.Recover {
		return nil
	}
	return map[string]string{"recovery": "the kill does not wait for its workload to recover; set recover: true (with a workload)", "recovered": "the kill does not wait for its workload to recover; set recover: true (with a workload)"}
}
