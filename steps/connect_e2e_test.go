package steps_test

import (
	"strings"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// connectPods are a web server and two clients on the real node; a
// NetworkPolicy lets only app=client reach the server.
var connectPods = realPod("server", `name: server, image: "kdrill.local/testing-service:1", imagePullPolicy: IfNotPresent, ports: [{containerPort: 9876}]`, false) + `---
apiVersion: v1
kind: Service
metadata: {name: server}
spec:
  selector: {app: server}
  ports: [{port: 80, targetPort: 9876}]
---
` + toolboxPod("client") + "---\n" + toolboxPod("stranger")

const connectPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-clients}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
`

// connect judges real traffic: allowed and denied (by a NetworkPolicy the
// real node enforces, and by a closed port), a matrix of pairs, and the
// mistakes that must be errors rather than denials: a Service that does
// not exist, a port the Service does not have, a name that does not
// resolve, a source image without nc.
func TestConnectOnTheRealNode(t *testing.T) {
	sr := runOnRealNode(t, `
  - name: pods
    apply: {file: pods.yaml, wait: true}
  - name: open
    connect: {from: {selector: app=stranger}, to: {service: server}, expect: allowed, until: true}
  - name: policy
    apply: {file: policy.yaml}
  - name: matrix
    connect:
      until: true
      checks:
      - {from: {selector: app=client}, to: {service: server, port: 80}, expect: allowed}
      - {from: {selector: app=client}, to: {selector: app=server, port: 9876}, expect: allowed}
      - {from: {selector: app=stranger}, to: {service: server}, expect: denied}
      - {from: {selector: app=client}, to: {selector: app=server, port: 9999}, expect: denied}
  - name: wrong expectation
    continueOnError: true
    connect: {from: {selector: app=stranger}, to: {service: server}, expect: allowed}
  - name: no such service
    continueOnError: true
    connect: {from: {selector: app=client}, to: {service: absent, port: 80}, expect: denied}
  - name: no such port
    continueOnError: true
    connect: {from: {selector: app=client}, to: {service: server, port: 8080}, expect: denied}
  - name: no such name
    continueOnError: true
    connect: {from: {selector: app=client}, to: {host: no-such-name, port: 80}, expect: denied}
  - name: no nc
    continueOnError: true
    connect: {from: {selector: app=server}, to: {host: 127.0.0.1, port: 9876}, expect: allowed}
  - name: through a debug container
    connect: {from: {selector: app=server, debugImage: "kdrill.local/toolbox:1"}, to: {host: 127.0.0.1, port: 9876}, expect: allowed}
  - name: no source
    continueOnError: true
    connect: {from: {selector: app=absent}, to: {service: server}, expect: allowed}
`, map[string]string{"pods.yaml": connectPods, "policy.yaml": connectPolicy})
	for _, name := range []string{"pods", "open", "policy", "matrix", "through a debug container"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	m := stepNamed(t, sr, "matrix").Output.(*model.ConnectOutput)
	if len(m.Probes) != 4 || m.Allowed != 2 || m.Denied != 2 || m.Mismatches != 0 {
		t.Errorf("matrix output %+v", m)
	}
	for _, p := range m.Probes {
		if p.Observed == "denied" && p.Reason == "" {
			t.Errorf("a denial without its reason: %+v", p)
		}
	}
	// The denials counted only after kdrill saw this cluster enforce
	// NetworkPolicy, with a probe of its own it then removed.
	if !strings.Contains(strings.Join(sr.Removed, "\n"), "(NetworkPolicy probe)") {
		t.Errorf("no NetworkPolicy probe removed: %q", sr.Removed)
	}
	wantOutcome(t, stepNamed(t, sr, "wrong expectation"), model.Failed, "from stranger to service server:80", "expected allowed, observed denied")
	wantOutcome(t, stepNamed(t, sr, "no such service"), model.Failed, "no Service absent in namespace")
	wantOutcome(t, stepNamed(t, sr, "no such port"), model.Failed, "the Service server has no port 8080; its ports: 80")
	wantOutcome(t, stepNamed(t, sr, "no such name"), model.Failed, "expected denied, observed error")
	wantOutcome(t, stepNamed(t, sr, "no nc"), model.Failed, "has no nc that takes -z")
	wantOutcome(t, stepNamed(t, sr, "no source"), model.Failed, "no Running pod to connect from: -l app=absent")
}

// resolve reads the real cluster DNS's answers from inside a pod: a
// Service's name with the search domain applied, a name that does not
// exist, and a pod whose image has no nslookup (an error, not a miss).
func TestResolveOnTheRealNode(t *testing.T) {
	sr := runOnRealNode(t, `
  - name: pods
    apply: {file: pods.yaml, wait: true}
  - name: service
    resolve: {selector: app=client, name: server, until: true, expect: 'name endsWith ".svc.cluster.local" && len(addresses) == 1'}
  - name: missing
    resolve: {pod: client, name: no-such-service, expect: nxdomain && !found}
  - name: missing but expected
    continueOnError: true
    resolve: {pod: client, name: no-such-service}
  - name: no nslookup
    continueOnError: true
    resolve: {pod: server, name: server}
`, map[string]string{"pods.yaml": connectPods})
	for _, name := range []string{"pods", "service", "missing"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	if out := stepNamed(t, sr, "service").Output.(*model.ResolveOutput); out.Server != "10.96.0.10" || out.Pod != "client" {
		t.Errorf("resolve output %+v", out)
	}
	wantOutcome(t, stepNamed(t, sr, "missing but expected"), model.Failed, "no-such-service from pod client: no such name (NXDOMAIN); expected found")
	wantOutcome(t, stepNamed(t, sr, "no nslookup"), model.Failed, "pod server has no nslookup")
}

// On pods that kwok simulates nothing carries traffic: a connection or a
// lookup from one is not applicable, never a pass or a failure, and the
// scenario goes on to its next step.
func TestNetworkChecksOnSimulatedPodsAreNotApplicable(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 1}
  steps:
  - name: web
    apply: {file: web.yaml, wait: true}
  - name: denied
    connect: {from: {selector: app=web}, to: {host: example.com, port: 80}, expect: denied}
  - name: matrix
    connect:
      checks:
      - {from: {selector: app=web}, to: {selector: app=web, port: 80}, expect: allowed}
      - {from: {selector: app=web}, to: {host: example.com, port: 80}, expect: denied}
  - name: lookup
    resolve: {selector: app=web, name: kubernetes.default}
  - name: after
    assert: {expr: "true"}
`, map[string]string{"web.yaml": deployment})
	for _, name := range []string{"denied", "matrix", "lookup"} {
		wantOutcome(t, stepNamed(t, sr, name), model.NotApplicable, "simulated (kwok)")
	}
	wantOutcome(t, stepNamed(t, sr, "after"), model.Passed)
	if sr.Outcome != model.Passed || sr.NotApplicable() != 3 {
		t.Errorf("scenario %s with %d not applicable, want passed with 3", sr.Outcome, sr.NotApplicable())
	}
	m := stepNamed(t, sr, "matrix").Output.(*model.ConnectOutput)
	if m.NotApplicable != 2 || m.Allowed+m.Denied+m.Mismatches != 0 {
		t.Errorf("matrix output %+v", m)
	}
}
