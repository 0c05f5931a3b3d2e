package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// Each step kind's error paths, on client-go's fake clients: what a step
// says when what it acts on is missing or not what it needs. The end-to-end
// tests prove the happy paths on a real control plane.
func TestStepErrorPathsWithoutACluster(t *testing.T) {
	web := map[string]string{"app": "web"}
	objects := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "team"}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: "team"},
			Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{}},
		},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: "team", Labels: web}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "till", Namespace: "shop", Labels: map[string]string{"app": "shop"}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"kubernetes.io/os": "linux"}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2", Labels: map[string]string{"kubernetes.io/os": "linux"}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp1", Labels: map[string]string{"kubernetes.io/os": "linux", "node-role.kubernetes.io/control-plane": ""}}},
	}
	for _, tc := range []struct {
		name, kind, spec, want string
	}{
		{"scale: no such Deployment", "scale", `{"kind": "Deployment", "name": "absent", "replicas": 2}`, `read scale of Deployment absent`},
		{"scale: a kind that does not scale", "scale", `{"kind": "ConfigMap", "name": "cm", "replicas": 2}`, "scale works on Deployments, ReplicaSets, StatefulSets and ReplicationControllers, not ConfigMap"},
		{"scale: an unknown kind", "scale", `{"kind": "Widget", "name": "w", "replicas": 2}`, "Widget"},
		{"delete: mustExist and nothing there", "delete", `{"kind": "ConfigMap", "name": "absent", "mustExist": true}`, "ConfigMap absent not found"},
		{"delete: mustExist and no match", "delete", `{"kind": "ConfigMap", "selector": "app=none", "mustExist": true}`, "nothing matched ConfigMap -l app=none"},
		{"patch: no such object", "patch", `{"kind": "ConfigMap", "name": "absent", "patch": {"data": {"a": "b"}}}`, "absent"},
		{"kill: no such workload", "kill", `{"workload": {"kind": "Deployment", "name": "absent"}, "count": 1}`, "read Deployment absent"},
		{"kill: a workload whose selector is empty", "kill", `{"workload": {"kind": "Deployment", "name": "open"}, "count": 1}`, "has an empty selector, which matches every pod"},
		{"switchSelector: no such Service", "switchSelector", `{"service": "absent", "selector": {"v": "2"}}`, "read Service absent"},
		{"events: no such object", "events", `{"resource": {"kind": "Deployment", "name": "absent"}, "expr": "len(events) > 0"}`, "read Deployment absent"},
		{"assert: never true", "assert", `{"resource": {"kind": "ConfigMap", "name": "cm"}, "expr": "object.data != nil"}`, "expected object.data != nil"},
		{"node: every node", "node", `{"action": "cordon", "selector": "kubernetes.io/os=linux"}`, "cordon would take every node of the cluster (3) out of service"},
		{"node: a control plane", "node", `{"action": "drain", "name": "cp1"}`, "node cp1 is a control plane node (label node-role.kubernetes.io/control-plane)"},
		{"node: no such node", "node", `{"action": "fail", "names": ["n1", "n9"]}`, "node n9 does not exist (the cluster has 3 nodes)"},
		{"node: a selector that matches none", "node", `{"action": "taint", "selector": "pool=none", "taint": {"key": "k", "effect": "NoSchedule"}}`, `no node matches "pool=none"`},
		{"logs: no pod matches", "logs", `{"selector": "app=none", "expr": "len(lines) > 0"}`, "no running pod matches -l app=none"},
		{"kill: nothing Running", "kill", `{"selector": "app=web", "count": 1}`, "1 pod matches -l app=web in namespace team, none Running: nothing to kill"},
		{"kill: pods only in another namespace", "kill", `{"selector": "app=shop", "count": 1}`, "no pod matches -l app=shop in namespace team: nothing to kill; pods that match run in namespace shop: set the step's namespace"},
		{"killPoisson: no such workload", "killPoisson", `{"workload": {"kind": "Deployment", "name": "absent"}, "mean": 1, "interval": "1s", "rounds": 1}`, "read Deployment absent"},
		{"podExec: no pod matches", "podExec", `{"selector": "app=none", "command": ["true"]}`, "no Ready pod matches -l app=none (0 pods match)"},
		{"apply: a kind the cluster does not serve", "apply", `{"inline": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"}`, "kind Widget in example.com/v1 is not served by this cluster"},
		{"capacity: an expression that does not hold", "capacity", `{"expr": "false"}`, "expected false; it does not hold"},
		{"http: nothing listens", "http", `{"url": "http://127.0.0.1:1/", "requestTimeout": "100ms"}`, "1 of 1 requests to http://127.0.0.1:1/ failed (at most 0 allowed); first: GET http://127.0.0.1:1/"},
		{"monitor: a kind it cannot sample", "monitor", `{"workloads": [{"kind": "ConfigMap", "name": "cm"}]}`, "not ConfigMap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testcluster.Fake(objects...)
			action := steps.Registry[tc.kind].New().(step.Action)
			dec := json.NewDecoder(bytes.NewReader([]byte(tc.spec)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(action); err != nil {
				t.Fatal(err)
			}
			action.Default()
			if err := action.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			s := &scenario.Scenario{Dir: t.TempDir()}
			if err := compile(action); err != nil {
				t.Fatalf("compile: %v", err)
			}
			if p, ok := action.(scenario.Preparer); ok {
				if err := p.Prepare(&scenario.Loading{Scenario: s}); err != nil {
					t.Fatalf("prepare: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			env := runner.NewEnv(c, s, "team", map[string]any{})
			env.Step = &scenario.Step{Name: tc.name, Kind: tc.kind}
			_, err := action.Run(ctx, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// compile compiles the expressions of an action decoded outside a
// scenario, as the loader would.
func compile(a step.Action) error {
	var names map[string]any
	if es, ok := a.(scenario.ExprScope); ok {
		names = es.ExprNames()
	}
	return scenario.CompileExprs(a, names)
}

// The seed chooses the same nodes every time, a change is recorded on the
// node it makes, and a restore without a target finds every marked node.
// The fake clientset serves the node objects; the end-to-end tests show
// the same on simulated nodes.
func TestNodeChoiceIsReproducibleAndRestored(t *testing.T) {
	var objects []runtime.Object
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		objects = append(objects, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + n, Labels: map[string]string{"pool": "drill"}}})
	}
	objects = append(objects, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"}})
	run := func(c *kube.Cluster, spec string) *model.NodeOutput {
		t.Helper()
		action := &steps.Node{}
		if err := json.Unmarshal([]byte(spec), action); err != nil {
			t.Fatal(err)
		}
		action.Default()
		if err := action.Validate(); err != nil {
			t.Fatal(err)
		}
		env := runner.NewEnv(c, &scenario.Scenario{Metadata: scenario.Metadata{Name: "s"}}, "team", nil)
		env.Seed, env.Step = 7, &scenario.Step{Name: "n", Kind: "node", Index: 2}
		out, err := action.Run(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		return out.(*model.NodeOutput)
	}
	c := testcluster.Fake(objects...)
	first := run(c, `{"action": "cordon", "selector": "pool=drill", "count": 2}`)
	again := run(testcluster.Fake(objects...), `{"action": "cordon", "selector": "pool=drill", "count": 2}`)
	if len(first.Nodes) != 2 || strings.Join(first.Nodes, ",") != strings.Join(again.Nodes, ",") {
		t.Fatalf("the same seed chose %v, then %v", first.Nodes, again.Nodes)
	}
	for _, name := range first.Nodes {
		n, _ := c.Typed.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if !n.Spec.Unschedulable || n.Annotations["kdrill.dev/restore"] == "" {
			t.Errorf("%s: unschedulable %v, record %q", name, n.Spec.Unschedulable, n.Annotations["kdrill.dev/restore"])
		}
	}
	restored := run(c, `{"action": "restore"}`)
	if strings.Join(restored.Nodes, ",") != strings.Join(first.Nodes, ",") || len(restored.Restored) != 2 {
		t.Errorf("restore found %v and did %q", restored.Nodes, restored.Restored)
	}
	list, _ := c.Typed.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	for _, n := range list.Items {
		if n.Spec.Unschedulable || n.Annotations["kdrill.dev/restore"] != "" {
			t.Errorf("%s still changed", n.Name)
		}
	}
}

// A node step never takes away the node kdrill itself runs on: a selector
// passes over it, a name is refused. hosting narrows the choice to the
// nodes a workload runs on.
func TestNodeStepsLeaveKdrillsOwnNode(t *testing.T) {
	objects := []runtime.Object{}
	for _, n := range []string{"a", "b", "c"} {
		objects = append(objects, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + n, Labels: map[string]string{"pool": "drill", "name": n}}})
	}
	run := func(spec string, seed int64) (*model.NodeOutput, error) {
		action := &steps.Node{}
		if err := json.Unmarshal([]byte(spec), action); err != nil {
			t.Fatal(err)
		}
		action.Default()
		env := runner.NewEnv(testcluster.Fake(objects...), &scenario.Scenario{Metadata: scenario.Metadata{Name: "s"}}, "team", nil)
		env.Seed, env.Step, env.SelfNode = seed, &scenario.Step{Name: "n", Kind: "node"}, "node-b"
		out, err := action.Run(context.Background(), env)
		if err != nil {
			return nil, err
		}
		return out.(*model.NodeOutput), nil
	}
	for seed := int64(1); seed <= 20; seed++ {
		out, err := run(`{"action": "cordon", "selector": "pool=drill", "count": 2}`, seed)
		if err != nil || strings.Join(out.Nodes, ",") != "node-a,node-c" && strings.Join(out.Nodes, ",") != "node-c,node-a" {
			t.Fatalf("seed %d chose %v (%v)", seed, out, err)
		}
	}
	// hosting: only the nodes the workload runs on.
	objects = append(objects, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "team", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "node-c"}, Status: corev1.PodStatus{Phase: corev1.PodRunning},
	})
	for seed := int64(1); seed <= 10; seed++ {
		out, err := run(`{"action": "cordon", "selector": "pool=drill", "hosting": "app=web", "count": 1}`, seed)
		if err != nil || strings.Join(out.Nodes, ",") != "node-c" {
			t.Fatalf("hosting app=web, seed %d: %v (%v)", seed, out, err)
		}
	}
	if _, err := run(`{"action": "cordon", "selector": "pool=drill", "hosting": "app=db", "count": 1}`, 1); err == nil || !strings.Contains(err.Error(), "runs a Running pod -l app=db in team") {
		t.Errorf("hosting a selector with no pods: %v", err)
	}
	if _, err := run(`{"action": "drain", "name": "node-b"}`, 1); err == nil || !strings.Contains(err.Error(), "node node-b is where kdrill itself runs") {
		t.Errorf("a drain of kdrill's own node: %v", err)
	}
	if _, err := run(`{"action": "fail", "selector": "name=b"}`, 1); err == nil || !strings.Contains(err.Error(), "only node node-b matches \"name=b\", and kdrill itself runs there") {
		t.Errorf("a selector matching only kdrill's own node: %v", err)
	}
}

// A dry run refuses what the run would: scale and rollout of a kind they
// do not work on (a dry run said it would scale a ConfigMap).
func TestPlanRefusesWhatRunRefuses(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "team"}}
	for kind, spec := range map[string]string{
		"scale":   `{"kind": "ConfigMap", "name": "cm", "replicas": 2}`,
		"rollout": `{"kind": "ConfigMap", "name": "cm", "images": {"c": "x:1"}}`,
	} {
		action := steps.Registry[kind].New().(step.Action)
		if err := json.Unmarshal([]byte(spec), action); err != nil {
			t.Fatal(err)
		}
		action.Default()
		env := runner.NewEnv(testcluster.Fake(cm), &scenario.Scenario{Metadata: scenario.Metadata{Name: "s"}}, "team", nil)
		env.Step = &scenario.Step{Name: kind, Kind: kind}
		_, runErr := action.Run(context.Background(), env)
		_, planErr := action.(step.Planner).Plan(context.Background(), env)
		if runErr == nil || planErr == nil || runErr.Error() != planErr.Error() || !strings.Contains(planErr.Error(), "works on Deployments") {
			t.Errorf("%s of a ConfigMap: run %v, plan %v; want the same refusal", kind, runErr, planErr)
		}
	}
}
