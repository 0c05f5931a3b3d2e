package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// fakeServer answers the retry tests' requests: each handler sees the
// request and how many times its method and path were seen before.
type fakeServer struct {
	mu    sync.Mutex
	seen  map[string]int
	serve func(w http.ResponseWriter, r *http.Request, try int)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	key := r.Method + " " + r.URL.Path
	f.seen[key]++
	try := f.seen[key]
	f.mu.Unlock()
	f.serve(w, r, try)
}

func (f *fakeServer) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[key]
}

func retryCluster(t *testing.T, serve func(w http.ResponseWriter, r *http.Request, try int)) (*Cluster, *fakeServer) {
	t.Helper()
	fs := &fakeServer{seen: map[string]int{}, serve: serve}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	saved := RetryBackoff
	RetryBackoff.Duration, RetryBackoff.Cap = time.Millisecond, 5*time.Millisecond
	t.Cleanup(func() { RetryBackoff = saved })
	c, err := NewCluster(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return c, fs
}

func status(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":%d,"reason":%q,"message":"injected"}`, code, reason)
}

func pod(w http.ResponseWriter, code int, created time.Time, manager string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"ns","uid":"u1","creationTimestamp":%q,"managedFields":[{"manager":%q,"operation":"Update"}]}}`,
		created.UTC().Format(time.RFC3339), manager)
}

func withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Reads that meet 5xx, 429 and cut connections are tried again until they
// get an answer (a cut connection may be retried below the policy, by
// Go's transport), and each retry reaches the step's observer; the outage is
// recorded and ends with the first answer.
func TestRetryPolicyRetriesTransientFailuresWithinTheDeadline(t *testing.T) {
	c, fs := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) {
		switch try {
		case 1:
			status(w, 503, "ServiceUnavailable")
		case 2:
			w.Header().Set("Retry-After", "1")
			status(w, 429, "TooManyRequests")
		case 3:
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		default:
			pod(w, 200, time.Now(), "kdrill")
		}
	})
	var retries []Retry
	ctx := WithRetryObserver(withDeadline(t, 10*time.Second), func(r Retry) { retries = append(retries, r) })
	start := time.Now()
	if _, err := c.Typed.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{}); err != nil {
		t.Fatalf("get after three transient failures: %v", err)
	}
	if len(retries) < 2 || fs.count("GET /api/v1/namespaces/ns/pods/p") != 4 {
		t.Errorf("retries %+v, %d tries", retries, fs.count("GET /api/v1/namespaces/ns/pods/p"))
	}
	if time.Since(start) < time.Second {
		t.Errorf("the 429's Retry-After of 1 s was not honoured: %s", time.Since(start))
	}
	if out := c.Outages(); len(out) != 1 || out[0].End.IsZero() {
		t.Errorf("outages %+v, want one that ended", out)
	}
}

// A request that keeps failing is given up on when the next try would
// pass the deadline, with the server's own error.
func TestRetryPolicyGivesUpAtTheDeadline(t *testing.T) {
	c, fs := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) { status(w, 500, "InternalError") })
	_, err := c.Typed.CoreV1().Pods("ns").Get(withDeadline(t, 300*time.Millisecond), "p", metav1.GetOptions{})
	if !apierrors.IsInternalError(err) || fs.count("GET /api/v1/namespaces/ns/pods/p") < 3 {
		t.Errorf("err %v after %d tries", err, fs.count("GET /api/v1/namespaces/ns/pods/p"))
	}
}

// Writes whose answer was lost after the server did their work: a delete
// that then finds nothing, an eviction likewise, and a create that finds
// the object it made, all succeeded. A create of someone else's object
// is still AlreadyExists.
func TestRetryPolicySettlesWritesWhoseAnswerWasLost(t *testing.T) {
	start := time.Now()
	c, _ := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) {
		switch {
		case try == 1 && r.Method != http.MethodGet:
			status(w, 500, "InternalError") // done, but the answer is lost
		case r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, "/eviction"):
			status(w, 404, "NotFound")
		case r.Method == http.MethodPost:
			status(w, 409, "AlreadyExists")
		case strings.HasSuffix(r.URL.Path, "/p"):
			pod(w, 200, time.Now(), "kdrill") // made by the first try, just now
		default:
			pod(w, 200, start.Add(-time.Hour), "someone-else")
		}
	})
	ctx := withDeadline(t, 10*time.Second)
	pods := c.Typed.CoreV1().Pods("ns")
	if err := pods.Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := pods.EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}); err != nil {
		t.Errorf("eviction: %v", err)
	}
	if got, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}, metav1.CreateOptions{}); err != nil || got.UID != "u1" {
		t.Errorf("create: %v", err)
	}
	if _, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "q"}}, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("create of an object another made: %v, want AlreadyExists", err)
	}
}

// Writes that would do their work twice (a create the server names, a
// JSON patch) are not sent again once a try may have reached the server;
// a disruption budget's 429 on an eviction is the caller's to handle.
func TestRetryPolicyDoesNotRepeatWhatWouldHappenTwice(t *testing.T) {
	c, fs := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) {
		if strings.HasSuffix(r.URL.Path, "/eviction") {
			status(w, 429, "TooManyRequests")
			return
		}
		status(w, 500, "InternalError")
	})
	ctx := withDeadline(t, 2*time.Second)
	pods := c.Typed.CoreV1().Pods("ns")
	_, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "p-"}}, metav1.CreateOptions{})
	if !apierrors.IsInternalError(err) || fs.count("POST /api/v1/namespaces/ns/pods") != 1 {
		t.Errorf("generateName create: %v after %d tries, want one", err, fs.count("POST /api/v1/namespaces/ns/pods"))
	}
	_, err = pods.Patch(ctx, "p", "application/json-patch+json", []byte(`[{"op":"add","path":"/x","value":1}]`), metav1.PatchOptions{})
	if err == nil || fs.count("PATCH /api/v1/namespaces/ns/pods/p") != 1 {
		t.Errorf("JSON patch: %v after %d tries, want one", err, fs.count("PATCH /api/v1/namespaces/ns/pods/p"))
	}
	err = pods.EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}})
	if !apierrors.IsTooManyRequests(err) || fs.count("POST /api/v1/namespaces/ns/pods/p/eviction") != 1 {
		t.Errorf("eviction blocked by a budget: %v after %d tries", err, fs.count("POST /api/v1/namespaces/ns/pods/p/eviction"))
	}
}

// A server that accepts a request and never answers is given up on after
// AttemptTimeout per try, and the request fails at its deadline as a
// transient (infrastructure) error, not a hang.
func TestRetryPolicyBoundsAStalledServer(t *testing.T) {
	saved := AttemptTimeout
	AttemptTimeout = 100 * time.Millisecond
	t.Cleanup(func() { AttemptTimeout = saved })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	c, fs := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	_, err := c.Typed.CoreV1().Pods("ns").Get(withDeadline(t, time.Second), "p", metav1.GetOptions{})
	if err == nil || !IsInfra(err) || time.Since(start) > 3*time.Second {
		t.Errorf("err %v (infra %v) after %s", err, IsInfra(err), time.Since(start))
	}
	if fs.count("GET /api/v1/namespaces/ns/pods/p") < 2 {
		t.Errorf("%d tries, want the stalled one tried again", fs.count("GET /api/v1/namespaces/ns/pods/p"))
	}
}

// A 5xx a program behind the API server answers (the proxy subresource)
// is that program's answer: not retried, not an outage.
func TestRetryPolicyLeavesProxiedAnswersAlone(t *testing.T) {
	c, fs := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) { status(w, 503, "ServiceUnavailable") })
	path := "/api/v1/namespaces/ns/services/web/proxy/"
	err := c.Typed.CoreV1().RESTClient().Get().AbsPath(path).Do(withDeadline(t, 5*time.Second)).Error()
	if err == nil || fs.count("GET "+path) != 1 || len(c.Outages()) != 0 {
		t.Errorf("err %v after %d tries, outages %v", err, fs.count("GET "+path), c.Outages())
	}
}

// A pod sent into a namespace made a moment ago, whose default
// ServiceAccount the controller has not made yet, is refused with a 403
// that trying again fixes; another 403 is final.
func TestRetryPolicyWaitsForTheDefaultServiceAccount(t *testing.T) {
	c, fs := retryCluster(t, func(w http.ResponseWriter, r *http.Request, try int) {
		if r.URL.Path == "/api/v1/namespaces/ns/pods" && try <= 2 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":403,"reason":"Forbidden","message":"pods \"p\" is forbidden: error looking up service account ns/default: serviceaccount \"default\" not found"}`)
			return
		}
		if r.URL.Path == "/api/v1/namespaces/other/pods" {
			status(w, 403, "Forbidden")
			return
		}
		pod(w, 201, time.Now(), "kdrill")
	})
	ctx := withDeadline(t, 10*time.Second)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	if _, err := c.Typed.CoreV1().Pods("ns").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create once the ServiceAccount exists: %v", err)
	}
	if n := fs.count("POST /api/v1/namespaces/ns/pods"); n != 3 {
		t.Errorf("%d tries, want 3", n)
	}
	if _, err := c.Typed.CoreV1().Pods("other").Create(ctx, p, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || fs.count("POST /api/v1/namespaces/other/pods") != 1 {
		t.Errorf("another refusal: %v after %d tries", err, fs.count("POST /api/v1/namespaces/other/pods"))
	}
	if out := c.Outages(); len(out) != 0 {
		t.Errorf("outages %+v: a lagging controller is not the control plane down", out)
	}
}

