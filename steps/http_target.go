package steps

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// ServiceProxy names a Service port and a path to request through the API
// server's proxy (/api/v1/namespaces/NS/services/SCHEME:NAME:PORT/proxy/PATH).
type ServiceProxy struct {
	// Name of the Service.
	Name string `json:"name"`
	// Namespace of the Service (default: the scenario's namespace).
	Namespace string `json:"namespace,omitempty"`
	// Port is the Service port's name or number (default: its only port,
	// found when the step starts).
	Port intstr.IntOrString `json:"port,omitempty" domain:"port"`
	// Scheme the API server speaks to the pods: http (default) or https.
	Scheme string `json:"scheme,omitempty" enum:"http,https"`
	// Path and query to request (default /).
	Path string `json:"path,omitempty"`
}

// isHTTPMethod reports whether m is an HTTP method token: upper-case
// letters as the standard methods are, or any other token characters.
func isHTTPMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		alnum := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", r) {
			return false
		}
	}
	return true
}

func (s *ServiceProxy) validate(errs *scenario.FieldErrors) {
	if s.Name == "" {
		errs.Add("service.name", "required")
	}
	if s.Scheme != "" && s.Scheme != "http" && s.Scheme != "https" {
		errs.Add("service.scheme", "must be http or https, not %q", s.Scheme)
	}
	if s.Path != "" && !strings.HasPrefix(s.Path, "/") {
		errs.Add("service.path", "must start with /")
	}
}

// target is where the step sends its requests, and with which client.
type target struct {
	url    string
	client *http.Client
	// close ends a port-forward.
	close func()
}

// target resolves the URL, or the Service proxy URL and the API server's
// authenticated client.
func (h *HTTP) target(ctx context.Context, env *step.Env) (*target, error) {
	if h.PortForward != nil {
		return h.PortForward.forward(ctx, env)
	}
	if h.Service == nil {
		return &target{url: h.URL, client: http.DefaultClient}, nil
	}
	s := h.Service
	ns := s.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	port := ""
	if s.Port.IntVal != 0 || s.Port.StrVal != "" {
		port = s.Port.String()
	}
	if port == "" {
		// The API server picks the port named "" when none is given; a
		// Service with one named port should work without naming it.
		svc, err := env.Cluster.Typed.CoreV1().Services(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("read service %s: %w", s.Name, err)
		}
		if err == nil && len(svc.Spec.Ports) == 1 {
			port = svc.Spec.Ports[0].Name
		}
	}
	name := s.Name // [scheme:]name[:port], as the API server reads it
	switch {
	case s.Scheme != "":
		name = s.Scheme + ":" + s.Name + ":" + port
	case port != "":
		name = s.Name + ":" + port
	}
	path, query, _ := strings.Cut(s.Path, "?")
	u := env.Cluster.Typed.CoreV1().RESTClient().Get().Namespace(ns).Resource("services").Name(name).SubResource("proxy").Suffix(path).URL()
	u.RawQuery = query
	if path == "" || strings.HasSuffix(path, "/") {
		u.Path += "/"
	}
	client, err := rest.HTTPClientFor(env.Cluster.Config)
	if err != nil {
		return nil, fmt.Errorf("client for the service proxy: %w", err)
	}
	return &target{url: u.String(), client: client}, nil
}

// where names the request's destination in messages.
func (h *HTTP) where() string {
	if pf := h.PortForward; pf != nil {
		return pf.String()
	}
	if h.Service == nil {
		return h.URL
	}
	return "service " + h.Service.Name + h.Service.Path
}
