package steps_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

// sweepKinds are the steps the outage sweep puts an outage under, each
// after a deployment of 3 replicas is up, as "the step". Node steps act on
// a pool of the sweep's own, named by POOL.
var sweepKinds = []struct{ kind, step string }{
	{"apply", `apply: {file: cm.yaml, wait: true}`},
	{"assert", `assert: {resource: {kind: Deployment, name: web}, expr: object.status.availableReplicas == 3}`},
	{"scale", `scale: {kind: Deployment, name: web, replicas: 5}`},
	{"rollout", `rollout: {kind: Deployment, name: web, images: {web: "nginx:1.28"}}`},
	{"patch", `patch: {kind: Deployment, name: web, patch: {metadata: {labels: {patched: "yes"}}}}`},
	{"delete", `delete: {kind: Deployment, name: web}`},
	{"kill", `kill: {workload: {kind: Deployment, name: web}, count: 1, recover: true}`},
	{"killPoisson", `killPoisson: {workload: {kind: Deployment, name: web}, mode: rounds, mean: 1, interval: 1s, rounds: 3, seed: 7, recover: true}`},
	{"expectRejection", `expectRejection: {inline: {apiVersion: v1, kind: Service, metadata: {name: one-too-many}, spec: {ports: [{port: 80}]}}, message: exceeded quota}`},
	{"monitor", `background: true
    monitor: {workloads: [{kind: Deployment, name: web}]}
  - name: watching
    sleep: {duration: 3s}
  - name: end
    stop: {steps: [the step]}`},
	{"switchSelector", `switchSelector: {service: web, selector: {app: web}, replace: true}`},
	{"capacity", `capacity: {expr: 'capacity.namespaces[namespace].pods == 3'}`},
	{"events", `events: {resource: {kind: Deployment, name: web}, children: true, expr: 'any(events, .reason == "SuccessfulCreate")'}`},
	{"node", `node: {action: cordon, selector: POOL, count: 1}`},
}

// An outage of the API server (every connection cut, new ones refused)
// begins just before "the step" of each kind starts and lasts 2 s, 8 s or
// 20 s, within a step timeout of 40 s: each kind's step passes, as in fair
// weather; the outage is recorded; and nothing is left behind (the run's
// namespace is deleted, the node is restored). Each scenario has its own
// proxy, so the kinds and lengths run side by side.
func TestOutageSweepEveryKindSurvivesAnOutageWithinItsTimeout(t *testing.T) {
	admin := testcluster.Connect(t)
	pool := testcluster.NewNodePool(t, 3)
	outageSweep(t, admin, sweepKinds, `
  - name: deploy
    apply: {file: deployment.yaml, wait: true}
  - name: quota
    apply: {inline: {apiVersion: v1, kind: ResourceQuota, metadata: {name: one-service}, spec: {hard: {services: "1"}}}}
  - name: quota is known
    assert: {resource: {kind: ResourceQuota, name: one-service}, expr: 'object.status.hard.services == "1"'}
  # Made after the quota, the Service is charged to it as it is created;
  # one made before waits for the quota controller's count, which a busy
  # controller manager can leave at 0 for its resync period.
  - name: service
    apply: {inline: {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: old}, ports: [{port: 80}]}}}
  - name: quota counts
    assert: {resource: {kind: ResourceQuota, name: one-service}, expr: 'object.status.used.services == "1"'}`,
		map[string]string{
			"deployment.yaml": deployment,
			"cm.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
		}, strings.NewReplacer("POOL", pool.Selector()))
	pool.AssertUntouched(t, 10*time.Second)
}

