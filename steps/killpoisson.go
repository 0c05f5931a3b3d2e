package steps

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// KillPoisson deletes Running pods on a Poisson schedule, as the course
// notes' script does by hand. In rounds mode, every interval it draws a
// count from Poisson(mean) and deletes that many random eligible pods; in
// process mode, single pods die as a Poisson process at rate per second
// (exponential gaps). A fixed seed gives the same schedule and the same
// choice of victims among the same pods; an unset seed is derived from the
// scenario's recorded seed. Run it with background: true beside a monitor.
//
// Example:
//
//	steps:
//	- name: poisson kills
//	  background: true
//	  killPoisson:
//	    workload: {kind: Deployment, name: web}
//	    mode: rounds
//	    mean: 10
//	    interval: 5s
//	    rounds: 10
type KillPoisson struct {
	PodTarget
	// Mode is rounds (a Poisson-distributed batch every interval) or process
	// (single kills with exponential gaps). Default rounds.
	Mode string `json:"mode,omitempty" enum:"rounds,process"`
	// Mean pods killed per round, in rounds mode (default 10).
	Mean float64 `json:"mean,omitempty"`
	// Interval between rounds, in rounds mode (default 5s).
	Interval model.Duration `json:"interval,omitempty"`
	// Rate of kills per second, in process mode.
	Rate float64 `json:"rate,omitempty"`
	// Rounds to run in rounds mode (default 10 unless duration is set); in
	// process mode, the most kills to make.
	Rounds int `json:"rounds,omitempty"`
	// Duration to keep killing; required in process mode.
	Duration model.Duration `json:"duration,omitempty"`
	// Seed of the schedule and the victims' choice. Default: derived from the
	// scenario's seed, and recorded in the output.
	Seed *int64 `json:"seed,omitempty"`
	// MaxKillFraction caps one batch at this share of the eligible pods
	// (default 0.5).
	MaxKillFraction float64 `json:"maxKillFraction,omitempty"`
	// Recover waits, after the last round, until the workload is back at
	// its desired available count with none of the victims among its Ready
	// pods; steps.NAME.recovery is the time from the last kill. An assert
	// after the step then cannot pass on a status older than the last kill.
	// Needs workload. Default false.
	Recover bool `json:"recover,omitempty"`
	// RecoverTimeout bounds the wait (default 2m).
	RecoverTimeout model.Duration `json:"recoverTimeout,omitempty"`
}

// Default fills the seed's behaviour: rounds of Poisson(10) every 5s, ten
// rounds, at most half the pods at once.
func (k *KillPoisson) Default() {
	if k.Mode == "" {
		k.Mode = "rounds"
	}
	if k.Mode == "rounds" {
		if k.Mean == 0 {
			k.Mean = 10
		}
		if k.Interval.IsZero() {
			k.Interval = model.Duration{Duration: 5 * time.Second}
		}
		if k.Rounds == 0 && k.Duration.IsZero() {
			k.Rounds = 10
		}
	}
	if k.MaxKillFraction == 0 {
		k.MaxKillFraction = 0.5
	}
	if k.Recover && k.RecoverTimeout.Duration == 0 {
		k.RecoverTimeout.Duration = 2 * time.Minute
	}
}

// Validate checks the mode's parameters and the target.
func (k *KillPoisson) Validate() error {
	var errs scenario.FieldErrors
	k.validate(&errs)
	switch k.Mode {
	case "rounds":
		if k.Mean <= 0 || k.Mean > 10000 {
			errs.Add("mean", "must be > 0 and at most 10000")
		}
		if k.Rate != 0 {
			errs.Add("rate", "is for process mode; rounds mode uses mean and interval")
		}
	case "process":
		if k.Rate <= 0 {
			errs.Add("rate", "must be > 0 (kills per second)")
		}
		if k.Duration.IsZero() {
			errs.Add("duration", "required in process mode")
		}
	default:
		errs.Add("mode", "must be rounds or process, not %q", k.Mode)
	}
	if k.Rounds < 0 {
		errs.Add("rounds", "must be > 0")
	}
	if k.MaxKillFraction <= 0 || k.MaxKillFraction > 1 {
		errs.Add("maxKillFraction", "must be > 0 and at most 1")
	}
	validateRecover(&errs, k.Recover, k.Workload != nil, k.RecoverTimeout)
	return errs.Err()
}

