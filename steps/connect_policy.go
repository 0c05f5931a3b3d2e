package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kdrill/kdrill/step"
)

// Whether a denial can be checked here: pods on simulated nodes carry no
// traffic, and a cluster whose network does not enforce NetworkPolicy lets
// everything through whatever the policies say. Before an expected denial
// counts, kdrill finds out once per run, with a probe of its own.

// simulatedNodeAnnotation marks the nodes kwok simulates.
const simulatedNodeAnnotation = "kwok.x-k8s.io/node"

// simulated says why pods on the node cannot carry traffic, or "".
func simulated(ctx context.Context, env *step.Env, node string) string {
	v, err := env.Cluster.Learn("simulated-node/"+node, func() (any, error) {
		n, err := env.Cluster.Typed.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if _, ok := n.Annotations[simulatedNodeAnnotation]; ok {
			return "node " + node + " is simulated (kwok): its pods run no containers and carry no traffic", nil
		}
		return "", nil
	})
	if err != nil {
		return "" // a node kdrill cannot read is probed as a real one
	}
	return v.(string)
}

// policyVerdict is what the probe found.
type policyVerdict struct {
	enforced bool
	reason   string
}

// policyProbePort is where the probe pod listens.
const policyProbePort = 8080

// policyEnforced finds out, once per run, whether the cluster enforces
// NetworkPolicy: in a namespace of its own, a pod listening on a port (the
// source pod's image, which has nc) must be reachable from a second pod,
// then unreachable once a policy denies it all ingress. Both pods go to the
// source pod's node; pick chooses it, only when the run has not found out
// yet. The namespace goes when the probe ends; a run killed
// meanwhile leaves it for kdrill leftovers.
func policyEnforced(ctx context.Context, env *step.Env, pick func() (*corev1.Pod, string, error)) (policyVerdict, error) {
	v, err := env.Cluster.Learn("networkpolicy-enforced", func() (any, error) {
		source, container, err := pick()
		if err != nil {
			return nil, err
		}
		return probePolicy(ctx, env, source, container)
	})
	if err != nil {
		return policyVerdict{}, err
	}
	return v.(policyVerdict), nil
}

func probePolicy(ctx context.Context, env *step.Env, source *corev1.Pod, container string) (policyVerdict, error) {
	image := env.ProbeImage
	if image == "" {
		image = containerImage(source, container)
	}
	if image == "" {
		return policyVerdict{}, fmt.Errorf("NetworkPolicy probe: pod %s has no container %q", source.Name, container)
	}
	ns := "kdrill-netpol-probe-" + rand.String(6)
	pods := env.Cluster.Typed.CoreV1().Pods(ns)
	remove := func(ctx context.Context) (string, error) {
		err := env.Cluster.Typed.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", err
		}
		return "namespace " + ns + " (NetworkPolicy probe)", nil
	}
	env.Created("namespace/"+ns, remove)
	_, err := env.Cluster.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   ns,
		Labels: map[string]string{step.LabelManagedBy: "kdrill", step.LabelScenario: "networkpolicy-probe"},
	}}, metav1.CreateOptions{})
	if err != nil {
		return policyVerdict{}, fmt.Errorf("NetworkPolicy probe: create namespace %s: %w", ns, err)
	}
	defer func() { _, _ = remove(context.WithoutCancel(ctx)) }()
	server := probePod(source, image, "server", []string{"nc", "-l", "-k", "-p", fmt.Sprint(policyProbePort)})
	client := probePod(source, image, "client", []string{"sleep", "3600"})
	for _, p := range []*corev1.Pod{server, client} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return policyVerdict{}, fmt.Errorf("NetworkPolicy probe: create pod %s/%s: %w", ns, p.Name, err)
		}
	}
	ip, err := waitProbePods(ctx, env, ns)
	if err != nil {
		return policyVerdict{}, err
	}
	target := net.JoinHostPort(ip, fmt.Sprint(policyProbePort))
	try := func() (string, string) {
		exec := &PodExec{Namespace: ns, Command: []string{"nc", "-z", "-w", "1", ip, fmt.Sprint(policyProbePort)}}
		res, err := exec.runIn(ctx, env, "client")
		return judgeProbe(res, err)
	}
	// Reachable without a policy, or the probe says nothing.
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		seen, _ := try()
		return seen == connectAllowed, nil
	}); err != nil {
		seen, why := try()
		return policyVerdict{}, fmt.Errorf("NetworkPolicy probe: %s did not accept a connection from the probe client even without a policy (%s: %s): the image %s must serve with nc -l -k -p PORT: choose another with --probe-image", target, seen, why, image)
	}
	deny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-probe"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kdrill.dev/probe": "server"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if _, err := env.Cluster.Typed.NetworkingV1().NetworkPolicies(ns).Create(ctx, deny, metav1.CreateOptions{}); err != nil {
		return policyVerdict{}, fmt.Errorf("NetworkPolicy probe: create the denying policy: %w", err)
	}
	const settle = 15 * time.Second
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, settle, true, func(context.Context) (bool, error) {
		seen, _ := try()
		return seen == connectDenied, nil
	})
	switch {
	case err == nil:
		return policyVerdict{enforced: true}, nil
	case ctx.Err() != nil:
		return policyVerdict{}, ctx.Err()
	}
	return policyVerdict{reason: fmt.Sprintf("this cluster does not enforce NetworkPolicy: a probe pod stayed reachable for %s after a policy denied it all ingress (its network plugin has no policy controller)", settle)}, nil
}

