package steps

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/step"
)

// surgeWatch follows a Deployment's ReplicaSets and keeps the most
// replicas they were told to run at once: what the strategy's maxSurge
// bounds. The Deployment's status.replicas adds up the ReplicaSets'
// statuses, which catch up one at a time and can run above that bound
// while they do; the ReplicaSets' specs come on one watch, in order, so
// every sum is one the controller made.
type surgeWatch struct {
	mu   sync.Mutex
	most int64
	stop context.CancelFunc
}

// watchSurge starts following the Deployment's ReplicaSets and returns
// once it has their current state.
func watchSurge(ctx context.Context, env *step.Env, res *resolved, name string) (*surgeWatch, error) {
	deploy, err := res.client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read Deployment %s: %w", name, err)
	}
	sel, err := workloadSelector(deploy)
	if err != nil {
		return nil, fmt.Errorf("read the selector of Deployment %s: %w", name, err)
	}
	mapping, err := env.Cluster.Mapping("apps/v1", "ReplicaSet")
	if err != nil {
		return nil, err
	}
	inf := objectsInformer(watchQuery{client: env.Cluster.Resource(mapping, res.namespace), selector: sel.String(), cluster: env.Cluster})
	w := &surgeWatch{}
	count := func() {
		total := replicasOwnedBy(inf.GetStore().List(), deploy.GetUID())
		w.mu.Lock()
		w.most = max(w.most, total)
		w.mu.Unlock()
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { count() },
		UpdateFunc: func(any, any) { count() },
		DeleteFunc: func(any) { count() },
	})
	wctx, cancel := context.WithCancel(ctx)
	w.stop = cancel
	go inf.RunWithContext(wctx)
	select {
	case <-inf.HasSyncedChecker().Done():
		return w, nil
	case <-ctx.Done():
		cancel()
		if err := inf.lastError(); err != nil {
			return nil, &kube.InfraError{Err: fmt.Errorf("the API server was unreachable: %w", err)}
		}
		return nil, ctx.Err()
	}
}

// peak is the most replicas the ReplicaSets were told to run at once.
func (w *surgeWatch) peak() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most
}

// replicasOwnedBy adds up spec.replicas of the ReplicaSets the owner owns.
func replicasOwnedBy(objs []any, owner types.UID) int64 {
	var total int64
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		for _, ref := range u.GetOwnerReferences() {
			if ref.UID == owner {
				n, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
				total += n
				break
			}
		}
	}
	return total
}
