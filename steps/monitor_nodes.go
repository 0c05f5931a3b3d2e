package steps

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/kdrill/kdrill/internal/nodestate"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/step"
)

// nodeWatcher follows the cluster's nodes for a monitor: each cordon,
// taint and change of readiness becomes an event, and the times a node was
// out of service become windows the chart shades.
type nodeWatcher struct {
	clock func() time.Time
	stop  func()
	list  func(context.Context) (*corev1.NodeList, error)

	mu      sync.Mutex
	started bool
	state   map[string]nodeState // the last state seen of each node
	// baseline are the taints each node had when the monitor started (a
	// control plane's NoSchedule): they do not make it out of service.
	baseline map[string][]string
	events   []model.NodeEvent
	open     map[string]*model.NodeWindow // windows still open, by node
	windows  []model.NodeWindow
}

// nodeState is what the monitor follows of a node.
type nodeState struct {
	unschedulable bool
	ready         bool
	readyReason   string
	// taints that keep pods off, as key=value:Effect
	taints []string
}

// startNodeWatcher follows the nodes; it returns nil when the monitor may
// not read nodes (a grader's namespaced role), which is no failure.
func startNodeWatcher(ctx context.Context, env *step.Env) *nodeWatcher {
	nodes := env.Cluster.Typed.CoreV1().Nodes()
	if _, err := nodes.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		if apierrors.IsForbidden(err) {
			env.Log.Debug("monitor: nodes are not readable; node events are not recorded", "err", err)
		} else {
			env.Log.Warn("monitor: node events are not recorded", "err", err)
		}
		return nil
	}
	inf := newInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return nodes.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return nodes.Watch(ctx, opts)
		},
	}, &corev1.Node{}, nil, env.Cluster.Typed)
	w := &nodeWatcher{list: func(ctx context.Context) (*corev1.NodeList, error) { return nodes.List(ctx, metav1.ListOptions{}) }, clock: env.Clock.Now, state: map[string]nodeState{}, baseline: map[string][]string{}, open: map[string]*model.NodeWindow{}}
	wctx, cancel := context.WithCancel(ctx)
	w.stop = cancel
	reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.observe(o) },
		UpdateFunc: func(_, o any) { w.observe(o) },
	})
	go inf.RunWithContext(wctx)
	go func() {
		select {
		case <-reg.HasSyncedChecker().Done():
		case <-wctx.Done():
			return
		}
		w.mu.Lock()
		w.started = true
		now := w.clock()
		for name, st := range w.state {
			w.baseline[name] = st.taints
			if reason := st.outReason(st.taints); reason != "" {
				w.open[name] = &model.NodeWindow{Node: name, Start: now, Reason: reason}
			}
		}
		w.mu.Unlock()
	}()
	return w
}

func stateOf(n *corev1.Node) nodeState {
	st := nodeState{unschedulable: n.Spec.Unschedulable, ready: true}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			st.ready = c.Status == corev1.ConditionTrue
			st.readyReason = c.Reason
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			st.taints = append(st.taints, nodestate.TaintString(t))
		}
	}
	slices.Sort(st.taints)
	return st
}

// outReason says why a node in this state is out of service, or "";
// taints in baseline do not count.
func (st nodeState) outReason(baseline []string) string {
	var taints []string
	for _, t := range st.taints {
		if !slices.Contains(baseline, t) {
			taints = append(taints, t)
		}
	}
	switch {
	case !st.ready:
		return "NotReady"
	case st.unschedulable:
		return "cordoned"
	case len(taints) > 0:
		return "tainted " + strings.Join(taints, ", ")
	}
	return ""
}

// observe records what changed on a node since it was last seen.
func (w *nodeWatcher) observe(o any) {
	n, ok := o.(*corev1.Node)
	if !ok {
		return
	}
	st := stateOf(n)
	w.mu.Lock()
	defer w.mu.Unlock()
	old, seen := w.state[n.Name]
	w.state[n.Name] = st
	if !w.started {
		return
	}
	if !seen { // a node added while the monitor runs
		w.baseline[n.Name] = st.taints
		return
	}
	now := w.clock()
	add := func(event, detail string) {
		w.events = append(w.events, model.NodeEvent{Time: now, Node: n.Name, Event: event, Detail: detail})
	}
	if st.unschedulable != old.unschedulable {
		add(map[bool]string{true: "cordoned", false: "uncordoned"}[st.unschedulable], "")
	}
	if st.ready != old.ready {
		add(map[bool]string{true: "Ready", false: "NotReady"}[st.ready], st.readyReason)
	}
	for _, t := range st.taints {
		if !slices.Contains(old.taints, t) {
			add("tainted", t)
		}
	}
	for _, t := range old.taints {
		if !slices.Contains(st.taints, t) {
			add("untainted", t)
		}
	}
	reason := st.outReason(w.baseline[n.Name])
	if win, ok := w.open[n.Name]; ok && reason == "" {
		win.End = now
		w.windows = append(w.windows, *win)
		delete(w.open, n.Name)
	} else if !ok && reason != "" {
		w.open[n.Name] = &model.NodeWindow{Node: n.Name, Start: now, Reason: reason}
	}
}

// finish reads the nodes once more (a watch can trail the API server by a
// moment), stops the watch and returns the events and the windows, a
// window still open ending at zero.
func (w *nodeWatcher) finish(ctx context.Context) ([]model.NodeEvent, []model.NodeWindow) {
	if w == nil {
		return nil, nil
	}
	if list, err := w.list(ctx); err == nil {
		for i := range list.Items {
			w.observe(&list.Items[i])
		}
	}
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	windows := slices.Clone(w.windows)
	for _, win := range w.open {
		windows = append(windows, *win)
	}
	sort.Slice(windows, func(i, j int) bool {
		if !windows[i].Start.Equal(windows[j].Start) {
			return windows[i].Start.Before(windows[j].Start)
		}
		return windows[i].Node < windows[j].Node
	})
	return slices.Clone(w.events), windows
}

// lossEvents are the scenario's batches of lost pods: kills, and node
// steps that deleted or evicted pods, in time order, each with its cause.
func lossEvents(env *step.Env) []model.TimelineEvent {
	var out []model.TimelineEvent
	for _, ev := range env.Timeline("kill") {
		ev.Action = "kill"
		out = append(out, ev)
	}
	for _, ev := range env.Timeline("node") {
		if len(ev.Objects) > 0 {
			ev.Action += " " + strings.Join(ev.Nodes, ",")
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