// changingTransport does what client-go's WebSocket transport does to a
// request (rewrites the URL's scheme, takes out the protocol header), and
// fails the first try as a refused connection.
type changingTransport struct{ tries []string }

func (c *changingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.tries = append(c.tries, req.URL.Scheme+" "+req.Header.Get("Sec-WebSocket-Protocol"))
	req.URL.Scheme = "ws"
	req.Header.Del("Sec-WebSocket-Protocol")
	if len(c.tries) == 1 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return &http.Response{StatusCode: http.StatusSwitchingProtocols, Body: http.NoBody}, nil
}

// A retried request goes out as it was first given, whatever the
// transport below did to the first try (an exec's WebSocket dial during
// an outage was sent again as "ws://", which no transport knows).
func TestRetryResendsTheRequestAsItWasGiven(t *testing.T) {
	next := &changingTransport{}
	rt := newRetryTransport(next, &health{})
	req, err := http.NewRequestWithContext(withDeadline(t, 5*time.Second), http.MethodGet, "http://127.0.0.1:1/api/v1/namespaces/ns/pods/p/exec", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-WebSocket-Protocol", "v5.channel.k8s.io")
	saved := RetryBackoff
	RetryBackoff.Duration, RetryBackoff.Cap = time.Millisecond, 5*time.Millisecond
	t.Cleanup(func() { RetryBackoff = saved })
	rt.(*retryTransport).backoff = RetryBackoff
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	want := []string{"http v5.channel.k8s.io", "http v5.channel.k8s.io"}
	if !slices.Equal(next.tries, want) {
		t.Errorf("tries saw %q, want %q", next.tries, want)
	}
}

// A POST's metadata is read from the protobuf client-go sends built-in
// types as, as well as from JSON: its name, or that the server names it.
func TestPostedMetaReadsProtobufAndJSON(t *testing.T) {
	pb := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	for _, ns := range []*corev1.Namespace{
		{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: "kdrill-a", Labels: map[string]string{"k": "v"}}},
		{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{GenerateName: "kdrill-"}},
	} {
		for ct, encode := range map[string]func() ([]byte, error){
			"application/vnd.kubernetes.protobuf": func() ([]byte, error) { return runtime.Encode(pb, ns) },
			"application/json":                    func() ([]byte, error) { return json.Marshal(ns) },
		} {
			body, err := encode()
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/api/v1/namespaces", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			meta, ok := postedMeta(req)
			if !ok || meta.Name != ns.Name || meta.GenerateName != ns.GenerateName || meta.Labels["k"] != ns.Labels["k"] {
				t.Errorf("%s: %+v %v; want %s/%s", ct, meta, ok, ns.Name, ns.GenerateName)
			}
			if generatesName(req) != (ns.Name == "") {
				t.Errorf("%s: generatesName %v for %q", ct, generatesName(req), ns.Name)
			}
		}
	}
}
