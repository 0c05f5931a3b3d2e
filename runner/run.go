// Package runner owns the run: it takes loaded scenarios (package
// scenario), runs their steps on a cluster (scheduling, namespaces,
// background and finally steps, dry-run plans, undo, lab scores) and
// records what happened as a model.Results, telling observers as it goes.
package runner

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
)

// DefaultCleanupTimeout bounds finally steps and namespace deletion after an
// interrupt.
const DefaultCleanupTimeout = 30 * time.Second

// Options configure a run.
type Options struct {
	Cluster *kube.Cluster
	// Namespace, when set, replaces every scenario's namespace; it is used as
	// it is and never deleted.
	Namespace string
	// Timeout, when set, replaces every scenario's timeout.
	Timeout time.Duration
	// CleanupTimeout bounds finally steps and namespace deletion after an
	// interrupt (default 30s).
	CleanupTimeout time.Duration
	// ProbeImage is the image of kdrill's own probe pods (whether the
	// cluster enforces NetworkPolicy); empty: the probing pod's own image.
	ProbeImage string
	// SelfNode is the node kdrill itself runs on (in a pod: the downward
	// API's spec.nodeName as $KDRILL_NODE_NAME); node steps never take it.
	SelfNode string
	// Seed seeds the random source; 0 draws one. The seed used is recorded.
	Seed  int64
	Clock clock.WithTicker
	// FailFast stops the run after the first scenario that does not pass;
	// the rest are recorded as skipped.
	FailFast bool
	// Parallel runs up to this many scenarios at once (default 1), each in
	// its own namespace. Results keep the scenarios' order.
	Parallel int
	// Retries re-run a failed scenario up to this many more times, each in
	// a fresh namespace, unless the scenario sets spec.retries (see
	// scenario.Spec.Retries). Scenarios in a given namespace are not
	// retried.
	Retries int
	// PauseOnFailure, when set, is called after a scenario's steps fail and
	// before its finally steps and cleanup, with the namespace as the
	// failure left it; it returns when the run may go on (or ctx ends).
	PauseOnFailure func(ctx context.Context, sr *model.ScenarioResult)
	// KeepNamespace leaves a namespace the run created for inspection:
	// KeepNever (the default), KeepOnFailure or KeepAlways.
	KeepNamespace KeepPolicy
	// AllowContexts are kubeconfig contexts (patterns) where disrupting
	// scenarios may run, besides local clusters' (see CheckPolicy).
	AllowContexts []string
	KdrillVersion string
	// Clusters are the clusters scenarios name in spec.clusters, by
	// kubeconfig context; a scenario naming one that is not here fails.
	Clusters map[string]*kube.Cluster
	// Over runs every scenario once on each of these clusters, in a
	// namespace of its own there, its results named name@CONTEXT (kdrill
	// run --context a --context b); fewer than two: on Cluster only.
	Over []*kube.Cluster
	// Observers are told of every change to the results, in order.
	Observers []model.Observer
}

// KeepPolicy says when a run leaves the namespace it created.
type KeepPolicy string

// The keep policies of --keep-namespace.
const (
	KeepNever     KeepPolicy = "never"
	KeepOnFailure KeepPolicy = "on-failure"
	KeepAlways    KeepPolicy = "always"
)

