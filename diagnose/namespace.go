package diagnose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
)

// namespace collects one namespace: workloads, pods, events, Services and
// logs, and the causes they show.
func (c *collector) namespace(ctx context.Context, ns string) {
	cl := c.req.Client
	var text bytes.Buffer
	pods, err := cl.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.unreachable(ns, err)
		return
	}
	events, err := cl.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip("events of %s: %v", ns, err)
		events = &corev1.EventList{}
	}
	c.workloads(ctx, ns, &text)
	c.pods(ns, pods.Items, &text)
	c.eventCauses(events.Items)
	c.services(ctx, ns, pods.Items, &text)
	describeEvents(&text, events.Items)
	c.file(ns+"-describe.txt", text.Bytes())
	c.logs(ctx, pods.Items)
}

// unreachable records a namespace that could not be read: when the API
// server is down, that is the likeliest cause of all.
func (c *collector) unreachable(ns string, err error) {
	msg := err.Error()
	// By the error's class (a refused or cut connection, a timeout, the
	// server's 5xx or 429, kdrill's own bound running out), not its text.
	if kube.IsInfra(err) || kube.IsTransient(err) || errors.Is(err, context.DeadlineExceeded) {
		c.cause(rankControlPlane, "the API server was unreachable while kdrill collected diagnostics: %s", message.FirstLine(msg))
	}
	c.skip("namespace %s: %s", ns, message.FirstLine(msg))
}

// workloads describes the namespace's Deployments, ReplicaSets,
// StatefulSets, DaemonSets and Jobs, and notes a rollout past its deadline.
func (c *collector) workloads(ctx context.Context, ns string, w io.Writer) {
	cl := c.req.Client
	if list, err := cl.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range list.Items {
			fmt.Fprintf(w, "Deployment %s: %d desired, %d updated, %d ready, %d available\n", d.Name, ptrOr(d.Spec.Replicas, 1), d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas)
			for _, cond := range d.Status.Conditions {
				fmt.Fprintf(w, "  %s=%s %s: %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
				if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
					c.cause(rankSymptom, "Deployment %s is past its progress deadline: %s", d.Name, cond.Message)
				}
			}
		}
	} else {
		c.skip("Deployments of %s: %v", ns, err)
	}
	if list, err := cl.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, rs := range list.Items {
			fmt.Fprintf(w, "ReplicaSet %s: %d desired, %d ready, %d available\n", rs.Name, ptrOr(rs.Spec.Replicas, 1), rs.Status.ReadyReplicas, rs.Status.AvailableReplicas)
			for _, cond := range rs.Status.Conditions {
				fmt.Fprintf(w, "  %s=%s %s: %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
			}
		}
	}
	if list, err := cl.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, s := range list.Items {
			fmt.Fprintf(w, "StatefulSet %s: %d desired, %d ready, %d updated\n", s.Name, ptrOr(s.Spec.Replicas, 1), s.Status.ReadyReplicas, s.Status.UpdatedReplicas)
		}
	}
	if list, err := cl.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range list.Items {
			fmt.Fprintf(w, "DaemonSet %s: %d desired, %d available\n", d.Name, d.Status.DesiredNumberScheduled, d.Status.NumberAvailable)
		}
	}
	if list, err := cl.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, j := range list.Items {
			fmt.Fprintf(w, "Job %s: %d active, %d succeeded, %d failed\n", j.Name, j.Status.Active, j.Status.Succeeded, j.Status.Failed)
			for _, cond := range j.Status.Conditions {
				if cond.Type == "Failed" && cond.Status == corev1.ConditionTrue {
					c.cause(rankCause, "Job %s failed: %s", j.Name, cond.Message)
				}
			}
		}
	}
}

// pods describes each pod and notes why one is not running or not ready.
func (c *collector) pods(ns string, pods []corev1.Pod, w io.Writer) {
	for i := range pods {
		p := &pods[i]
		sum := summarize(p)
		c.out.Pods = append(c.out.Pods, sum)
		fmt.Fprintf(w, "Pod %s: %s on %s, ready %v, restarts %d\n", p.Name, p.Status.Phase, orNone(p.Spec.NodeName), sum.Ready, sum.Restarts)
		for _, cond := range p.Status.Conditions {
			fmt.Fprintf(w, "  %s=%s %s %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			fmt.Fprintf(w, "  container %s: %s\n", cs.Name, containerState(cs))
		}
		c.podCauses(p)
	}
}

// podCauses derives what keeps a pod from running or being ready.
func (c *collector) podCauses(p *corev1.Pod) {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
		return
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
			c.cause(rankCause, "pod %s is Pending: %s", p.Name, cond.Message)
			return
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting == nil {
			continue
		}
		switch cs.State.Waiting.Reason {
		case "ImagePullBackOff", "ErrImagePull", "InvalidImageName":
			c.cause(rankCause, "container %s of pod %s cannot pull image %s: %s", cs.Name, p.Name, cs.Image, orNone(cs.State.Waiting.Message))
			return
		case "CrashLoopBackOff":
			msg := fmt.Sprintf("container %s of pod %s is crash-looping (%d restarts)", cs.Name, p.Name, cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf("; it last exited %d (%s)", t.ExitCode, t.Reason)
			}
			c.crashes[p.Name+"/"+cs.Name] = len(c.out.Causes)
			c.cause(rankCause, "%s", msg)
			return
		case "CreateContainerConfigError", "CreateContainerError":
			c.cause(rankCause, "container %s of pod %s cannot start: %s", cs.Name, p.Name, cs.State.Waiting.Message)
			return
		}
	}
	if p.Status.Phase == corev1.PodRunning && !podReady(p) {
		c.cause(rankSymptom, "pod %s runs but is not Ready: its readiness checks do not pass", p.Name)
	}
}

