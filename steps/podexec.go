package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// PodExec runs a command inside a pod's container through the API server,
// as kubectl exec does (WebSocket, falling back to SPDY): in one pod by
// name, or in the first Ready pod a selector matches, or in all of them.
// By default it must exit 0; expect can say more over exitCode, stdout and
// stderr (and json, stdout parsed when it is JSON). It only reads unless
// writes says otherwise, so a lab can grade what is visible only from
// inside a container.
//
// Example:
//
//	steps:
//	- name: the app reports 2.0
//	  podExec: {selector: app=web, command: [cat, /etc/app/version], expect: 'stdout contains "2.0"'}
type PodExec struct {
	// Pod names one pod.
	Pod string `json:"pod,omitempty"`
	// Selector picks the pods by labels; the first Ready one (by name) runs
	// the command, or every Ready one with all.
	Selector string `json:"selector,omitempty"`
	// All runs the command in every Ready pod the selector matches; each
	// must meet expect.
	All bool `json:"all,omitempty"`
	// Namespace of the pods; defaults to the scenario's.
	Namespace string `json:"namespace,omitempty"`
	// Container to run in; default the pod's first.
	Container string `json:"container,omitempty" domain:"dns1123Label"`
	// Command and its arguments, run in the container without a shell. A
	// command that ends the container's first process (kill 1) may be
	// ended with it, by the kernel: exit 137 then means it was sent.
	Command []string `json:"command"`
	// Stdin is written to the command's standard input.
	Stdin string `json:"stdin,omitempty"`
	// Expect must hold once the command exits (default exitCode == 0).
	Expect expression.Expr `json:"expect,omitempty"`
	// Writes says the command changes the pod or the cluster, so it is held
	// to the rules of writing steps (not a lab check) (default false).
	Writes bool `json:"writes,omitempty"`
	// Until runs the command again, every second, until expect holds; the
	// step's timeout bounds the wait. Use it for something about to work:
	// a Service whose endpoints just changed, a name just created, a
	// policy just applied.
	Until bool `json:"until,omitempty"`
}

// Default expects exit code 0.
func (p *PodExec) Default() { p.Expect = p.Expect.Or("exitCode == 0") }

// Validate checks the target and the command.
func (p *PodExec) Validate() error {
	var errs scenario.FieldErrors
	validatePodOrSelector(&errs, p.Pod, p.Selector)
	if p.All && p.Pod != "" {
		errs.Add("all", "all goes with selector, not with one pod")
	}
	if len(p.Command) == 0 || p.Command[0] == "" {
		errs.Add("command", "required: the program and its arguments, such as [cat, /etc/app/version]")
	}
	if p.Until && p.Writes {
		errs.Add("until", "until repeats the command, and writes says it changes something: a command run again and again must only read")
	}
	return errs.Err()
}

// Effect is reads unless the command writes.
func (p *PodExec) Effect() scenario.Effect {
	if p.Writes {
		return scenario.Writes
	}
	return scenario.Reads
}

// ExprNames adds what the command did.
func (p *PodExec) ExprNames() map[string]any {
	return map[string]any{"exitCode": 0, "stdout": "", "stderr": "", "json": map[string]any{}}
}

// Subjects names the pod, for the diagnostics of a failure.
func (p *PodExec) Subjects() []step.Subject {
	if p.Pod == "" {
		return nil
	}
	return []step.Subject{{Kind: "Pod", Name: p.Pod, Namespace: p.Namespace}}
}

// Plan says where the command would run; a dry run does not run it.
func (p *PodExec) Plan(ctx context.Context, env *step.Env) (string, error) {
	pods, err := p.targets(ctx, env)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("would run %q in %s (not run in a dry run)", strings.Join(p.Command, " "), strings.Join(pods, ", ")), nil
}

// Run runs the command in the pod (or pods) and judges each result; with
// until, again every second until the results meet expect or the step's
// time is up, when the last failure is what it says.
func (p *PodExec) Run(ctx context.Context, env *step.Env) (any, error) {
	return untilHolds(ctx, p.Until, func() (*model.ExecOutput, error) { return p.runOnce(ctx, env) })
}