// Run runs the scenarios, one after another or Parallel at a time, and
// returns what happened, once every observer has seen it. It stops early when ctx is cancelled, after running
// each started scenario's finally steps and cleanup.
func Run(ctx context.Context, scenarios []*scenario.Scenario, opts Options) *model.Results {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.CleanupTimeout == 0 {
		opts.CleanupTimeout = DefaultCleanupTimeout
	}
	res := &model.Results{
		APIVersion:    model.APIVersion,
		Kind:          model.ResultsKind,
		FormatVersion: model.ResultsVersion,
		KdrillVersion: opts.KdrillVersion,
		StartedAt:     opts.Clock.Now(),
		Outcome:       model.Running,
		Cluster:       model.ClusterInfo{Server: opts.Cluster.Server, Context: opts.Cluster.Context},
	}
	var on map[*scenario.Scenario]*kube.Cluster
	scenarios, on = onClusters(scenarios, opts.Over)
	r := &run{opts: opts, results: res, j: newJournal(res, opts.Observers), locks: locksOf(scenarios), on: on}
	// The clusters the scenarios run on: the run's, or each scenario's own
	// in a run over several.
	byCluster := map[*kube.Cluster][]*scenario.Scenario{}
	for _, s := range scenarios {
		c := r.cluster(s)
		if _, ok := byCluster[c]; !ok {
			r.targets = append(r.targets, c)
		}
		byCluster[c] = append(byCluster[c], s)
	}
	for _, ctxName := range slices.Sorted(maps.Keys(opts.Clusters)) {
		if c := opts.Clusters[ctxName]; !slices.Contains(r.targets, c) {
			r.targets = append(r.targets, c)
		}
	}
	// The safety policy holds for every caller and every cluster; nothing
	// is sent when it refuses.
	var err error
	var v string
	for _, c := range r.targets {
		if err = scenario.CheckPolicy(byCluster[c], scenario.PolicyOptions{
			Namespace: opts.Namespace, Context: c.Context, AllowContexts: opts.AllowContexts, DryRun: c.DryRun,
		}); err != nil {
			break
		}
	}
	for _, c := range r.targets {
		if err != nil {
			break
		}
		var cv string
		if cv, err = c.Ping(ctx); c == opts.Cluster || v == "" {
			v = cv
		}
	}
	if err != nil {
		res.Outcome = model.Errored
		for _, s := range scenarios {
			sr := r.newScenarioResult(s)
			sr.Outcome, sr.Error = model.Errored, err.Error()
			res.Scenarios = append(res.Scenarios, sr)
		}
		res.FinishedAt = opts.Clock.Now()
		r.j.publish(model.RunFinished, nil, nil)
		return r.j.close()
	}
	res.Cluster.Version = v
	var (
		stop  atomic.Bool
		wg    sync.WaitGroup
		slots = make(chan struct{}, max(1, opts.Parallel))
		order = make([]*model.ScenarioResult, len(scenarios))
	)
	for i, s := range scenarios {
		acquired := false
		select {
		case slots <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil || stop.Load() {
			sr := r.newScenarioResult(s)
			sr.Outcome, sr.Error = model.Cancelled, "not run: the run was interrupted"
			if stop.Load() {
				sr.Outcome, sr.Error = model.Skipped, "not run: --fail-fast after a scenario that did not pass"
			}
			order[i] = sr
			r.j.update(func() { res.Scenarios = append(res.Scenarios, sr) })
			if acquired {
				<-slots
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			var sr *model.ScenarioResult
			if r.cluster(s).DryRun {
				sr = r.plan(ctx, s)
			} else {
				sr = r.runAttempts(ctx, s)
			}
			order[i] = sr
			if opts.FailFast && sr.Outcome != model.Passed {
				stop.Store(true)
			}
		}()
	}
	wg.Wait()
	r.j.update(func() {
		// Scenarios that ran side by side were recorded as they started.
		res.Scenarios = order
		res.Outages = r.outages()
		res.FinishedAt = opts.Clock.Now()
		res.Outcome = res.Worst()
	})
	r.j.publish(model.RunFinished, nil, nil)
	return r.j.close()
}

type run struct {
	opts Options
	// targets are the clusters the scenarios run on.
	targets []*kube.Cluster
	// on maps each copy of a scenario in a run over several clusters to
	// its cluster (Options.Over).
	on map[*scenario.Scenario]*kube.Cluster
	// results are the run's records, changed under j's lock; j tells the
	// observers of each change.
	results *model.Results
	j       *journal
	// locks are the scenarios' spec.lock names: one scenario at a time
	// holds each.
	locks map[string]*sync.Mutex
}
