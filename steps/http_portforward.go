package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// PortForwardTarget is a pod port reached as kubectl port-forward reaches
// it: a Service's (svc/NAME) or one pod's.
type PortForwardTarget struct {
	// Service whose port to forward: one of its Ready pods, when the step
	// starts, on the Service port's targetPort.
	Service string `json:"service,omitempty"`
	// Pod whose port to forward, instead of a Service.
	Pod string `json:"pod,omitempty"`
	// Namespace of the Service or pod (default: the scenario's).
	Namespace string `json:"namespace,omitempty"`
	// Port is the Service's port (name or number), or the pod's container
	// port (name or number); default: the only one.
	Port intstr.IntOrString `json:"port,omitempty" domain:"port"`
	// Path and query to request (default /).
	Path string `json:"path,omitempty"`
}

func (p *PortForwardTarget) validate(errs *scenario.FieldErrors) {
	switch {
	case p.Service == "" && p.Pod == "":
		errs.Add("portForward", "give a service or a pod")
	case p.Service != "" && p.Pod != "":
		errs.Add("portForward.pod", "give a service or a pod, not both")
	}
	if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
		errs.Add("portForward.path", "must start with /")
	}
}

func (p *PortForwardTarget) String() string {
	what := "pod/" + p.Pod
	if p.Service != "" {
		what = "svc/" + p.Service
	}
	if p.Port.String() != "0" && p.Port.String() != "" {
		what += ":" + p.Port.String()
	}
	return "port-forward " + what + p.Path
}

// forward finds the pod and port, starts forwarding a local port on the
// loopback to it, and returns the URL there; close stops the forward.
func (p *PortForwardTarget) forward(ctx context.Context, env *step.Env) (*target, error) {
	ns := p.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	pod, port, err := p.resolve(ctx, env, ns)
	if err != nil {
		return nil, err
	}
	cfg := env.Cluster.Config
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, err
	}
	u := env.Cluster.Typed.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	// WebSocket first, as kubectl does, SPDY when the server cannot upgrade.
	if ws, err := portforward.NewSPDYOverWebsocketDialer(u, cfg); err == nil {
		dialer = portforward.NewFallbackDialer(ws, dialer, func(err error) bool {
			return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
		})
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	var errOut strings.Builder
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, &errOut)
	if err != nil {
		return nil, err
	}
	failed := make(chan error, 1)
	go func() { failed <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-failed:
		return nil, fmt.Errorf("port-forward to pod %s port %d: %w %s", pod, port, err, strings.TrimSpace(errOut.String()))
	case <-ctx.Done():
		close(stop)
		return nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err == nil && len(ports) == 0 {
		err = errors.New("the forwarder listens on none")
	}
	if err != nil {
		close(stop)
		return nil, fmt.Errorf("port-forward to pod %s: no local port: %w", pod, err)
	}
	env.Log.Debug("port-forward", "pod", pod, "port", port, "local", ports[0].Local)
	path := p.Path
	if path == "" {
		path = "/"
	}
	return &target{
		url:    fmt.Sprintf("http://127.0.0.1:%d%s", ports[0].Local, path),
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		close:  func() { close(stop) },
	}, nil
}

// resolve finds the pod and its port number: the pod named, or the first
// Ready pod (by name) the Service selects, and the Service port's
// targetPort there.
func (p *PortForwardTarget) resolve(ctx context.Context, env *step.Env, ns string) (string, int32, error) {
	if p.Pod != "" {
		pod, err := env.Cluster.Typed.CoreV1().Pods(ns).Get(ctx, p.Pod, metav1.GetOptions{})
		if err != nil {
			return "", 0, fmt.Errorf("read pod %s: %w", p.Pod, err)
		}
		port, err := containerPort(pod, p.Port)
		return pod.Name, port, err
	}
	svc, err := env.Cluster.Typed.CoreV1().Services(ns).Get(ctx, p.Service, metav1.GetOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("read service %s: %w", p.Service, err)
	}
	sp, err := servicePort(svc, p.Port)
	if err != nil {
		return "", 0, err
	}
	if len(svc.Spec.Selector) == 0 {
		return "", 0, fmt.Errorf("service %s has no selector, so no pod to forward to", svc.Name)
	}
	list, err := env.Cluster.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", 0, fmt.Errorf("list the pods of service %s: %w", svc.Name, err)
	}
	pods := list.Items
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for i := range pods {
		if pods[i].DeletionTimestamp != nil || !isPodReady(&pods[i]) {
			continue
		}
		port, err := containerPort(&pods[i], sp.TargetPort)
		return pods[i].Name, port, err
	}
	return "", 0, fmt.Errorf("service %s selects no Ready pod (%d pods match %s)", svc.Name, len(pods), labels.SelectorFromSet(svc.Spec.Selector))
}

// servicePort finds a Service's port by name or number, or its only one.
func servicePort(svc *corev1.Service, want intstr.IntOrString) (corev1.ServicePort, error) {
	for _, sp := range svc.Spec.Ports {
		if (want.Type == intstr.String && want.StrVal != "" && sp.Name == want.StrVal) || (want.Type == intstr.Int && want.IntVal != 0 && sp.Port == want.IntVal) {
			return sp, nil
		}
	}
	if want.String() == "0" || want.String() == "" {
		if len(svc.Spec.Ports) == 1 {
			return svc.Spec.Ports[0], nil
		}
		return corev1.ServicePort{}, fmt.Errorf("service %s has %d ports: name one with port", svc.Name, len(svc.Spec.Ports))
	}
	return corev1.ServicePort{}, fmt.Errorf("service %s has no port %s", svc.Name, want.String())
}

// containerPort turns a port (a number, or a container port's name) into
// the pod's port number; with none given, the pod's only declared port.
func containerPort(pod *corev1.Pod, want intstr.IntOrString) (int32, error) {
	var declared []corev1.ContainerPort
	for _, c := range pod.Spec.Containers {
		declared = append(declared, c.Ports...)
	}
	switch {
	case want.Type == intstr.Int && want.IntVal != 0:
		return want.IntVal, nil
	case want.Type == intstr.String && want.StrVal != "":
		for _, cp := range declared {
			if cp.Name == want.StrVal {
				return cp.ContainerPort, nil
			}
		}
		return 0, fmt.Errorf("pod %s has no container port named %q", pod.Name, want.StrVal)
	case len(declared) == 1:
		return declared[0].ContainerPort, nil
	}
	return 0, fmt.Errorf("pod %s declares %d container ports: name one with port", pod.Name, len(declared))
}
