package steps

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// recoverRef is the workload whose recovery a kill waits for, with its
// namespace filled in.
func (p *PodTarget) recoverRef(env *step.Env) ObjectRef {
	ref := *p.Workload
	if ref.Namespace == "" {
		ref.Namespace = p.Namespace
	}
	if ref.Namespace == "" {
		ref.Namespace = env.Namespace
	}
	return ref
}

// waitRecovered waits until the workload's desired count of pods are
// Ready, none of them a victim, and the workload counts them available;
// it returns the time since at. The pods come from a watch started before
// the kills, so the wait cannot pass on a status older than the last kill:
// the victims' replacements must be Ready.
func waitRecovered(ctx context.Context, env *step.Env, ref ObjectRef, timeout time.Duration, pods *podCache, victims []string, at time.Time) (*model.Duration, bool, error) {
	res, err := ref.resolve(env)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := env.Clock.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	ready, desired, available := 0, 0, 0
	for {
		if obj, err := res.client.Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
			d, found, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas")
			if !found {
				d = 1
			}
			a, _, _ := unstructured.NestedInt64(obj.Object, "status", "availableReplicas")
			desired, available = int(d), int(a)
			ready = 0
			for _, p := range pods.list() {
				if p.DeletionTimestamp == nil && p.Ready && !slices.Contains(victims, p.Name) {
					ready++
				}
			}
			if ready >= desired && available >= desired {
				return &model.Duration{Duration: env.Clock.Since(at)}, true, nil
			}
		}
		select {
		case <-tick.C():
		case <-ctx.Done():
			rec := &model.Duration{Duration: env.Clock.Since(at)}
			if ctx.Err() == context.DeadlineExceeded && env.Clock.Since(at) >= timeout {
				return rec, false, fmt.Errorf("%s did not recover within %s: %d of %d desired pods Ready besides the victims, %d available",
					ref.String(), timeout, ready, desired, available)
			}
			return rec, false, ctx.Err()
		}
	}
}

// validateRecover checks a kill step's recover and recoverTimeout: the
// recovery is a workload's, and its timeout goes with it.
func validateRecover(errs *scenario.FieldErrors, recover, hasWorkload bool, timeout model.Duration) {
	switch {
	case recover && !hasWorkload:
		errs.Add("recover", "needs workload: the recovery is the workload's, back at its desired count")
	case !recover && timeout.Duration != 0:
		errs.Add("recoverTimeout", "only with recover: true")
	case timeout.Duration < 0:
		errs.Add("recoverTimeout", "must be > 0")
	}
}