// The kinds that reach into real containers (exec, logs, port-forward,
// probes from a pod) through the same outages.
func TestOutageSweepRealNodeKinds(t *testing.T) {
	admin := testcluster.Connect(t)
	testcluster.RealNode(t)
	outageSweep(t, admin, []struct{ kind, step string }{
		{"podExec", `podExec: {pod: toolbox, command: [cat], stdin: "through\n", expect: 'stdout == "through\n"'}`},
		{"logs", `logs: {pod: service, expr: 'len(lines) > 0'}`},
		{"http", `http: {portForward: {pod: service, path: /info}, expect: status == 200}`},
		{"connect", `connect: {from: {selector: app=toolbox}, to: {selector: app=service, port: 9876}, expect: allowed}`},
		{"load", `load: {portForward: {pod: service, path: /info}, rate: 20, duration: 3s, maxErrorRate: 0}`},
		{"metrics", `metrics: {apiServer: true, expect: 'apiServer.verbs.GET.requests > 0'}`},
		{"prometheus", `metrics: {prometheus: {service: {name: prometheus, namespace: monitoring, port: 9090}}, query: count(up), expect: result > 0}`},
		{"partition", `partition: {selector: app=service, from: {selector: app=toolbox}, direction: ingress, duration: 2s}`},
		{"resolve", `resolve: {pod: toolbox, name: kubernetes.default, expect: 'addresses == ["10.96.0.1"]'}`},
	}, `
  - name: pods
    apply: {file: pods.yaml, wait: true}`, map[string]string{"pods.yaml": realPods}, strings.NewReplacer())
}

// outageSweep runs each kind's step after the prelude steps, each through
// its own proxy and outages of 2 s, 8 s and 20 s side by side, and fails
// unless every run passes as in fair weather, records its outage and
// leaves nothing behind. It logs the table.
func outageSweep(t *testing.T, admin *kube.Cluster, kinds []struct{ kind, step string }, prelude string, files map[string]string, fill *strings.Replacer) {
	t.Helper()
	lengths := []time.Duration{2 * time.Second, 8 * time.Second, 20 * time.Second}
	type cell struct {
		kind    string
		length  time.Duration
		outcome model.Outcome
		err     string
		retries int
		outage  float64
		left    []string
	}
	var (
		mu    sync.Mutex
		cells []cell
		wg    sync.WaitGroup
	)
	for _, length := range lengths {
		for _, k := range kinds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				proxy := testcluster.StartProxy(t)
				outage := &onStep{name: "before", fn: func() {
					proxy.Down()
					pause(t, length)
					proxy.Up()
				}}
				body := "spec:\n  vars: {replicas: 3}\n  stepTimeout: 40s\n  steps:" + prelude + `
  - name: before
    sleep: {duration: 200ms}
  - name: the step
    ` + fill.Replace(k.step) + "\n"
				s := loadInline(t, "sweep-"+strings.ToLower(k.kind), body, files)
				c := proxy.Cluster(t)
				res := runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{
					Cluster: c, CleanupTimeout: time.Minute, AllowContexts: []string{c.Context}, Observers: []model.Observer{outage},
				})
				sr := res.Scenarios[0]
				got := cell{kind: k.kind, length: length, outcome: sr.Outcome, err: sr.Error, retries: retriesOf(sr), left: sr.LeftBehind}
				for _, o := range res.Outages {
					got.outage += o.Seconds
				}
				if ns, err := admin.Typed.CoreV1().Namespaces().Get(context.Background(), sr.Namespace, metav1.GetOptions{}); err == nil && ns.DeletionTimestamp == nil {
					got.left = append(got.left, "namespace "+sr.Namespace+" (not being deleted)")
				} else if err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("get namespace %s: %v", sr.Namespace, err)
				}
				mu.Lock()
				cells = append(cells, got)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	slices.SortFunc(cells, func(a, b cell) int {
		if a.kind != b.kind {
			return strings.Compare(a.kind, b.kind)
		}
		return int(a.length - b.length)
	})
	var table strings.Builder
	table.WriteString("| kind | outage | verdict | retries | outage recorded | left behind |\n|---|---|---|---|---|---|\n")
	for _, c := range cells {
		fmt.Fprintf(&table, "| %s | %s | %s | %d | %.1f s | %s |\n", c.kind, c.length, c.outcome, c.retries, c.outage, strings.Join(c.left, ", "))
		switch {
		case c.outcome != model.Passed:
			t.Errorf("%s through a %s outage: %s %s", c.kind, c.length, c.outcome, c.err)
		case len(c.left) > 0:
			t.Errorf("%s through a %s outage left %v", c.kind, c.length, c.left)
		case c.outage < c.length.Seconds()/2:
			t.Errorf("%s through a %s outage: %.1f s of outage recorded", c.kind, c.length, c.outage)
		}
	}
	t.Logf("outage survived per step kind (step timeout 40 s):\n%s", table.String())
}
