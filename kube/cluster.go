// Package kube is kdrill's access to clusters: connecting through a
// kubeconfig, the clients a run uses and the transports around them (the
// request counter, server-side dry runs, outage tracking, the wire guard of
// the safety policy), the Redactor that keeps Secret values out of what a
// run records, and what a cluster's errors mean (InfraError, IsTransient).
// The engine (runner) and the step kinds (steps) use it; it knows nothing of
// scenarios.
package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Connection says how to reach a cluster, the way kubectl's flags do.
type Connection struct {
	Kubeconfig string // empty: $KUBECONFIG, then ~/.kube/config, then in-cluster
	Context    string
	// DryRun makes every write a server-side dry run: the API server
	// validates and admits it (quota included) and stores nothing.
	DryRun bool
}

// Cluster holds the clients a run uses and counts the requests it sends.
type Cluster struct {
	Config    *rest.Config
	Dynamic   dynamic.Interface
	Typed     kubernetes.Interface
	Discovery discovery.CachedDiscoveryInterface
	Mapper    meta.ResettableRESTMapper
	// Server and Context name the cluster in results.
	Server  string
	Context string

	Requests *RequestCounter
	// Redactor hides the values of the Secrets these clients read or write
	// from what kdrill records.
	Redactor *Redactor
	// DryRun says every write is a server-side dry run.
	DryRun bool

	memo   memo
	shared shared
}

// Connect builds clients for the connection. It sends no request.
func Connect(conn Connection) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if conn.Kubeconfig != "" {
		rules.ExplicitPath = conn.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: conn.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, &KubeconfigError{Err: err}
	}
	ctxName := conn.Context
	if raw, err := cc.RawConfig(); err == nil && ctxName == "" {
		ctxName = raw.CurrentContext
	}
	if conn.DryRun {
		dryRun(cfg)
	}
	c, err := NewCluster(cfg, ctxName)
	if err == nil {
		c.DryRun = conn.DryRun
	}
	return c, err
}

// dryRun makes every write the config's clients send a server-side dry
// run. Their bodies are JSON, so the transport can add the dry run to a
// DELETE's options: client-go sends built-in types as protobuf otherwise.
func dryRun(cfg *rest.Config) {
	cfg.ContentType = "application/json"
	cfg.AcceptContentTypes = "application/json"
	cfg.Wrap(dryRunTransport)
}

// dryRunTransport makes every write a server-side dry run, whatever the
// client: dryRun=All in the query, and, for a DELETE, in the DeleteOptions
// of its body too (the API server reads a DELETE's options from the body
// when there is one, and ignores the query then).
func dryRunTransport(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		switch req.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			req = req.Clone(req.Context())
			q := req.URL.Query()
			q.Set("dryRun", metav1.DryRunAll)
			req.URL.RawQuery = q.Encode()
			if req.Method == http.MethodDelete {
				if err := dryRunDeleteBody(req); err != nil {
					return nil, fmt.Errorf("dry run: %w", err)
				}
			}
		}
		return rt.RoundTrip(req)
	})
}

// dryRunDeleteBody sets dryRun: [All] in a DELETE's DeleteOptions body.
func dryRunDeleteBody(req *http.Request) error {
	opts := map[string]any{"kind": "DeleteOptions", "apiVersion": "v1"}
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, &opts); err != nil {
				return fmt.Errorf("cannot read the DeleteOptions of %s: %w", req.URL.Path, err)
			}
		}
	}
	opts["dryRun"] = []string{metav1.DryRunAll}
	data, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", "application/json")
	return nil
}

