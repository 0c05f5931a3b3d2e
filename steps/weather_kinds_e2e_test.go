package steps_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
)

// Every step kind that talks to the cluster survives an outage shorter
// than its remaining timeout: the proxy refuses every connection and cuts
// the open ones for 8 s from the moment the step starts, and the step,
// with a 40 s timeout, passes once the API server is back. The log lists
// how long each took (the table in the closing note).
func TestBadWeatherEveryKindOutlastsAnOutage(t *testing.T) {
	const outage = 8 * time.Second
	for _, tc := range []struct{ kind, setup, step string }{
		{"apply", "", `apply: {file: deployment.yaml, wait: true}`},
		{"assert", "", `assert: {resource: {kind: Deployment, name: web}, expr: "object.status.availableReplicas == 3"}`},
		{"scale", "", `scale: {kind: Deployment, name: web, replicas: 4}`},
		{"patch", "", `patch: {kind: Deployment, name: web, patch: {metadata: {annotations: {note: x}}}}`},
		{"rollout", "", `rollout: {kind: Deployment, name: web, images: {web: "nginx:1.28"}}`},
		{"kill", "", `kill: {workload: {kind: Deployment, name: web}, count: 1, recover: true}`},
		{"killPoisson", "", `killPoisson: {workload: {kind: Deployment, name: web}, mean: 1, interval: 2s, rounds: 3, seed: 3, recover: true}`},
		{"delete", "", `delete: {kind: Deployment, name: web}`},
		{
			"expectRejection", `
  - name: quota
    apply: {inline: {apiVersion: v1, kind: ResourceQuota, metadata: {name: q}, spec: {hard: {configmaps: "1"}}}}
  - name: counted
    assert: {resource: {kind: ResourceQuota, name: q}, expr: "object.status.used.configmaps == '1'"}`,
			`expectRejection: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: extra}}, message: "exceeded quota"}`,
		},
		{"events", "", `events: {resource: {kind: Deployment, name: web}, expr: "len(events) >= 0"}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			proxy := testcluster.StartProxy(t)
			ns := testcluster.Namespace(t, testcluster.Connect(t))
			// Down before the step sends anything (observers hear of a step's
			// start before it runs), up again 8 s later.
			down := outageAtStart{name: "through the outage", fn: func() {
				proxy.Down()
				go func() {
					pause(t, outage)
					proxy.Up()
				}()
			}}
			body := fmt.Sprintf(`
spec:
  vars: {replicas: 3}
  steps:
  - name: deploy
    apply: {file: deployment.yaml, wait: true}%s
  - name: through the outage
    timeout: 40s
    %s
`, tc.setup, tc.step)
			s := loadInline(t, "kinds", body, map[string]string{"deployment.yaml": deployment})
			res := runner.Run(context.Background(), []*scenario.Scenario{s}, runner.Options{
				Cluster: proxy.Cluster(t), Namespace: ns, CleanupTimeout: 20 * time.Second,
				AllowContexts: []string{"proxy"}, Observers: []model.Observer{down},
			})
			st := stepNamed(t, res.Scenarios[0], "through the outage")
			if st.Outcome != model.Passed {
				t.Errorf("%s through an %s outage: %s %s", tc.kind, outage, st.Outcome, st.Error)
			}
			if len(res.Outages) == 0 {
				t.Errorf("no outage recorded")
			}
			t.Logf("%s: %s after %.1fs (outage %s), %d retries", tc.kind, st.Outcome, st.DurationSeconds, outage, st.Retries)
		})
	}
}

// outageAtStart calls fn on the observer's own call, when the named step
// starts, before the step sends a request.
type outageAtStart struct {
	name string
	fn   func()
}

func (o outageAtStart) Observe(ev model.Event, _ *model.Results, _ *model.ScenarioResult, st *model.StepResult) {
	if ev == model.StepStarted && st.Name == o.name {
		o.fn()
	}
}