// eventCauses turns the Warning events a person acts on into causes: a
// controller that cannot create pods (a quota's own message), a failed
// scheduling, a failing probe.
func (c *collector) eventCauses(events []corev1.Event) {
	sort.SliceStable(events, func(i, j int) bool { return eventTime(events[i]).Time.Before(eventTime(events[j]).Time) })
	// A controller repeats the same refusal for every pod it tries: one
	// line per object and reason, the latest.
	type key struct{ obj, reason string }
	latest := map[key]string{}
	var order []key
	for _, e := range events {
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		k := key{e.InvolvedObject.Kind + " " + e.InvolvedObject.Name, e.Reason}
		if _, seen := latest[k]; !seen {
			order = append(order, k)
		}
		msg := strings.TrimPrefix(e.Message, "(combined from similar events): ")
		latest[k] = strings.TrimPrefix(msg, "Error creating: ")
	}
	for _, k := range order {
		msg := latest[k]
		switch k.reason {
		case "FailedCreate":
			c.cause(rankCause, "%s cannot create pods: %s", k.obj, msg)
		case "FailedScheduling":
			c.cause(rankCause, "%s cannot be scheduled: %s", k.obj, msg)
		case "Unhealthy":
			c.cause(rankSymptom, "%s: %s", k.obj, msg)
		case "FailedMount", "FailedAttachVolume":
			c.cause(rankCause, "%s cannot mount a volume: %s", k.obj, msg)
		}
	}
}

// services notes a Service whose selector matches no ready pod.
func (c *collector) services(ctx context.Context, ns string, pods []corev1.Pod, w io.Writer) {
	list, err := c.req.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip("Services of %s: %v", ns, err)
		return
	}
	for _, svc := range list.Items {
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		matched, ready := 0, 0
		for i := range pods {
			if sel.Matches(labels.Set(pods[i].Labels)) && pods[i].DeletionTimestamp == nil {
				matched++
				if podReady(&pods[i]) {
					ready++
				}
			}
		}
		endpoints := c.readyEndpoints(ctx, ns, svc.Name)
		fmt.Fprintf(w, "Service %s: selector %s, %d pods match, %d ready, ready endpoints: %s\n", svc.Name, sel, matched, ready, orNone(strings.Join(endpoints, ", ")))
		if ready == 0 {
			c.cause(rankConsequence, "Service %s selects no ready pod (selector %s: %d pods match, none Ready)", svc.Name, sel, matched)
		}
	}
}

// readyEndpoints names the pods behind a Service's ready endpoints.
func (c *collector) readyEndpoints(ctx context.Context, ns, service string) []string {
	list, err := c.req.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready && e.TargetRef != nil {
				out = append(out, e.TargetRef.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func describeEvents(w io.Writer, events []corev1.Event) {
	if len(events) == 0 {
		return
	}
	fmt.Fprintln(w, "Events:")
	for _, e := range events {
		fmt.Fprintf(w, "  %s %s %s %s/%s: %s\n", eventTime(e).UTC().Format("15:04:05"), e.Type, e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
	}
}

func summarize(p *corev1.Pod) model.PodSummary {
	sum := model.PodSummary{Namespace: p.Namespace, Name: p.Name, Phase: string(p.Status.Phase), Ready: podReady(p), Node: p.Spec.NodeName}
	for _, cs := range p.Status.ContainerStatuses {
		sum.Restarts += cs.RestartCount
		if cs.State.Waiting != nil && sum.Reason == "" {
			sum.Reason = cs.State.Waiting.Reason
		}
	}
	for _, cond := range p.Status.Conditions {
		if cond.Status == corev1.ConditionFalse && sum.Reason == "" && cond.Reason != "" {
			sum.Reason = cond.Reason
		}
	}
	return sum
}

func containerState(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return fmt.Sprintf("waiting: %s %s (restarts %d)", cs.State.Waiting.Reason, cs.State.Waiting.Message, cs.RestartCount)
	case cs.State.Terminated != nil:
		return fmt.Sprintf("terminated: %s, exit %d (restarts %d)", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode, cs.RestartCount)
	case cs.State.Running != nil:
		return fmt.Sprintf("running since %s, ready %v (restarts %d)", cs.State.Running.StartedAt.UTC().Format("15:04:05"), cs.Ready, cs.RestartCount)
	}
	return "unknown"
}

func podReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func eventTime(e corev1.Event) metav1.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp
	case !e.EventTime.IsZero():
		return metav1.Time{Time: e.EventTime.Time}
	}
	return e.CreationTimestamp
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
