package runner

// A scenario's namespace: made for the run (named by kdrill, so its create
// may be retried) or given, and what the run made removed at the end.

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// namespaceReadyLimit bounds the wait for a new namespace's default
// ServiceAccount and CA ConfigMap (milliseconds on a healthy cluster; a
// controller manager backing off after a control-plane fault can take a
// minute, and the run goes on without them, saying so).
const namespaceReadyLimit = 10 * time.Second

// namespace returns the scenario's namespace, creating it when the run
// should own it.
func (r *run) namespace(ctx context.Context, s *scenario.Scenario) (string, bool, error) {
	nsClient := r.cluster(s).Typed.CoreV1().Namespaces()
	name := r.opts.Namespace
	if name == "" {
		name = s.Spec.Namespace
	}
	if name != "" {
		_, err := nsClient.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return name, false, nil
		}
		if !apierrors.IsNotFound(err) {
			return name, false, fmt.Errorf("namespace %s: %w", name, err)
		}
		_, err = nsClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{step.LabelManagedBy: "kdrill"},
		}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return name, false, fmt.Errorf("create namespace %s: %w", name, err)
		}
		r.waitReady(ctx, s, name)
		return name, false, nil
	}
	prefix := s.Metadata.Name
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	// The name is drawn here, not by the server (generateName), so the
	// retry policy may send the create again when an answer is lost.
	var err error
	for range 3 {
		name = "kdrill-" + prefix + "-" + utilrand.String(5)
		_, err = nsClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{step.LabelManagedBy: "kdrill", step.LabelScenario: s.Metadata.Name},
		}}, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			break
		}
	}
	if err != nil {
		return "", false, fmt.Errorf("create namespace: %w", err)
	}
	r.waitReady(ctx, s, name)
	return name, true, nil
}

// waitReady waits, within its bound, for what the controller manager gives
// a new namespace, and logs when it did not come.
func (r *run) waitReady(ctx context.Context, s *scenario.Scenario, ns string) {
	if !kube.WaitNamespaceReady(ctx, r.cluster(s).Typed, ns, namespaceReadyLimit) && ctx.Err() == nil {
		Logger(ctx).Warn("the namespace has no default ServiceAccount or CA ConfigMap yet; going on without them (pods may be refused until the controller manager makes them)",
			"namespace", ns, "waited", namespaceReadyLimit)
	}
}

// tidyUp removes what the run made: the objects steps created outside the
// run's namespace, then the namespace itself when the run created it, on
// every cluster used; all of it stays when keep says so.
func (r *run) tidyUp(ctx context.Context, env *scope, sr *model.ScenarioResult, others []*kube.Cluster, created, keep bool) {
	ns := env.Namespace
	if keep {
		r.scenarioRecord(sr).set(func(sr *model.ScenarioResult) { sr.NamespaceKept = created })
		return
	}
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.CleanupTimeout)
	defer dcancel()
	// Each object was created by this run (its uid is checked): deleting it
	// is safe wherever it is, so the wire guard lets these through.
	removed, errs := env.removeAll(kube.WithStepPolicy(dctx, "removing what the run created", true))
	for _, d := range removed {
		env.Log.Info("removed", "what", d)
	}
	var err error
	if created {
		err = env.Cluster.Typed.CoreV1().Namespaces().Delete(dctx, ns, metav1.DeleteOptions{})
		for _, c := range others {
			if oerr := c.Typed.CoreV1().Namespaces().Delete(dctx, ns, metav1.DeleteOptions{}); oerr != nil && !apierrors.IsNotFound(oerr) && err == nil {
				err = fmt.Errorf("on %s: %w", c.Context, oerr)
			}
		}
	}
	if err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("namespace %s not deleted: %w", ns, err))
	}
	r.scenarioRecord(sr).set(func(sr *model.ScenarioResult) {
		sr.Removed = append(sr.Removed, removed...)
		for _, err := range errs {
			env.Log.Warn("left behind", "err", err)
			sr.LeftBehind = append(sr.LeftBehind, env.Cluster.Redactor.String(err.Error()))
		}
	})
}
