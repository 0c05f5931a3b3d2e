package testcluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kdrill/kdrill/kube"
)

// Proxy stands between kdrill and the local cluster's API server and
// injects faults: failed writes, and outages in which it refuses every
// connection and cuts the open ones (watches included). It speaks plain
// HTTP on loopback and forwards with the local cluster's credentials.
type Proxy struct {
	URL string

	t      testing.TB
	addr   string
	server *http.Server
	target *url.URL
	rt     http.RoundTripper

	mu         sync.Mutex
	lis        net.Listener
	conns      map[net.Conn]bool
	failWrites map[string]int // by method: how many more to fail
	failAfter  map[string]int // by method: how many more to forward and then fail
	failStatus map[string]int // by method: the status injected
	stalled    chan struct{}  // non-nil: requests wait for it, unanswered
	requests   map[string]int // by method, as received
	noise      noise
}

// StartProxy starts a proxy in front of the local cluster; it stops when
// the test ends.
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	c := Connect(t)
	target, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rest.TransportFor(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: target, rt: rt, conns: map[net.Conn]bool{}, failWrites: map[string]int{}, failAfter: map[string]int{}, failStatus: map[string]int{}, requests: map[string]int{}}
	p.server = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(conn net.Conn, state http.ConnState) {
			p.mu.Lock()
			defer p.mu.Unlock()
			switch state {
			case http.StateNew:
				p.conns[conn] = true
			case http.StateClosed, http.StateHijacked:
				delete(p.conns, conn)
			}
		},
	}
	lis, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = lis.Addr().String()
	p.URL = "http://" + p.addr
	p.serve(lis)
	t.Cleanup(func() { _ = p.server.Close() })
	return p
}

func (p *Proxy) serve(lis net.Listener) {
	p.mu.Lock()
	p.lis = lis
	p.mu.Unlock()
	go func() { _ = p.server.Serve(lis) }()
}

// ServeHTTP forwards a request, unless a fault is due.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests[r.Method]++
	if p.noise.only != "" && !strings.Contains(r.URL.Path, p.noise.only) {
		p.mu.Unlock()
		p.forward(w, r, false)
		return
	}
	fail := p.failWrites[r.Method] > 0
	if fail {
		p.failWrites[r.Method]--
	}
	status, stalled := p.failStatus[r.Method], p.stalled
	p.mu.Unlock()
	if stalled != nil {
		select { // a listener that never answers
		case <-stalled:
		case <-r.Context().Done():
			return
		}
	}
	if fail {
		injected(w, status)
		return
	}
	if p.noisy(w, r) {
		return
	}
	p.forward(w, r, true)
}

// forward sends the request on to the API server, noting the answers to
// deletes; with lose, it answers as failAfter says once the server did
// the work.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, lose bool) {
	p.mu.Lock()
	after := lose && p.failAfter[r.Method] > 0
	if after {
		p.failAfter[r.Method]--
	}
	status := p.failStatus[r.Method]
	p.mu.Unlock()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(p.target)
			pr.Out.Host = p.target.Host
		},
		Transport:     p.rt,
		FlushInterval: -1, // watches stream
	}
	if after {
		// The server does the work; its answer is lost on the way back.
		lost := &statusRecorder{ResponseWriter: discard{header: http.Header{}}, status: http.StatusOK}
		proxy.ServeHTTP(lost, r)
		p.logDelete(r, lost.status)
		injected(w, status)
		return
	}
	if r.Method != http.MethodDelete {
		proxy.ServeHTTP(w, r) // as it is: upgrades (exec, port-forward) hijack it
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	proxy.ServeHTTP(rec, r)
	p.logDelete(r, rec.status)
}

func injected(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected by the test proxy","reason":"ServiceUnavailable","code":%d}`, status)
}

// discard is a response nobody reads.
type discard struct{ header http.Header }

func (d discard) Header() http.Header       { return d.header }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// FailAfter makes the next n requests with this method reach the server,
// which does their work, and then answer status instead of its answer.
func (p *Proxy) FailAfter(method string, n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failAfter[strings.ToUpper(method)] = n
	p.failStatus[strings.ToUpper(method)] = status
}

// Stall makes the proxy accept every request and answer none until the
// returned function is called.
func (p *Proxy) Stall() (release func()) {
	ch := make(chan struct{})
	p.mu.Lock()
	p.stalled = ch
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.stalled = nil
			p.mu.Unlock()
			close(ch)
		})
	}
}

// FailNext makes the next n requests with this method fail with status.
func (p *Proxy) FailNext(method string, n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failWrites[strings.ToUpper(method)] = n
	p.failStatus[strings.ToUpper(method)] = status
}

// Requests returns how many requests of a method arrived.
func (p *Proxy) Requests(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[strings.ToUpper(method)]
}

// Down cuts every connection and refuses new ones until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lis != nil {
		_ = p.lis.Close()
		p.lis = nil
	}
	for conn := range p.conns {
		_ = conn.Close()
	}
}

// Up listens again on the same address.
func (p *Proxy) Up() {
	var lis net.Listener
	var err error
	for range 50 { // the port can take a moment to be free again
		if lis, err = new(net.ListenConfig).Listen(context.Background(), "tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) //nolint:forbidigo // test helper, bounded
	}
	if err != nil {
		p.t.Errorf("proxy up: %v", err)
		return
	}
	p.serve(lis)
}

// Cluster returns kdrill clients that go through the proxy.
func (p *Proxy) Cluster(t testing.TB) *kube.Cluster {
	t.Helper()
	c, err := kube.NewCluster(&rest.Config{Host: p.URL, QPS: -1}, "proxy")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Kubeconfig writes a kubeconfig that points at the proxy.
func (p *Proxy) Kubeconfig(t testing.TB) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.URL}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	cfg.CurrentContext = "proxy"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
