package steps

import (
	"context"
	"errors"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/kdrill/kdrill/kube"
)

// watchQuery says which objects a watch follows: one by name, or those a
// label selector matches.
type watchQuery struct {
	client   dynamic.ResourceInterface
	name     string
	selector string
	// cluster, when set, says whether the API server is reachable: a watch
	// that cannot reconnect retries quietly, so its own errors do not tell.
	cluster *kube.Cluster
}

// checkFunc judges the current set of watched objects: done ends the watch
// with success, an error ends it with that error.
type checkFunc func(objs []*unstructured.Unstructured) (done bool, err error)

// watchUntil lists and watches the query's objects and calls check with the
// current set after the initial list and after every change, until check
// says done, returns an error, or ctx ends. It never polls: the API server
// pushes each change. When the API server cannot be reached, the error says
// so and is a kube.InfraError.
func watchUntil(ctx context.Context, q watchQuery, check checkFunc) error {
	return watchAround(ctx, q, nil, check)
}

// watchAround is watchUntil with an action taken once the watch has its
// initial state, so every change the action causes is seen.
func watchAround(ctx context.Context, q watchQuery, afterSync func(context.Context) error, check checkFunc) error {
	informer := objectsInformer(q)
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	})
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go informer.RunWithContext(wctx)

	syncedCh := informer.HasSyncedChecker().Done()
	synced := false
	for {
		select {
		case <-ctx.Done():
			if o, down := q.cluster.Unreachable(); down {
				return &kube.InfraError{Err: fmt.Errorf("timed out: the API server was unreachable since %s: %s",
					o.Start.UTC().Format("15:04:05.000"), o.Error)}
			}
			werr := informer.lastError()
			switch {
			case werr != nil && (kube.IsInfra(werr) || !synced):
				return &kube.InfraError{Err: fmt.Errorf("the API server was unreachable: %w", werr)}
			case !synced && isDeadline(ctx.Err()):
				// Nothing was seen, so nothing can be judged: the server
				// did not answer the first list in time (throttled, say).
				return &kube.InfraError{Err: errors.New("the API server did not answer the first list of the objects before the step's deadline (throttled or stalled): nothing could be judged")}
			}
			return ctx.Err()
		case <-syncedCh:
			synced = true
			syncedCh = nil
			if afterSync != nil {
				if err := afterSync(ctx); err != nil {
					return err
				}
			}
		case <-changed:
			if !synced {
				continue
			}
		}
		informer.clearError()
		done, err := check(sortedObjects(informer.GetStore()))
		if err != nil || done {
			return err
		}
	}
}

func (q watchQuery) apply(opts *metav1.ListOptions) {
	if q.name != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", q.name).String()
	}
	if q.selector != "" {
		opts.LabelSelector = q.selector
	}
}

// sortedObjects lists the store's objects ordered by namespace and name, so
// expressions over lists see a stable order.
func sortedObjects(store cache.Store) []*unstructured.Unstructured {
	items := store.List()
	out := make([]*unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out
}

// isDeadline reports whether err is the step's own time running out.
func isDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
