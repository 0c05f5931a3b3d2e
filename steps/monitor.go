package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Monitor samples the availability of workloads from watch events, not
// polling: desired, available, unavailable, ready and updated replicas and
// the phases of their pods, each change stamped to the millisecond. It runs
// until a stop step names it or the scenario's steps end, so give it
// background: true. Its output measures what kill and node steps did: the
// minimum available, the maximum unavailable, the time spent below the
// desired count, and for each batch of lost pods (a kill, a drain, a node
// failure) the recovery time, from the action until availability is back at
// the desired count (p50, p95, max). It also records the nodes' changes
// (cordoned, tainted, NotReady, restored) when it may read nodes, and the
// times each node was out of service, which the chart shades.
//
// Example:
//
//	steps:
//	- name: availability
//	  background: true
//	  monitor:
//	    workloads: [{kind: Deployment, name: web}]
type Monitor struct {
	// Workloads to sample: Deployments, ReplicaSets or StatefulSets, by kind
	// and name.
	Workloads []ObjectRef `json:"workloads,omitempty"`
	// Connections to try every interval from inside a pod (as connect
	// does): when each was lost and back, and how long after a heal.
	Connections []MonitorConnection `json:"connections,omitempty"`
	// Interval between tries of each connection (default 1s).
	Interval model.Duration `json:"interval,omitempty"`
}

// Default tries connections every second.
func (m *Monitor) Default() {
	if m.Interval.Duration == 0 {
		m.Interval.Duration = time.Second
	}
}

// Validate checks the workload references and connections.
func (m *Monitor) Validate() error {
	var errs scenario.FieldErrors
	if len(m.Workloads) == 0 && len(m.Connections) == 0 {
		errs.Add("workloads", "name at least one Deployment, ReplicaSet or StatefulSet (or connections to try)")
	}
	for i := range m.Workloads {
		m.Workloads[i].validate(&errs, fmt.Sprintf("workloads.%d", i), true)
	}
	for i := range m.Connections {
		m.Connections[i].validate(&errs, fmt.Sprintf("connections.%d.", i))
	}
	if m.Interval.Duration < 100*time.Millisecond || m.Interval.Duration > time.Minute {
		errs.Add("interval", "between 100ms and 1m")
	}
	return errs.Err()
}

// Run samples until ctx ends, then computes the measures.
func (m *Monitor) Run(ctx context.Context, env *step.Env) (any, error) {
	var watchers []*workloadWatcher
	for _, ref := range m.Workloads {
		w, err := startWorkloadWatcher(ctx, env, ref)
		if err != nil {
			for _, w := range watchers {
				w.stop()
			}
			return nil, err
		}
		watchers = append(watchers, w)
	}
	nodes := startNodeWatcher(ctx, env)
	conns := m.startConnectionWatchers(ctx, env)
	for _, w := range watchers {
		select {
		case <-w.synced:
		case <-ctx.Done():
		}
	}
	env.Ready()
	<-ctx.Done()
	// A watch can trail the API server by a moment: read each workload once
	// more so the series ends with its state at the stop.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	for _, w := range watchers {
		w.catchUp(rctx)
	}
	out := &model.MonitorOutput{MinAvailable: -1}
	var windows []model.NodeWindow
	out.NodeEvents, windows = nodes.finish(rctx)
	cancel()
	end := env.Clock.Now()
	losses := lossEvents(env)
	var all []model.BatchRecovery
	for _, w := range watchers {
		w.stop()
		s := w.series(end, losses)
		s.Gaps = gapsWithin(env.Cluster.Outages(), s.Start, end)
		s.NodesOut = windows
		out.Workloads = append(out.Workloads, s)
		if out.MinAvailable < 0 || s.MinAvailable < out.MinAvailable {
			out.MinAvailable = s.MinAvailable
		}
		out.MaxUnavailable = max(out.MaxUnavailable, s.MaxUnavailable)
		out.BelowDesired.Duration = max(out.BelowDesired.Duration, s.BelowDesired.Duration)
		out.Kills += s.Kills
		all = append(all, s.Recovery.Batches...)
	}
	out.MinAvailable = max(out.MinAvailable, 0)
	heals := env.Timeline("heal")
	for _, c := range conns {
		out.Connections = append(out.Connections, c.finish(heals))
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	out.Recovery = summarize(all)
	// However the monitor was ended (a stop step, the end of the steps, the
	// scenario's deadline), what it measured stands.
	return out, nil
}

// workloadWatcher follows one workload and its pods.
type workloadWatcher struct {
	ref       ObjectRef
	namespace string
	client    dynamic.ResourceInterface
	clock     func() time.Time
	stop      func()
	// synced is closed once both watches have their initial state; samples
	// start then.
	synced chan struct{}

	mu       sync.Mutex
	workload *unstructured.Unstructured
	pods     map[string]*podState
	counts   map[string]int  // pods by category (phase, or Terminating)
	seen     map[string]bool // every pod of the workload seen, as namespace/name
	samples  []model.Sample
	start    time.Time
	sampling bool
}

