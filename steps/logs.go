package steps

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// keptLines is how many of the latest log lines a logs step keeps for its
// expression and its messages.
const keptLines = 1000

// Logs follows container logs through the API server (pods/log with
// follow, not polling) until an expression over lines holds: the lines of
// one pod, or of every pod a selector matches, in the order they arrive.
// It fails at the step's timeout with the last lines it saw. With previous
// it reads the last terminated container's logs instead.
//
// Example:
//
//	steps:
//	- name: the app says it is ready
//	  logs: {selector: app=web, expr: 'any(lines, {# contains "ready"})'}
type Logs struct {
	// Pod names one pod.
	Pod string `json:"pod,omitempty"`
	// Selector picks the pods by labels; every matching pod is followed.
	Selector string `json:"selector,omitempty"`
	// Namespace of the pods; defaults to the scenario's.
	Namespace string `json:"namespace,omitempty"`
	// Container to read; default the pod's first.
	Container string `json:"container,omitempty" domain:"dns1123Label"`
	// Previous reads the previous, terminated container's logs.
	Previous bool `json:"previous,omitempty"`
	// Expr must become true over lines, the log lines seen so far (the
	// latest 1000).
	Expr expression.Expr `json:"expr"`
}

// Default does nothing: the target and the expression are required.
func (l *Logs) Default() {}

// Validate checks the target and the expression.
func (l *Logs) Validate() error {
	var errs scenario.FieldErrors
	validatePodOrSelector(&errs, l.Pod, l.Selector)
	if l.Expr.IsZero() {
		errs.Add("expr", `required, such as any(lines, {# contains "ready"})`)
	}
	return errs.Err()
}

// validatePodOrSelector checks that a step names one pod or a selector.
func validatePodOrSelector(errs *scenario.FieldErrors, pod, selector string) {
	switch {
	case pod == "" && selector == "":
		errs.Add("", "give pod or selector")
	case pod != "" && selector != "":
		errs.Add("selector", "give pod or selector, not both")
	}
}

// ExprNames adds lines.
func (l *Logs) ExprNames() map[string]any { return map[string]any{"lines": []any{}} }

// Subjects names the pod, for the diagnostics of a failure.
func (l *Logs) Subjects() []step.Subject {
	if l.Pod == "" {
		return nil
	}
	return []step.Subject{{Kind: "Pod", Name: l.Pod, Namespace: l.Namespace}}
}

// Run follows the logs until the expression holds.
func (l *Logs) Run(ctx context.Context, env *step.Env) (any, error) {
	ns := l.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	pods, err := l.pods(ctx, env, ns)
	if err != nil {
		return nil, err
	}
	seen := &logLines{changed: make(chan struct{}, 1)}
	// Stop the followers first, then wait for them (defers run last first).
	var wg sync.WaitGroup
	defer wg.Wait()
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, pod := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.follow(fctx, env, ns, pod, seen)
		}()
	}
	out := &model.LogsOutput{Pods: pods}
	for {
		lines := seen.snapshot()
		ok, values, evalErr := l.Expr.Eval(env.ExprEnv(map[string]any{"lines": lines}))
		env.Observe(l.Expr.Source, values)
		out.Lines, out.Last = len(lines), lastOf(lines, 20)
		if ok && evalErr == nil {
			return out, nil
		}
		select {
		case <-seen.changed:
		case <-ctx.Done():
			last := "no line yet"
			if len(lines) > 0 {
				last = strings.Join(lastOf(lines, 5), " | ")
			}
			return out, &AssertionError{Msg: fmt.Sprintf("expected %s over the logs of %s; it did not hold; last lines: %s", l.Expr.Source, strings.Join(pods, ", "), last)}
		}
	}
}

// pods lists the pods to follow.
func (l *Logs) pods(ctx context.Context, env *step.Env, ns string) ([]string, error) {
	if l.Pod != "" {
		return []string{l.Pod}, nil
	}
	list, err := env.Cluster.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: l.Selector})
	if err != nil {
		return nil, fmt.Errorf("list pods -l %s: %w", l.Selector, err)
	}
	var out []string
	for _, p := range list.Items {
		if p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no running pod matches -l %s", l.Selector)
	}
	return out, nil
}

// follow streams one pod's logs into seen. A stream that ends (a runtime
// that does not follow, a restart) is opened again after a second, and
// the lines it gives replace that pod's.
func (l *Logs) follow(ctx context.Context, env *step.Env, ns, pod string, seen *logLines) {
	for ctx.Err() == nil {
		req := env.Cluster.Typed.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: l.Container, Follow: !l.Previous, Previous: l.Previous})
		stream, err := req.Stream(ctx)
		if err == nil {
			seen.restart(pod)
			sc := bufio.NewScanner(stream)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				seen.add(pod, sc.Text())
			}
			_ = stream.Close()
		}
		t := env.Clock.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-t.C():
		}
		t.Stop()
	}
}

// logLines are the lines seen so far, per pod, in arrival order.
type logLines struct {
	mu      sync.Mutex
	order   []string // pod of each line
	lines   []string
	changed chan struct{}
}

func (s *logLines) add(pod, line string) {
	s.mu.Lock()
	s.order, s.lines = append(s.order, pod), append(s.lines, line)
	if len(s.lines) > keptLines {
		s.order, s.lines = s.order[len(s.order)-keptLines:], s.lines[len(s.lines)-keptLines:]
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// restart forgets a pod's lines: a stream opened again gives them anew.
func (s *logLines) restart(pod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var order, lines []string
	for i, p := range s.order {
		if p != pod {
			order, lines = append(order, p), append(lines, s.lines[i])
		}
	}
	s.order, s.lines = order, lines
}

func (s *logLines) snapshot() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]any, len(s.lines))
	for i, l := range s.lines {
		out[i] = l
	}
	return out
}

func lastOf(lines []any, n int) []string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _ = l.(string)
	}
	return out
}
