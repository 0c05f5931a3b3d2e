package steps

// The node step's pod moves: a drain through kubectl's drain, a failure
// as the node lifecycle controller deletes a lost node's pods.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/drain"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/step"
)

// helper is kubectl's drain, set up as the step says. Pods in system
// namespaces are spared unless allowUnsafe is set.
func (n *Node) helper(ctx context.Context, client kubernetes.Interface) *drain.Helper {
	grace := -1
	if n.GracePeriodSeconds != nil {
		grace = int(*n.GracePeriodSeconds)
	}
	h := &drain.Helper{
		Ctx: ctx, Client: client, Force: n.Force, GracePeriodSeconds: grace,
		IgnoreAllDaemonSets: true, DeleteEmptyDirData: true,
		Timeout: n.DrainTimeout.Duration, EvictErrorRetryDelay: time.Second,
		Out: io.Discard, ErrOut: io.Discard,
	}
	if !n.AllowUnsafe {
		h.AdditionalFilters = []drain.PodFilter{func(p corev1.Pod) drain.PodDeleteStatus {
			if kube.IsSystemNamespace(p.Namespace) {
				return drain.MakePodDeleteStatusWithWarning(false, "in a system namespace")
			}
			return drain.MakePodDeleteStatusOkay()
		}}
	}
	return h
}

// podsToMove lists the pods on a node the action moves, and notes the
// spared ones.
func podsToMove(h *drain.Helper, node string, out *model.NodeOutput) ([]corev1.Pod, error) {
	list, errs := h.GetPodsForDeletion(node)
	if len(errs) > 0 {
		if msg := errs[0].Error(); strings.Contains(msg, "(use --force to override)") {
			// kubectl's words name its flag; a scenario names the field.
			return nil, fmt.Errorf("node %s: %s", node, strings.ReplaceAll(msg, "(use --force to override)", "(a drain would delete them for good; set force: true to drain them anyway)"))
		}
		return nil, fmt.Errorf("node %s: %w", node, errs[0])
	}
	pods := list.Pods()
	all, err := h.Client.CoreV1().Pods(metav1.NamespaceAll).List(h.Ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, fmt.Errorf("list pods on %s: %w", node, err)
	}
	for _, p := range all.Items {
		if p.DeletionTimestamp == nil && !slices.ContainsFunc(pods, func(m corev1.Pod) bool { return m.UID == p.UID }) {
			out.Spared = append(out.Spared, p.Namespace+"/"+p.Name)
		}
	}
	return pods, nil
}

// drain evicts the nodes' pods with kubectl's drain. A pod a
// PodDisruptionBudget still holds back at the drain timeout is recorded,
// not an error.
func (n *Node) drain(ctx context.Context, env *step.Env, out *model.NodeOutput) error {
	var mu sync.Mutex
	blocked := map[string]bool{}
	client, err := evictionObserver(env.Cluster.Config, func(pod string) {
		mu.Lock()
		blocked[pod] = true
		mu.Unlock()
	})
	if err != nil {
		return err
	}
	h := n.helper(ctx, client)
	h.OnPodDeletionOrEvictionFinished = func(p *corev1.Pod, _ bool, err error) {
		if err == nil {
			mu.Lock()
			out.Evicted = append(out.Evicted, p.Namespace+"/"+p.Name)
			mu.Unlock()
		}
	}
	var failures []string
	var moving []corev1.Pod
	for _, node := range out.Nodes {
		pods, err := podsToMove(h, node, out)
		if err != nil {
			return err
		}
		moving = append(moving, pods...)
		if err := h.DeleteOrEvictPods(pods); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failures = append(failures, err.Error())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for pod := range blocked {
		// A pod held back for a while and evicted in the end is not blocked.
		if slices.Contains(out.Evicted, pod) {
			out.DelayedByPDB = append(out.DelayedByPDB, pod)
		} else {
			out.BlockedByPDB = append(out.BlockedByPDB, pod)
		}
	}
	slices.Sort(out.DelayedByPDB)
	slices.Sort(out.BlockedByPDB)
	slices.Sort(out.Evicted)
	// Pods a budget held back until the timeout are the drain's answer,
	// not a failure; a pod neither evicted nor held back is.
	for _, p := range moving {
		pod := p.Namespace + "/" + p.Name
		if !slices.Contains(out.Evicted, pod) && !blocked[pod] {
			return fmt.Errorf("drain: %s was not evicted: %s", pod, strings.Join(failures, "; "))
		}
	}
	return nil
}

// fail deletes the nodes' pods as the node lifecycle controller does when
// a node is lost: no eviction, no budget, DaemonSet and mirror pods left.
// The deletions go out side by side, as they would from the controller, so
// thousands of pods are gone in about a second.
func (n *Node) fail(ctx context.Context, env *step.Env, out *model.NodeOutput) error {
	h := n.helper(ctx, env.Cluster.Typed)
	// A lost node loses every pod it ran but its DaemonSets', whoever owns
	// them (a neighbour's bare pod too), as the node controller deletes them.
	h.Force = true
	var pods []corev1.Pod
	for _, node := range out.Nodes {
		on, err := podsToMove(h, node, out)
		if err != nil {
			return err
		}
		pods = append(pods, on...)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		failure  error
		inFlight = make(chan struct{}, maxDeletesInFlight)
	)
	for _, p := range pods {
		inFlight <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inFlight }()
			err := env.Cluster.Typed.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: n.GracePeriodSeconds})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out.Evicted = append(out.Evicted, p.Namespace+"/"+p.Name)
			case !apierrors.IsNotFound(err) && failure == nil:
				failure = fmt.Errorf("delete pod %s/%s on %s: %w", p.Namespace, p.Name, p.Spec.NodeName, err)
			}
		}()
	}
	wg.Wait()
	slices.Sort(out.Evicted)
	return failure
}

// evictionObserver returns a client on the cluster's connection that calls
// refused with namespace/name for every eviction a PodDisruptionBudget
// refuses (429 Too Many Requests).
func evictionObserver(cfg *rest.Config, refused func(pod string)) (kubernetes.Interface, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err == nil && resp.StatusCode == http.StatusTooManyRequests && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/eviction") {
				// .../namespaces/NS/pods/NAME/eviction
				parts := strings.Split(strings.TrimSuffix(req.URL.Path, "/eviction"), "/")
				if len(parts) >= 4 {
					refused(parts[len(parts)-3] + "/" + parts[len(parts)-1])
				}
			}
			return resp, err
		})
	})
	return kubernetes.NewForConfig(cfg)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
