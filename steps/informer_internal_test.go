package steps

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// The pod caches keep a podState: what chaos steps and monitors read, and
// nothing else, keyed as client-go keys pods.
func TestPodCachesKeepWhatTheirStepsRead(t *testing.T) {
	now := metav1.Now()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "team", UID: "u1", ResourceVersion: "7", DeletionTimestamp: &now,
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"big": "value"},
		},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "web:1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, Message: "ready"},
		}},
	}
	obj, err := trimPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := obj.(*podState)
	if !ok {
		t.Fatalf("trimmed to %T", obj)
	}
	if p.Name != "web-1" || p.Namespace != "team" || p.UID != "u1" || p.ResourceVersion != "7" || p.DeletionTimestamp == nil ||
		p.Phase != corev1.PodRunning || !p.Ready || p.Labels != nil || p.Annotations != nil {
		t.Errorf("kept %+v", p)
	}
	store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
	if err := store.Add(p); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := store.GetByKey("team/web-1"); !ok || got != p {
		t.Errorf("keyed as %v", store.ListKeys())
	}
	if c := p.DeepCopyObject().(*podState); c == p || c.DeletionTimestamp == p.DeletionTimestamp || !c.Ready {
		t.Error("DeepCopyObject shares the original")
	}
	pod.Status.Conditions[1].Status = corev1.ConditionFalse
	if podStateOf(pod).Ready {
		t.Error("a pod whose Ready condition is False is kept as ready")
	}
}

// A rollout's surge is what the Deployment's own ReplicaSets were told to
// run, whoever else's share the selector.
func TestReplicasOwnedByCountsTheOwnersReplicaSets(t *testing.T) {
	rs := func(owner string, replicas int64) any {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"replicas": replicas}}}
		u.SetOwnerReferences([]metav1.OwnerReference{{UID: types.UID(owner)}})
		return u
	}
	if got := replicasOwnedBy([]any{rs("web", 3), rs("web", 1), rs("other", 5)}, "web"); got != 4 {
		t.Errorf("%d replicas, want 4", got)
	}
}
