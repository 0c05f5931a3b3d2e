package diagnose

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The causes a person would dig out with kubectl describe, from the
// objects that show them.
func TestCauses(t *testing.T) {
	ns := "team"
	pod := func(name string, status corev1.PodStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}}, Spec: corev1.PodSpec{NodeName: "n1"}, Status: status}
	}
	waiting := func(reason, msg string, restarts int32) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "app", Image: "registry.example/app:9", RestartCount: restarts,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
		}}}
	}
	objects := []runtime.Object{
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: ns}, Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.",
		}}}},
		pod("pull", waiting("ImagePullBackOff", "Back-off pulling image", 0)),
		pod("crash", waiting("CrashLoopBackOff", "back-off 10s restarting failed container", 4)),
		pod("unready", corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}}),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "unready"}}},
		&corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns}, Type: corev1.EventTypeWarning, Reason: "FailedCreate",
			InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Name: "web-7d9"},
			Message:        `pods "web-7d9-x" is forbidden: exceeded quota: compute, requested: limits.cpu=500m, used: limits.cpu=2, limited: limits.cpu=2`,
		},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: ns}, Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "slow-1" has timed out progressing.`,
		}}}},
	}
	d := Collect(context.Background(), Request{Client: kubefake.NewClientset(objects...), Namespaces: []string{ns}, Dir: "diagnostics/s/step"})
	for _, want := range []string{
		"pod pending is Pending: 0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.",
		"container app of pod pull cannot pull image registry.example/app:9: Back-off pulling image",
		"container app of pod crash is crash-looping (4 restarts); it last exited 1 (Error)",
		"pod unready runs but is not Ready",
		"Service web selects no ready pod (selector app=unready: 1 pods match, none Ready)",
		"ReplicaSet web-7d9 cannot create pods: pods \"web-7d9-x\" is forbidden: exceeded quota: compute",
		"Deployment slow is past its progress deadline: ReplicaSet \"slow-1\" has timed out progressing.",
	} {
		found := false
		for _, c := range d.Causes {
			found = found || strings.Contains(c, want)
		}
		if !found {
			t.Errorf("no cause %q in:\n%s", want, strings.Join(d.Causes, "\n"))
		}
	}
	// The likeliest first: what stops pods outright, then what follows
	// from it, then what follows from that.
	last := func(prefix string) int {
		at := -1
		for i, c := range d.Causes {
			if strings.HasPrefix(c, prefix) {
				at = i
			}
		}
		return at
	}
	first := func(prefix string) int {
		for i, c := range d.Causes {
			if strings.HasPrefix(c, prefix) {
				return i
			}
		}
		return -1
	}
	if last("ReplicaSet web-7d9 cannot create pods") > first("pod unready runs") || last("pod unready runs") > first("Service web") ||
		last("container app of pod crash") > first("Deployment slow") {
		t.Errorf("causes not the likeliest first:\n%s", strings.Join(d.Causes, "\n"))
	}
	if len(d.Pods) != 4 || d.Contents["team-describe.txt"] == nil || d.Bytes == 0 {
		t.Errorf("pods %d, files %v, bytes %d", len(d.Pods), d.Files, d.Bytes)
	}
}

// A namespace that cannot be read because the API server is unreachable
// gives that as a cause, known by the error's class; one kdrill may not
// read is only skipped.
func TestUnreachableIsACauseByItsClass(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		cause bool
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"503", apierrors.NewServiceUnavailable("etcd is down"), true},
		{"forbidden", apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := kubefake.NewClientset()
			client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
			d := Collect(context.Background(), Request{Client: client, Namespaces: []string{"team"}, Dir: "diagnostics/s/step"})
			got := len(d.Causes) > 0 && strings.Contains(d.Causes[0], "the API server was unreachable")
			if got != tc.cause {
				t.Errorf("causes %q; want the unreachable cause: %v", d.Causes, tc.cause)
			}
		})
	}
}
