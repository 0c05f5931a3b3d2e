package steps

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Resolve looks a name up from inside a pod, through the pod's own
// resolver (its resolv.conf: the cluster's DNS server and search domains),
// as nslookup in the pod would, and checks the answers with an expression
// over name (the name found, search domain applied), addresses, found and
// nxdomain. It runs nslookup in the first Running pod the selector matches
// (or the named pod) through pods/exec, so the image must have one
// (kdrill.local/toolbox, busybox). By default the name must resolve.
//
// Example:
//
//	steps:
//	- name: the Service has a name
//	  resolve: {pod: busybox, name: webapp, expect: 'name endsWith ".svc.cluster.local" && len(addresses) == 1'}
//	- name: a typo does not
//	  resolve: {pod: busybox, name: webap, expect: nxdomain}
type Resolve struct {
	// Pod names the pod to look the name up from.
	Pod string `json:"pod,omitempty"`
	// Selector picks it by labels instead: the first Running pod, by name.
	Selector string `json:"selector,omitempty"`
	// Namespace of the pod; defaults to the scenario's.
	Namespace string `json:"namespace,omitempty"`
	// Container to run nslookup in; default the pod's first.
	Container string `json:"container,omitempty" domain:"dns1123Label"`
	// Name to look up: a Service's name, NAME.NAMESPACE, a full name, or
	// anything the pod's resolver knows.
	Name string `json:"name" domain:"dns1123Subdomain"`
	// Expect must hold over name, addresses, found and nxdomain (default
	// found).
	Expect expression.Expr `json:"expect,omitempty"`
	// Until looks the name up again, every second, until expect holds; the
	// step's timeout bounds the wait (a Service made a moment ago can be
	// unknown to the DNS for a few seconds).
	Until bool `json:"until,omitempty"`
}

// Default expects the name to resolve.
func (r *Resolve) Default() { r.Expect = r.Expect.Or("found") }

// Validate checks the pod and the name.
func (r *Resolve) Validate() error {
	var errs scenario.FieldErrors
	validatePodOrSelector(&errs, r.Pod, r.Selector)
	if r.Name == "" {
		errs.Add("name", "required: the name to look up, such as webapp or kubernetes.default")
	}
	return errs.Err()
}

// ExprNames adds what the lookup found.
func (r *Resolve) ExprNames() map[string]any {
	return map[string]any{"name": "", "addresses": []any{}, "found": false, "nxdomain": false}
}

// Plan says where the name would be looked up.
func (r *Resolve) Plan(ctx context.Context, env *step.Env) (string, error) {
	pod, err := r.pod(ctx, env)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("would look %s up from pod %s (not run in a dry run)", r.Name, pod), nil
}

// Run looks the name up and judges the answer; with until, again every
// second until expect holds or the step's time is up.
func (r *Resolve) Run(ctx context.Context, env *step.Env) (any, error) {
	return untilHolds(ctx, r.Until, func() (*model.ResolveOutput, error) { return r.runOnce(ctx, env) })
}

func (r *Resolve) runOnce(ctx context.Context, env *step.Env) (*model.ResolveOutput, error) {
	pod, err := r.pod(ctx, env)
	if err != nil {
		return nil, err
	}
	exec := &PodExec{Namespace: r.Namespace, Container: r.Container, Command: []string{"nslookup", r.Name}}
	res, err := exec.runIn(ctx, env, pod)
	if err != nil || res.ExitCode == 126 || res.ExitCode == 127 {
		text := ""
		if err != nil {
			text = err.Error()
		}
		if res != nil {
			text += res.Stderr
		}
		if strings.Contains(text, "executable file not found") || strings.Contains(text, "applet not found") || err == nil {
			return nil, fmt.Errorf("pod %s has no nslookup (resolve runs nslookup NAME in it): use an image with one, such as kdrill.local/toolbox", pod)
		}
		return nil, fmt.Errorf("nslookup %s in pod %s: %w", r.Name, pod, err)
	}
	out := parseNslookup(res.Stdout + "\n" + res.Stderr)
	out.Pod = pod
	if !out.Found && !out.NXDomain {
		out.Error = firstLine(strings.TrimSpace(res.Stdout + "\n" + res.Stderr))
	}
	values := map[string]any{"name": out.Name, "addresses": toAny(out.Addresses), "found": out.Found, "nxdomain": out.NXDomain}
	ok, seen, err := r.Expect.Eval(env.ExprEnv(values))
	env.Observe(r.Expect.Source, seen)
	if err != nil || !ok {
		msg := fmt.Sprintf("%s from pod %s: %s; expected %s", r.Name, pod, describeLookup(out), r.Expect.Source)
		if err != nil {
			msg += fmt.Sprintf(" (evaluation error: %v)", err)
		}
		return out, &AssertionError{Msg: msg}
	}
	return out, nil
}

// pod is where the name is looked up: the one named, or the first Running
// pod the selector matches. A pod on a simulated node has no resolver: the
// lookup is not applicable there.
func (r *Resolve) pod(ctx context.Context, env *step.Env) (string, error) {
	name, node := r.Pod, ""
	if name != "" {
		p, err := env.Cluster.Typed.CoreV1().Pods(namespaceOr(r.Namespace, env)).Get(ctx, r.Pod, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("pod %s: %w", r.Pod, err)
		}
		node = p.Spec.NodeName
	} else {
		pods, err := (&Connect{}).sources(ctx, env, &ConnectFrom{Selector: r.Selector, Namespace: r.Namespace})
		if err != nil {
			return "", err
		}
		name, node = pods[0].Name, pods[0].Spec.NodeName
	}
	if why := simulated(ctx, env, node); why != "" {
		return "", step.NotApplicable("cannot look %s up from pod %s: %s", r.Name, name, why)
	}
	return name, nil
}

func describeLookup(out *model.ResolveOutput) string {
	switch {
	case out.Found:
		return fmt.Sprintf("%s has %s", out.Name, strings.Join(out.Addresses, ", "))
	case out.NXDomain:
		return "no such name (NXDOMAIN)"
	}
	return "no answer: " + out.Error
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// parseNslookup reads busybox's (and kdrill.local/toolbox's) nslookup:
// the server's lines first, then "Name:" and its "Address:" or "Address
// N:" lines; "NXDOMAIN" when the name does not exist.
func parseNslookup(text string) *model.ResolveOutput {
	out := &model.ResolveOutput{Addresses: []string{}}
	inAnswer := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		key, value, ok := strings.Cut(line, ":")
		switch {
		case strings.Contains(line, "NXDOMAIN"):
			out.NXDomain = true
		case ok && key == "Server" && !inAnswer:
			out.Server = strings.TrimSpace(value)
		case ok && key == "Name":
			inAnswer = true
			out.Name = strings.TrimSpace(value)
		case ok && inAnswer && strings.HasPrefix(key, "Address"):
			// "Address: 10.96.0.1" or "Address 1: 10.96.0.1 name".
			if f := strings.Fields(value); len(f) > 0 {
				out.Addresses = append(out.Addresses, f[0])
			}
		}
	}
	out.Found = len(out.Addresses) > 0
	return out
}