// untilHolds runs once, or with until, again every second while the
// result fails its expectation (or no pod is ready yet), until it holds or
// the step's time is up, when the last failure is what it says.
func untilHolds[T any](ctx context.Context, until bool, once func() (T, error)) (T, error) {
	for tries := 1; ; tries++ {
		out, err := once()
		var failed *AssertionError
		if !until || err == nil || !errors.As(err, &failed) && !errors.Is(err, errNoReadyPod) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("%w (tried %d times until the step's timeout)", err, tries)
		case <-time.After(time.Second):
		}
	}
}

// errNoReadyPod: the selector matches no Ready pod (yet).
var errNoReadyPod = errors.New("no Ready pod matches")

func (p *PodExec) runOnce(ctx context.Context, env *step.Env) (*model.ExecOutput, error) {
	pods, err := p.targets(ctx, env)
	if err != nil {
		return nil, err
	}
	var out *model.ExecOutput
	for _, pod := range pods {
		out, err = p.runIn(ctx, env, pod)
		if err != nil {
			return out, err
		}
		values := map[string]any{"exitCode": out.ExitCode, "stdout": out.Stdout, "stderr": out.Stderr, "json": out.JSON}
		ok, seen, err := p.Expect.Eval(env.ExprEnv(values))
		env.Observe(p.Expect.Source, seen)
		if err != nil || !ok {
			msg := fmt.Sprintf("%q in pod %s exited %d; expected %s", strings.Join(p.Command, " "), pod, out.ExitCode, p.Expect.Source)
			if err != nil {
				msg += fmt.Sprintf(" (evaluation error: %v)", err)
			}
			return out, &AssertionError{Msg: msg + tail(out.Stderr)}
		}
	}
	return out, nil
}

// targets lists the pods to run in: the named one, or the Ready pods the
// selector matches (the first, or all).
func (p *PodExec) targets(ctx context.Context, env *step.Env) ([]string, error) {
	if p.Pod != "" {
		return []string{p.Pod}, nil
	}
	list, err := env.Cluster.Typed.CoreV1().Pods(p.namespace(env)).List(ctx, metav1.ListOptions{LabelSelector: p.Selector})
	if err != nil {
		return nil, fmt.Errorf("list pods -l %s: %w", p.Selector, err)
	}
	var ready []string
	for i := range list.Items {
		if isPodReady(&list.Items[i]) && list.Items[i].DeletionTimestamp == nil {
			ready = append(ready, list.Items[i].Name)
		}
	}
	sort.Strings(ready)
	switch {
	case len(ready) == 0:
		return nil, fmt.Errorf("%w -l %s (%d pods match)", errNoReadyPod, p.Selector, len(list.Items))
	case !p.All:
		ready = ready[:1]
	}
	return ready, nil
}

func (p *PodExec) namespace(env *step.Env) string {
	if p.Namespace != "" {
		return p.Namespace
	}
	return env.Namespace
}

// runIn streams the command through pods/exec and collects what it printed.
func (p *PodExec) runIn(ctx context.Context, env *step.Env, pod string) (*model.ExecOutput, error) {
	req := env.Cluster.Typed.CoreV1().RESTClient().Post().Resource("pods").Name(pod).Namespace(p.namespace(env)).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: p.Container, Command: p.Command, Stdin: p.Stdin != "", Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(env.Cluster.Config, "GET", req.URL().String())
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(env.Cluster.Config, "POST", req.URL())
	if err != nil {
		return nil, err
	}
	executor, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return nil, err
	}
	stdout, stderr := &capped{}, &capped{}
	opts := remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr}
	if p.Stdin != "" {
		opts.Stdin = strings.NewReader(p.Stdin)
	}
	err = executor.StreamWithContext(ctx, opts)
	out := &model.ExecOutput{Stdout: stdout.String(), Stderr: stderr.String(), Truncated: stdout.cut || stderr.cut}
	var exitErr utilexec.ExitError
	switch {
	case errors.As(err, &exitErr):
		out.ExitCode = exitErr.ExitStatus()
	case err != nil && exitStatusRE.MatchString(err.Error()):
		// A runtime that reports the exit as an error's text (kwok does)
		// rather than as the exec protocol's status.
		out.ExitCode, _ = strconv.Atoi(exitStatusRE.FindStringSubmatch(err.Error())[1])
	case err != nil:
		return out, fmt.Errorf("exec %q in pod %s: %w", strings.Join(p.Command, " "), pod, err)
	}
	out.JSON = parseJSON(stdout.Bytes())
	return out, nil
}

var exitStatusRE = regexp.MustCompile(`exit status (\d+)\)?$`)

func isPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