// plannedKill is one entry of the schedule: when, and how many.
type plannedKill struct {
	at    time.Duration
	count int
}

// Schedule returns the kills the seed gives, as offsets from the start. It
// depends only on the spec and the seed.
func (k *KillPoisson) schedule(seed int64) []plannedKill {
	rng := rand.New(rand.NewPCG(seedBits(seed), 0x5eed))
	var plan []plannedKill
	limit := k.Duration.Duration
	switch k.Mode {
	case "rounds":
		for i := 0; ; i++ {
			at := time.Duration(i) * k.Interval.Duration
			if (k.Rounds > 0 && i >= k.Rounds) || (limit > 0 && at >= limit) {
				return plan
			}
			plan = append(plan, plannedKill{at: at, count: poisson(rng, k.Mean)})
		}
	default: // process
		var t time.Duration
		for k.Rounds == 0 || len(plan) < k.Rounds {
			t += time.Duration(rng.ExpFloat64() / k.Rate * float64(time.Second))
			if t >= limit {
				return plan
			}
			plan = append(plan, plannedKill{at: t, count: 1})
		}
		return plan
	}
}

// poisson draws from Poisson(mean) by Knuth's method, splitting large means
// so exp(-mean) does not underflow.
func poisson(rng *rand.Rand, mean float64) int {
	total := 0
	for mean > 0 {
		m := math.Min(mean, 500)
		mean -= m
		l, p, n := math.Exp(-m), 1.0, -1
		for p > l {
			p *= rng.Float64()
			n++
		}
		total += n
	}
	return total
}

// maxDeletesInFlight bounds the concurrent deletions of a killer that has
// fallen behind a slow API server.
const maxDeletesInFlight = 32

// Run kills on schedule until the schedule ends or the step is stopped.
// Victims are chosen on time from a watch-fed cache; their deletions are
// sent without waiting for earlier ones to return, so a slow API server
// delays no kill behind another.
func (k *KillPoisson) Run(ctx context.Context, env *step.Env) (any, error) {
	seed := k.seed(env)
	out := &model.KillPoissonOutput{Seed: seed, Mode: k.Mode, Rounds: []model.KillRound{}}
	target, err := k.resolve(ctx, env)
	if err != nil {
		return out, err
	}
	pods, err := watchPods(ctx, env, target)
	if err != nil {
		return out, err
	}
	defer pods.stop()

	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		failure  error
		inFlight = make(chan struct{}, maxDeletesInFlight)
		claimed  = map[string]bool{}
	)
	start := env.Clock.Now()
	finish := func() (any, error) {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		everEligible := false
		for _, r := range out.Rounds {
			out.Total += r.Killed
			everEligible = everEligible || r.Eligible > 0
		}
		if failure == nil && len(out.Rounds) > 0 && !everEligible {
			// No round found a pod to kill: the schedule ran against nothing.
			failure = target.nothingEligible(context.WithoutCancel(ctx), env)
		}
		if failure == nil && k.Recover && ctx.Err() == nil {
			var victims []string
			last := start
			for _, r := range out.Rounds {
				victims = append(victims, r.Victims...)
				if r.Killed > 0 {
					last = r.Time
				}
			}
			out.Recovery, out.Recovered, failure = waitRecovered(ctx, env, k.recoverRef(env), k.RecoverTimeout.Duration, pods, victims, last)
		}
		return out, failure
	}
	victims := rand.New(rand.NewPCG(seedBits(seed), 0xdead))
	plan := k.schedule(seed)
	for _, planned := range plan {
		if wait := planned.at - env.Clock.Since(start); wait > 0 {
			t := env.Clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				_, _ = finish()
				return out, ctx.Err()
			case <-t.C():
			}
		}
		mu.Lock()
		if failure != nil {
			mu.Unlock()
			break
		}
		current := pods.list()
		// A claimed pod is one an earlier kill is deleting; forget it once the
		// cache shows it terminating or gone.
		for name := range claimed {
			if p, ok := pods.get(name); !ok || p.DeletionTimestamp != nil {
				delete(claimed, name)
			}
		}
		// One pass picks the drawn count; the cap then keeps the first of them
		// (the victims come in score order, so that is the same choice).
		chosen, elig := chooseVictims(current, planned.count, victims.Uint64(), claimed)
		n := min(planned.count, int(math.Floor(k.MaxKillFraction*float64(elig))))
		chosen = chosen[:min(n, len(chosen))]
		for _, name := range chosen {
			claimed[name] = true
		}
		uids := uidsOf(current, chosen)
		now := env.Clock.Now()
		scheduled := start.Add(planned.at)
		out.Rounds = append(out.Rounds, model.KillRound{
			Scheduled: scheduled, Time: now, Late: model.Duration{Duration: now.Sub(scheduled)},
			Drawn: planned.count, Eligible: elig,
		})
		index := len(out.Rounds) - 1
		mu.Unlock()
		if len(chosen) == 0 {
			continue
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			_, _ = finish()
			return out, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inFlight }()
			deleted, blocked, err := k.deletePods(ctx, env, target.namespace, chosen, uids, now)
			mu.Lock()
			defer mu.Unlock()
			out.Rounds[index].Victims = deleted
			out.Rounds[index].Killed = len(deleted)
			out.Rounds[index].BlockedByPDB = blocked
			out.BlockedByPDB += blocked
			killed := 0
			for _, r := range out.Rounds {
				killed += r.Killed
			}
			env.Progress(map[string]any{"batches": len(out.Rounds), "of": len(plan), "killed": killed}, len(out.Rounds) == len(plan))
			if err != nil && failure == nil {
				failure = err
			}
		}()
	}
	return finish()
}

