package steps

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kdrill/kdrill/kube"
)

// informer is a watch-fed cache that remembers the last error its watch
// met, so a step that times out can say the API server was unreachable.
type informer struct {
	cache.SharedIndexInformer

	mu      sync.Mutex
	lastErr error
}

// newInformer makes an informer over lw. client is the client lw lists
// with: a fake one (cluster-free tests) cannot stream its initial list as
// a watch, and client-go's reflector asks the client whether it can.
func newInformer(lw *cache.ListWatch, example runtime.Object, transform cache.TransformFunc, client any) *informer {
	inf := &informer{SharedIndexInformer: cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, client), example, 0, cache.Indexers{})}
	if transform != nil {
		_ = inf.SetTransform(transform)
	}
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		inf.mu.Lock()
		inf.lastErr = err
		inf.mu.Unlock()
	})
	return inf
}

// lastError is the watch's last error since the last clearError.
func (inf *informer) lastError() error {
	inf.mu.Lock()
	defer inf.mu.Unlock()
	return inf.lastErr
}

func (inf *informer) clearError() {
	inf.mu.Lock()
	inf.lastErr = nil
	inf.mu.Unlock()
}

// objectsInformer follows the objects a watchQuery selects.
func objectsInformer(q watchQuery) *informer {
	return newInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			q.apply(&opts)
			return q.client.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			q.apply(&opts)
			return q.client.Watch(ctx, opts)
		},
	}, &unstructured.Unstructured{}, nil, dynamicOf(q.cluster))
}

// dynamicOf is the cluster's dynamic client, when known.
func dynamicOf(c *kube.Cluster) any {
	if c == nil {
		return nil
	}
	return c.Dynamic
}

// sharedPods is the running watch-fed cache of the pods a selector picks
// in a namespace: one per cluster however many steps follow those pods at
// once (a monitor and a killPoisson on the same pods keep one cache, not
// two). release, once per caller, stops it when the last is done.
func sharedPods(c *kube.Cluster, namespace, selector string) (*informer, func()) {
	v, release := c.Share("pods\x00"+namespace+"\x00"+selector, func() (any, func()) {
		inf := podsInformer(c.Typed.CoreV1().Pods(namespace), selector, c.Typed)
		ctx, cancel := context.WithCancel(context.Background())
		go inf.RunWithContext(ctx)
		return inf, cancel
	})
	return v.(*informer), release
}

// podsInformer follows the pods a label selector picks, keeping only what
// chaos steps and monitors read of each.
func podsInformer(pods typedcorev1.PodInterface, selector string, client any) *informer {
	return newInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = selector
			return pods.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = selector
			return pods.Watch(ctx, opts)
		},
	}, &corev1.Pod{}, trimPod, client)
}

// trimPod keeps only what chaos steps and monitors read of a pod, as a
// podState, so caches of tens of thousands of pods stay small.
func trimPod(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		return podStateOf(p), nil
	}
	return obj, nil
}

// podState is what the pod caches keep of a pod: its identity, deletion
// mark, phase and readiness. A corev1.Pod takes 1.2 KB however little of
// it is set; this takes a quarter of that, which 20,000 pods feel.
type podState struct {
	metav1.ObjectMeta // name, namespace, UID, resourceVersion, deletionTimestamp
	Phase             corev1.PodPhase
	Ready             bool
}

func podStateOf(p *corev1.Pod) *podState {
	return &podState{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			DeletionTimestamp: p.DeletionTimestamp,
		},
		Phase: p.Status.Phase,
		Ready: isPodReady(p),
	}
}

// statesOf trims listed pods as the caches do.
func statesOf(pods []*corev1.Pod) []*podState {
	out := make([]*podState, len(pods))
	for i, p := range pods {
		out[i] = podStateOf(p)
	}
	return out
}

// GetObjectKind and DeepCopyObject make a podState a runtime.Object, as
// the caches' objects are.
func (p *podState) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

func (p *podState) DeepCopyObject() runtime.Object {
	c := *p
	p.DeepCopyInto(&c.ObjectMeta)
	return &c
}