// NewCluster builds clients from a rest config.
func NewCluster(cfg *rest.Config, contextName string) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "kdrill"
	// kdrill's requests are few and latency-bound; client-side throttling
	// would only add delay to watch-driven steps.
	cfg.QPS, cfg.Burst = 200, 400
	counter := &RequestCounter{counts: map[string]int{}}
	cfg.Wrap(counter.wrap)
	// Every try is counted and followed by the health record; the retry
	// policy sends them.
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return newRetryTransport(rt, &counter.health) })
	// Outermost, so a refused request is neither sent nor counted.
	cfg.Wrap(guardTransport)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	redactor := NewRedactor()
	redactor.AddCredentials(cfg.BearerToken, cfg.Password, cfg.KeyData, cfg.CertData, cfg.BearerTokenFile, cfg.KeyFile)
	return &Cluster{
		Config:    cfg,
		Dynamic:   dyn,
		Typed:     typed,
		Discovery: cached,
		Mapper:    mapper,
		Server:    cfg.Host,
		Context:   contextName,
		Requests:  counter,
		Redactor:  redactor,
	}, nil
}

// PingTimeout bounds the first request of a run: a cluster that refuses
// connections, fails or stalls for that long is an infrastructure error
// (exit 3), not a wait without end.
var PingTimeout = 15 * time.Second

// Ping checks that the API server answers, and returns its version. It
// tries for at most PingTimeout.
func (c *Cluster) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	rc := c.Typed.Discovery().RESTClient()
	if rc == nil || reflect.ValueOf(rc).IsNil() {
		// A clientset without a REST client (client-go's fake) still knows
		// its version.
		v, err := c.Typed.Discovery().ServerVersion()
		if err != nil {
			return "", &InfraError{Err: err}
		}
		return v.GitVersion, nil
	}
	body, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", &InfraError{Err: fmt.Errorf("cannot reach the cluster at %s: %w", c.Server, err)}
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", &InfraError{Err: fmt.Errorf("cannot reach the cluster at %s: %w", c.Server, err)}
	}
	return v.GitVersion, nil
}

// Mapping finds the resource for a kind. apiVersion may be empty, in which
// case the kind (or a plural, singular or short name such as "deploy") is
// looked up across all groups, preferring the core and built-in groups.
func (c *Cluster) Mapping(apiVersion, kind string) (*meta.RESTMapping, error) {
	m, err := c.mapping(apiVersion, kind)
	if err != nil && meta.IsNoMatchError(err) {
		// A custom resource may have been created since discovery was cached.
		c.Mapper.Reset()
		m, err = c.mapping(apiVersion, kind)
	}
	return m, err
}

func (c *Cluster) mapping(apiVersion, kind string) (*meta.RESTMapping, error) {
	if apiVersion != "" {
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return nil, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
		}
		m, err := c.Mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
		if err != nil {
			return nil, fmt.Errorf("kind %s in %s is not served by this cluster: %w", kind, apiVersion, err)
		}
		return m, nil
	}
	expander := restmapper.NewShortcutExpander(c.Mapper, c.Discovery, nil)
	gvr, err := expander.ResourceFor(schema.GroupVersionResource{Resource: strings.ToLower(kind)})
	if err != nil {
		return nil, fmt.Errorf("kind %s is not served by this cluster: %w", kind, err)
	}
	gvk, err := expander.KindFor(gvr)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", kind, err)
	}
	return c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}

// Resource returns the client for a mapping in a namespace (ignored for
// cluster-scoped resources).
// Secrets that pass through it are remembered, so their values never reach
// results, logs or reports.
func (c *Cluster) Resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	var client dynamic.ResourceInterface = c.Dynamic.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		client = c.Dynamic.Resource(m.Resource).Namespace(namespace)
	}
	if m.Resource.Group == "" && m.Resource.Resource == "secrets" && c.Redactor != nil {
		client = secretsClient{ResourceInterface: client, r: c.Redactor}
	}
	return client
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// InfraError is a failure of the cluster or the connection to it rather
// than of the scenario's expectations; it makes the run exit 3.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

// IsInfra reports whether err comes from an unreachable or failing API
// server: an error marked so, a network error, or one IsTransient knows
// (429, 5xx, a refused, reset or cut connection).
func IsInfra(err error) bool {
	var ie *InfraError
	var netErr *net.OpError
	return errors.As(err, &ie) || errors.As(err, &netErr) || IsTransient(err)
}
