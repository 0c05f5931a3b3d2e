package steps

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/step"
)

// Where a connect step's connections start and end, and how each is tried
// and judged.

func namespaceOr(ns string, env *step.Env) string {
	if ns != "" {
		return ns
	}
	return env.Namespace
}

// sources lists the Running pods the selector matches, by name.
func (c *Connect) sources(ctx context.Context, env *step.Env, from *ConnectFrom) ([]corev1.Pod, error) {
	ns := namespaceOr(from.Namespace, env)
	list, err := env.Cluster.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: from.Selector})
	if err != nil {
		return nil, fmt.Errorf("list pods -l %s: %w", from.Selector, err)
	}
	var pods []corev1.Pod
	for i := range list.Items {
		if p := &list.Items[i]; p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			pods = append(pods, *p)
		}
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("no Running pod to connect from: -l %s matches %d pods in %s, none Running", from.Selector, len(list.Items), ns)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods, nil
}

// targets resolves the destination: a Service's cluster IP and port, the
// Running pods' IPs, or the host as given.
func (c *Connect) targets(ctx context.Context, env *step.Env, to *ConnectTo) ([]connectTarget, error) {
	ns := namespaceOr(to.Namespace, env)
	port := strconv.Itoa(to.Port)
	switch {
	case to.Service != "":
		svc, err := env.Cluster.Typed.CoreV1().Services(ns).Get(ctx, to.Service, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("no Service %s in namespace %s", to.Service, ns)
		}
		if err != nil {
			return nil, err
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return nil, fmt.Errorf("the Service %s is headless (no cluster IP): name its pods with to.selector instead", to.Service)
		}
		var ports []string
		found := false
		for _, p := range svc.Spec.Ports {
			ports = append(ports, strconv.Itoa(int(p.Port)))
			found = found || int(p.Port) == to.Port
		}
		switch {
		case to.Port == 0 && len(svc.Spec.Ports) == 1:
			port = ports[0]
		case to.Port == 0:
			return nil, fmt.Errorf("the Service %s has ports %s: give to.port", to.Service, strings.Join(ports, ", "))
		case !found:
			return nil, fmt.Errorf("the Service %s has no port %d; its ports: %s", to.Service, to.Port, strings.Join(ports, ", "))
		}
		return []connectTarget{{name: "service " + to.Service + ":" + port, address: net.JoinHostPort(svc.Spec.ClusterIP, port)}}, nil
	case to.Selector != "":
		list, err := env.Cluster.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: to.Selector})
		if err != nil {
			return nil, fmt.Errorf("list pods -l %s: %w", to.Selector, err)
		}
		var out []connectTarget
		for i := range list.Items {
			if p := &list.Items[i]; p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				out = append(out, connectTarget{name: "pod " + p.Name + ":" + port, address: net.JoinHostPort(p.Status.PodIP, port)})
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no Running pod to connect to: -l %s matches %d pods in %s, none Running with an address", to.Selector, len(list.Items), ns)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out, nil
	}
	return []connectTarget{{name: "host " + net.JoinHostPort(to.Host, port), address: net.JoinHostPort(to.Host, port)}}, nil
}

// parallelProbes is how many probes run at once: each is an exec through
// the API server into a container, mostly waiting.
const parallelProbes = 8

// probeAll probes every source pod to every destination, a few at a time,
// and returns the probes in order (source by source).
func (c *Connect) probeAll(ctx context.Context, env *step.Env, from *ConnectFrom, pods []string, to []connectTarget) []model.ConnectProbe {
	probes := make([]model.ConnectProbe, len(pods)*len(to))
	if from.DebugImage != "" {
		// One debug container per source pod, for all its probes.
		containers := make([]string, len(pods))
		for i, pod := range pods {
			name, err := debugContainer(ctx, env, namespaceOr(from.Namespace, env), pod, from.DebugImage)
			if err != nil {
				for j, t := range to {
					probes[i*len(to)+j] = model.ConnectProbe{From: pod, Target: t.name, Address: t.address, Observed: connectError, Reason: err.Error()}
				}
			}
			containers[i] = name
		}
		from = &ConnectFrom{Selector: from.Selector, Namespace: from.Namespace, debugContainers: map[string]string{}}
		for i, pod := range pods {
			from.debugContainers[pod] = containers[i]
		}
	}
	slots := make(chan struct{}, parallelProbes)
	var wg sync.WaitGroup
	for i, pod := range pods {
		for j, t := range to {
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				if from.debugContainers != nil && from.debugContainers[pod] == "" {
					return // its debug container did not start: said above
				}
				probes[i*len(to)+j] = c.probe(ctx, env, from, pod, t)
			}()
		}
	}
	wg.Wait()
	return probes
}

// probe runs nc -z in the source pod and says what it saw.
func (c *Connect) probe(ctx context.Context, env *step.Env, from *ConnectFrom, pod string, t connectTarget) model.ConnectProbe {
	host, port, _ := net.SplitHostPort(t.address)
	seconds := strconv.Itoa(max(1, int(c.Timeout.Seconds()+0.5)))
	container := from.Container
	if name := from.debugContainers[pod]; name != "" {
		container = name
	}
	exec := &PodExec{Namespace: from.Namespace, Container: container, Command: []string{"nc", "-z", "-w", seconds, host, port}}
	p := model.ConnectProbe{From: pod, Target: t.name, Address: t.address}
	start := time.Now()
	res, err := exec.runIn(ctx, env, pod)
	p.Seconds = time.Since(start).Seconds()
	p.Observed, p.Reason = judgeProbe(res, err)
	return p
}

// judgeProbe reads nc's exit and words: accepted, refused, timed out or
// unreachable are what the network did; anything else is an error.
func judgeProbe(res *model.ExecOutput, err error) (observed, reason string) {
	if err == nil && res.ExitCode == 0 {
		return connectAllowed, ""
	}
	text := ""
	if res != nil {
		text = strings.ToLower(res.Stderr + " " + res.Stdout)
	}
	if err != nil {
		text += " " + strings.ToLower(err.Error())
	}
	switch {
	case strings.Contains(text, "executable file not found") || strings.Contains(text, "applet not found") ||
		strings.Contains(text, "no such file or directory") || res != nil && (res.ExitCode == 126 || res.ExitCode == 127):
		return connectError, "the source pod has no nc that takes -z (connect runs nc -z -w SECONDS HOST PORT in it): use an image with one, such as kdrill.local/toolbox, or probe from a debug container (from.debugImage)"
	case strings.Contains(text, "refused"):
		return connectDenied, "refused"
	case strings.Contains(text, "timed out") || strings.Contains(text, "timeout"):
		return connectDenied, "timed out"
	case strings.Contains(text, "no route to host") || strings.Contains(text, "unreachable"):
		return connectDenied, "no route to host"
	}
	if err != nil {
		return connectError, "the probe could not run: " + err.Error()
	}
	return connectError, firstLine(strings.TrimSpace(res.Stderr + res.Stdout))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if line == "" {
		return "nc exited without saying why"
	}
	return line
}
