package kube

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// A stand-in API server answers /version and records every other request,
// so the clients' transports can be checked without a cluster; the
// end-to-end tests show them against a real one.
type standIn struct {
	mu   sync.Mutex
	seen []*http.Request
	body []string
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, r)
	s.body = append(s.body, string(data))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/version" {
		_, _ = w.Write([]byte(`{"gitVersion": "v1.36.3"}`))
		return
	}
	_, _ = w.Write([]byte(`{"kind": "Status", "apiVersion": "v1", "status": "Success"}`))
}

func TestConnectNamesABrokenKubeconfig(t *testing.T) {
	_, err := Connect(Connection{Kubeconfig: filepath.Join(t.TempDir(), "missing")})
	var kc *KubeconfigError
	if !errors.As(err, &kc) || !strings.HasPrefix(err.Error(), "kubeconfig: ") {
		t.Errorf("got %T %v, want a KubeconfigError", err, err)
	}
}

func TestRequestsAreCountedAndOutagesRecorded(t *testing.T) {
	srv := httptest.NewServer(&standIn{})
	c, err := NewCluster(&rest.Config{Host: srv.URL}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, err := c.Ping(ctx); err != nil || v != "v1.36.3" {
		t.Fatalf("ping: %q %v", v, err)
	}
	_ = c.Typed.CoreV1().ConfigMaps("team").Delete(ctx, "x", metav1.DeleteOptions{})
	if got := c.Requests.Snapshot(); got["GET"] != 1 || got["DELETE"] != 1 {
		t.Errorf("counts %v", got)
	}
	if len(c.Outages()) != 0 {
		t.Errorf("outages %v while the server answers", c.Outages())
	}
	srv.Close()
	saved := PingTimeout
	PingTimeout = 500 * time.Millisecond
	t.Cleanup(func() { PingTimeout = saved })
	_, err = c.Ping(ctx)
	if !IsInfra(err) || !strings.Contains(err.Error(), "cannot reach the cluster at "+srv.URL) {
		t.Errorf("ping of a closed server: %v", err)
	}
	if o, down := c.Unreachable(); !down || o.Start.IsZero() || len(c.Outages()) != 1 {
		t.Errorf("unreachable %v %+v, outages %v", down, o, c.Outages())
	}
}

func TestADryRunSendsEveryWriteAsOne(t *testing.T) {
	s := &standIn{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL}
	dryRun(cfg)
	c, err := NewCluster(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	policy := metav1.DeletePropagationForeground
	if err := c.Typed.CoreV1().ConfigMaps("team").Delete(ctx, "x", metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		t.Logf("delete: %v", err)
	}
	_, _ = c.Typed.CoreV1().ConfigMaps("team").Get(ctx, "x", metav1.GetOptions{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) != 2 {
		t.Fatalf("%d requests", len(s.seen))
	}
	del, get := s.seen[0], s.seen[1]
	if del.URL.Query().Get("dryRun") != "All" || get.URL.Query().Get("dryRun") != "" {
		t.Errorf("queries: delete %q, get %q", del.URL.RawQuery, get.URL.RawQuery)
	}
	// The API server reads a DELETE's options from its body when it has
	// one: the dry run must be there too, beside what the client sent.
	var opts map[string]any
	if err := json.Unmarshal([]byte(s.body[0]), &opts); err != nil {
		t.Fatal(err)
	}
	if dr, _ := opts["dryRun"].([]any); len(dr) != 1 || dr[0] != "All" || opts["propagationPolicy"] != "Foreground" {
		t.Errorf("delete body %s", s.body[0])
	}
}
