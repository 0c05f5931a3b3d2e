package steps

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
)

// The plans of kdrill run --dry-run. The cluster's writes are server-side
// dry runs (runner.Connection.DryRun adds dryRun=All to each), so a plan may
// send them as a run would and report what the API server said.

// notYet words a target that does not exist when the plan is made: an
// earlier step of a real run would create it.
func notYet(what string) string {
	return fmt.Sprintf("%s does not exist now; an earlier step of the run may create it", what)
}

// Plan applies every object as a server-side dry run.
func (a *Apply) Plan(ctx context.Context, env *runner.Env) (string, error) {
	out, targets, err := a.applyAll(ctx, env)
	var lines []string
	for i, t := range targets {
		state := "refused"
		if out != nil && i < len(out.Objects) {
			state = "accepted by the API server"
		}
		lines = append(lines, fmt.Sprintf("apply %s/%s in %s: %s", t.obj.GetKind(), t.obj.GetName(), orCluster(t.obj.GetNamespace()), state))
	}
	if a.Wait {
		lines = append(lines, "then wait until each is ready")
	}
	return strings.Join(lines, "\n"), err
}

func orCluster(ns string) string {
	if ns == "" {
		return "the cluster"
	}
	return "namespace " + ns
}

// Plan names what would be deleted now.
func (d *Delete) Plan(ctx context.Context, env *runner.Env) (string, error) {
	res, err := d.resolve(env)
	if err != nil {
		return "", err
	}
	if d.Name != "" {
		if _, err := res.client.Get(ctx, d.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return "delete " + notYet(d.String()), nil
		} else if err != nil {
			return "", err
		}
		return "delete " + d.String(), res.client.Delete(ctx, d.Name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
	}
	list, err := res.client.List(ctx, metav1.ListOptions{LabelSelector: d.Selector})
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		names = append(names, item.GetName())
	}
	return fmt.Sprintf("delete %s: %d match now: %s", d.String(), len(names), strings.Join(names, ", ")), nil
}

// Plan sends the patch as a dry run.
func (p *Patch) Plan(ctx context.Context, env *runner.Env) (string, error) {
	if _, err := p.Run(ctx, env); apierrors.IsNotFound(err) {
		return "patch " + notYet(p.String()), nil
	} else if err != nil {
		return "patch " + p.String(), err
	}
	return fmt.Sprintf("patch %s (%s): accepted by the API server", p.String(), p.Type), nil
}

// Plan says what the replica count would become.
func (s *Scale) Plan(ctx context.Context, env *runner.Env) (string, error) {
	res, err := s.resolve(env)
	if err != nil {
		return "", err
	}
	cur, err := res.client.Get(ctx, s.Name, metav1.GetOptions{}, "scale")
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("scale %s to %d; %s", s.String(), *s.Replicas, notYet(s.String())), nil
	} else if err != nil {
		return "", err
	}
	prev, _, _ := unstructured.NestedInt64(cur.Object, "spec", "replicas")
	return fmt.Sprintf("scale %s from %d to %d replicas, then wait until they are available", s.String(), prev, *s.Replicas), nil
}

// Plan says what would roll out.
func (r *Rollout) Plan(ctx context.Context, env *runner.Env) (string, error) {
	res, err := r.resolve(env)
	if err != nil {
		return "", err
	}
	what := "undo to the previous revision"
	switch {
	case len(r.Images) > 0:
		var parts []string
		for name, image := range r.Images {
			parts = append(parts, name+"="+image)
		}
		sort.Strings(parts)
		what = "set images " + strings.Join(parts, ", ")
	case len(r.Template) > 0:
		what = "merge a new pod template"
	case r.ToRevision != 0:
		what = fmt.Sprintf("undo to revision %d", r.ToRevision)
	}
	if _, err := res.client.Get(ctx, r.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return fmt.Sprintf("roll out %s: %s; %s", r.String(), what, notYet(r.String())), nil
	} else if err != nil {
		return "", err
	}
	if _, err := r.patch(ctx, env, res); err != nil {
		return fmt.Sprintf("roll out %s: %s", r.String(), what), err
	}
	return fmt.Sprintf("roll out %s: %s (accepted by the API server), then wait until it completes", r.String(), what), nil
}

// Plan says which selector the Service would get.
func (s *SwitchSelector) Plan(ctx context.Context, env *runner.Env) (string, error) {
	if s.Rollback != "" {
		return fmt.Sprintf("restore the selector step %q replaced, then wait for the endpoints", s.Rollback), nil
	}
	ns := s.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	svc, err := env.Cluster.Typed.CoreV1().Services(ns).Get(ctx, s.Service, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("switch Service %s to %v; %s", s.Service, s.Selector, notYet("Service "+s.Service)), nil
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("switch Service %s from %v to %v (replace: %v), then wait until its ready endpoints are exactly the matching ready pods", s.Service, svc.Spec.Selector, s.Selector, s.Replace), nil
}

// Plan names the victims the seed chooses among the pods running now.
func (k *Kill) Plan(ctx context.Context, env *runner.Env) (string, error) {
	target, chosen, elig, err := k.victims(ctx, env)
	if apierrors.IsNotFound(err) {
		return "kill: " + notYet("the workload"), nil
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("delete %d of %d eligible pods in %s (seed %d): %s", len(chosen), elig, target.namespace, env.Seed, strings.Join(chosen, ", ")), nil
}

// Plan gives the kill schedule the seed draws.
func (k *KillPoisson) Plan(_ context.Context, env *runner.Env) (string, error) {
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

// Plan creates the objects as dry runs: admission, quota included, still
// decides, so the plan shows whether each would be refused.
func (e *ExpectRejection) Plan(ctx context.Context, env *runner.Env) (string, error) {
	out, err := e.Run(ctx, env)
	if err != nil {
		return "", err
	}
	var reasons []string
	if o, ok := out.(*model.ExpectRejectionOutput); ok {
		for _, r := range o.Rejections {
			reasons = append(reasons, r.Reason)
		}
	}
	return "the API server refuses each, as expected: " + strings.Join(reasons, ", "), nil
}