// podCache is a watch-fed cache of a target's pods.
type podCache struct {
	namespace string
	informer  *informer
	stop      func()
}

// watchPods keeps a watch-fed cache of the target's pods, so each round
// sees the current pods without listing them again.
func watchPods(ctx context.Context, env *step.Env, target *resolvedPods) (*podCache, error) {
	informer, release := sharedPods(env.Cluster, target.namespace, target.selector.String())
	select {
	case <-informer.HasSyncedChecker().Done():
	case <-ctx.Done():
		release()
		if err := informer.lastError(); err != nil {
			return nil, &kube.InfraError{Err: fmt.Errorf("the API server was unreachable: %w", err)}
		}
		return nil, ctx.Err()
	}
	return &podCache{namespace: target.namespace, informer: informer, stop: release}, nil
}

// list returns the pods now.
func (c *podCache) list() []*podState {
	items := c.informer.GetStore().List()
	out := make([]*podState, 0, len(items))
	for _, it := range items {
		if p, ok := it.(*podState); ok {
			out = append(out, p)
		}
	}
	return out
}

// get returns one pod by name.
func (c *podCache) get(name string) (*podState, bool) {
	obj, ok, _ := c.informer.GetStore().GetByKey(c.namespace + "/" + name)
	if !ok {
		return nil, false
	}
	p, ok := obj.(*podState)
	return p, ok
}

// seed is the step's own seed, or one derived from the scenario's recorded
// seed and the step's position.
func (k *KillPoisson) seed(env *step.Env) int64 {
	if k.Seed != nil {
		return *k.Seed
	}
	return env.Seed ^ int64(env.Step.Index+1)*0x9e3779b97f4a7c
}

// Plan gives the kill schedule the seed draws.
func (k *KillPoisson) Plan(_ context.Context, env *step.Env) (string, error) {
	seed := k.seed(env)
	plan := k.schedule(seed)
	total := 0
	var parts []string
	for i, p := range plan {
		total += p.count
		if i < 12 {
			parts = append(parts, fmt.Sprintf("%s: %d", p.at, p.count))
		}
	}
	if len(plan) > 12 {
		parts = append(parts, fmt.Sprintf("… %d more", len(plan)-12))
	}
	return fmt.Sprintf("%s mode, seed %d: %d kills in %d batches (at most %.0f%% of the eligible pods a batch); schedule %s",
		k.Mode, seed, total, len(plan), k.MaxKillFraction*100, strings.Join(parts, ", ")), nil
}

// AbsentOutputs says that without recover the kills do not wait, and have no
// recovery to report.
func (k *KillPoisson) AbsentOutputs() map[string]string {
	if k.Recover {
		return nil
	}
	return map[string]string{"recovery": "the kills do not wait for their workload to recover; set recover: true", "recovered": "the kills do not wait for their workload to recover; set recover: true"}
}