func startWorkloadWatcher(ctx context.Context, env *step.Env, ref ObjectRef) (*workloadWatcher, error) {
	res, err := ref.resolve(env)
	if err != nil {
		return nil, err
	}
	if !kindIs(res.mapping, "Deployment", "ReplicaSet", "StatefulSet") {
		return nil, fmt.Errorf("monitor samples Deployments, ReplicaSets and StatefulSets, not %s", res.mapping.GroupVersionKind.Kind)
	}
	obj, err := res.client.Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", ref.String(), err)
	}
	sel, err := workloadSelector(obj)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", ref.String(), err)
	}
	w := &workloadWatcher{
		ref: ref, namespace: res.namespace, client: res.client, clock: env.Clock.Now,
		pods: map[string]*podState{}, counts: map[string]int{}, seen: map[string]bool{}, start: env.Clock.Now(),
	}
	wctx, cancel := context.WithCancel(ctx)
	workloads := objectsInformer(ref.query(res))
	wreg, _ := workloads.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.setWorkload(o) },
		UpdateFunc: func(_, o any) { w.setWorkload(o) },
		DeleteFunc: func(any) { w.setWorkload(nil) },
	})
	pods, release := sharedPods(env.Cluster, res.namespace, sel.String())
	preg, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.setPod(o, false) },
		UpdateFunc: func(_, o any) { w.setPod(o, false) },
		DeleteFunc: func(o any) { w.setPod(o, true) },
	})
	if err != nil {
		cancel()
		release()
		return nil, fmt.Errorf("monitor %s: %w", ref.String(), err)
	}
	w.stop = func() {
		cancel()
		_ = pods.RemoveEventHandler(preg)
		release()
	}
	go workloads.RunWithContext(wctx)
	w.synced = make(chan struct{})
	go func() {
		// The handlers have seen the initial lists once their registrations
		// have synced.
		for _, c := range []cache.DoneChecker{wreg.HasSyncedChecker(), preg.HasSyncedChecker()} {
			select {
			case <-c.Done():
			case <-wctx.Done():
				return
			}
		}
		w.mu.Lock()
		w.sampling = true
		w.start = w.clock()
		w.sample()
		w.mu.Unlock()
		close(w.synced)
	}()
	return w, nil
}

// catchUp reads the workload and records its current state.
func (w *workloadWatcher) catchUp(ctx context.Context) {
	obj, err := w.client.Get(ctx, w.ref.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	w.setWorkload(obj)
}

func (w *workloadWatcher) setWorkload(o any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	u, _ := o.(*unstructured.Unstructured)
	w.workload = u
	w.sample()
}

func (w *workloadWatcher) setPod(o any, deleted bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	p, ok := o.(*podState)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[p.Namespace+"/"+p.Name] = true
	if old, ok := w.pods[p.Name]; ok {
		w.count(podCategory(old), -1)
	}
	if deleted {
		delete(w.pods, p.Name)
	} else {
		w.pods[p.Name] = p
		w.count(podCategory(p), 1)
	}
	w.sample()
}

// count keeps the per-phase pod counts current, one event at a time.
func (w *workloadWatcher) count(category string, delta int) {
	w.counts[category] += delta
	if w.counts[category] == 0 {
		delete(w.counts, category)
	}
}

// podCategory is a pod's phase, or Terminating while it is being deleted.
func podCategory(p *podState) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	return string(p.Phase)
}

// sample records the current state if it differs from the last sample.
func (w *workloadWatcher) sample() {
	if !w.sampling {
		return
	}
	s := model.Sample{Time: w.clock()}
	if w.workload != nil {
		get := func(fields ...string) int {
			v, _, _ := unstructured.NestedInt64(w.workload.Object, fields...)
			return int(v)
		}
		desired, found, _ := unstructured.NestedInt64(w.workload.Object, "spec", "replicas")
		if !found {
			desired = 1
		}
		s.Desired = int(desired)
		s.Available = get("status", "availableReplicas")
		s.Ready = get("status", "readyReplicas")
		s.Updated = get("status", "updatedReplicas")
		s.Unavailable = get("status", "unavailableReplicas")
		if w.workload.GetKind() != "Deployment" {
			s.Unavailable = max(0, s.Desired-s.Available)
		}
	}
	s.Pods = maps.Clone(w.counts)
	if n := len(w.samples); n > 0 {
		last := w.samples[n-1]
		if last.Desired == s.Desired && last.Available == s.Available && last.Unavailable == s.Unavailable &&
			last.Ready == s.Ready && last.Updated == s.Updated && maps.Equal(last.Pods, s.Pods) {
			return
		}
	}
	w.samples = append(w.samples, s)
}

// series computes the workload's measures up to end, given the scenario's
// batches of lost pods (only batches that took this workload's pods count).
func (w *workloadWatcher) series(end time.Time, kills []model.TimelineEvent) model.WorkloadSeries {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := model.WorkloadSeries{
		Kind: w.ref.Kind, Name: w.ref.Name, Namespace: w.namespace,
		Samples: slices.Clone(w.samples), Start: w.start, End: end,
	}
	if len(s.Samples) == 0 {
		return s
	}
	s.MinAvailable = s.Samples[0].Available
	for i, smp := range s.Samples {
		s.Desired = smp.Desired
		s.MinAvailable = min(s.MinAvailable, smp.Available)
		s.MaxUnavailable = max(s.MaxUnavailable, smp.Unavailable)
		next := end
		if i+1 < len(s.Samples) {
			next = s.Samples[i+1].Time
		}
		if smp.Available < smp.Desired {
			s.BelowDesired.Duration += next.Sub(smp.Time)
		}
	}
	var batches []model.BatchRecovery
	for _, k := range kills {
		killed := 0
		for _, o := range k.Objects {
			if w.seen[o] {
				killed++
			}
		}
		if killed == 0 {
			continue
		}
		s.Kills += killed
		settled := k.Time
		if k.End.After(settled) {
			settled = k.End
		}
		b := recoveryAfter(s.Samples, k.Time, settled, killed, end)
		b.Cause = k.Action
		batches = append(batches, b)
	}
	s.Recovery = summarize(batches)
	return s
}

// Subjects names the monitored workloads.
func (m *Monitor) Subjects() []step.Subject {
	var out []step.Subject
	for i := range m.Workloads {
		out = append(out, m.Workloads[i].Subjects()...)
	}
	return out
}