// probePod is a pod of the probe on the source pod's node, with its
// tolerations, running the source's image.
func probePod(source *corev1.Pod, image, role string, command []string) *corev1.Pod {
	grace := int64(0)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: role, Labels: map[string]string{"kdrill.dev/probe": role}},
		Spec: corev1.PodSpec{
			NodeName:                      source.Spec.NodeName,
			Tolerations:                   source.Spec.Tolerations,
			TerminationGracePeriodSeconds: &grace,
			RestartPolicy:                 corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: role, Image: image, Command: command, ImagePullPolicy: corev1.PullIfNotPresent,
			}},
		},
	}
}

// containerImage is the image of the named container, or of the first.
func containerImage(p *corev1.Pod, container string) string {
	for _, c := range p.Spec.Containers {
		if container == "" || c.Name == container {
			return c.Image
		}
	}
	return ""
}

// waitProbePods waits until both probe pods run; it returns the server's
// address.
func waitProbePods(ctx context.Context, env *step.Env, ns string) (string, error) {
	ip := ""
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := env.Cluster.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			last = err
			return false, nil //nolint:nilerr // the retry policy has retried it; poll again within the minute
		}
		running := 0
		for i := range list.Items {
			p := &list.Items[i]
			if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
				return false, fmt.Errorf("probe pod %s ended%s: its image must run nc -l -k -p PORT and sleep (choose one with --probe-image)", p.Name, terminatedReason(p))
			}
			if p.Status.Phase == corev1.PodRunning {
				running++
				if p.Name == "server" {
					ip = p.Status.PodIP
				}
			} else {
				last = fmt.Errorf("pod %s is %s%s", p.Name, p.Status.Phase, waitingReason(p))
			}
		}
		return running == 2 && ip != "", nil
	})
	if err != nil && !wait.Interrupted(err) {
		return "", fmt.Errorf("NetworkPolicy probe: %w", err)
	}
	if err != nil {
		if last == nil {
			last = errors.New("the pods did not start")
		}
		return "", fmt.Errorf("NetworkPolicy probe: the probe pods in %s did not run within a minute: %w", ns, last)
	}
	return ip, nil
}

// terminatedReason is how a pod's first ended container ended, as
// " (REASON: MESSAGE, exit CODE)".
func terminatedReason(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil {
			return fmt.Sprintf(" (%s%s, exit %d)", t.Reason, firstNonEmpty(": "+strings.TrimSpace(t.Message), ""), t.ExitCode)
		}
	}
	return ""
}

func firstNonEmpty(s, otherwise string) string {
	if strings.TrimSpace(strings.TrimPrefix(s, ":")) == "" {
		return otherwise
	}
	return s
}

// withNC is the first of the pods whose container has an nc kdrill can run
// (tried with nc -z on a closed local port), for the probe's image.
func withNC(ctx context.Context, env *step.Env, candidates []corev1.Pod) (*corev1.Pod, error) {
	for i := range candidates {
		p := &candidates[i]
		exec := &PodExec{Namespace: p.Namespace, Command: []string{"nc", "-z", "-w", "1", "127.0.0.1", "1"}}
		res, err := exec.runIn(ctx, env, p.Name)
		if seen, _ := judgeProbe(res, err); seen == connectDenied || seen == connectAllowed {
			return p, nil
		}
	}
	return nil, errors.New("cannot tell whether this cluster enforces NetworkPolicy: none of the pods has nc for kdrill's probe; give --probe-image IMAGE (an image with nc -l -k -p and sleep)")
}

// waitingReason is a pod's first waiting container's reason, as ": REASON".
func waitingReason(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" {
			return ": " + w.Reason
		}
	}
	return ""
}
