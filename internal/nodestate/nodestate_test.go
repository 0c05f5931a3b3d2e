package nodestate

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The record is logic over one object; a fake clientset serves it. The
// end-to-end tests (steps, cmd/kdrill) show it on real nodes.
func TestRestorePutsBackWhatTheChangesTook(t *testing.T) {
	ctx := context.Background()
	orig := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
			{Key: "example.com/flag", Value: "old", Effect: corev1.TaintEffectNoExecute},
		}},
	}
	client := fake.NewClientset(orig.DeepCopy())
	now := time.Unix(0, 0)
	changes := []Change{
		{Unschedulable: ptr(true), By: "s/cordon"},
		{AddTaints: []corev1.Taint{{Key: "chaos", Value: "yes", Effect: corev1.TaintEffectNoSchedule}}, By: "s/taint"},
		{RemoveTaints: []corev1.Taint{{Key: "dedicated"}}, By: "s/untaint"},
		{AddTaints: []corev1.Taint{{Key: "example.com/flag", Value: "new", Effect: corev1.TaintEffectNoExecute}}, By: "s/retaint"},
		{SetLabels: map[string]string{NotReadyLabel: "true", "zone": "b"}, By: "s/fail"},
		{Unschedulable: ptr(true), By: "s/cordon-again"}, // no change, nothing recorded
	}
	for _, ch := range changes {
		if err := Apply(ctx, client, "n1", ch, now); err != nil {
			t.Fatal(err)
		}
	}
	changed, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if !changed.Spec.Unschedulable || !Marked(changed) || len(changed.Spec.Taints) != 2 || changed.Labels["zone"] != "b" {
		t.Fatalf("changes not made: %+v", changed)
	}
	msg, err := Restore(ctx, client, "n1")
	if err != nil {
		t.Fatal(err)
	}
	want := "n1: uncordoned, removed taint chaos=yes:NoSchedule, removed taint example.com/flag=new:NoExecute, " +
		"put back taint dedicated=db:NoSchedule, put back taint example.com/flag=old:NoExecute, removed label " + NotReadyLabel + ", label zone back to a"
	if msg != want {
		t.Errorf("restore said\n  %s\nwant\n  %s", msg, want)
	}
	back, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if back.Spec.Unschedulable || Marked(back) || !reflect.DeepEqual(back.Labels, orig.Labels) || !sameSet(back.Spec.Taints, orig.Spec.Taints) {
		t.Errorf("restored node differs from the original:\n%+v\n%+v", back.Spec, back.Labels)
	}
	if msg, err := Restore(ctx, client, "n1"); msg != "" || err != nil {
		t.Errorf("a second restore: %q, %v; want nothing", msg, err)
	}
}

func TestAChangeWithoutByLeavesNoRecord(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	if err := Apply(ctx, client, "n1", Change{Unschedulable: ptr(true)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	n, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if !n.Spec.Unschedulable || Marked(n) {
		t.Errorf("unschedulable %v, marked %v; want cordoned with no record", n.Spec.Unschedulable, Marked(n))
	}
}

func TestAForeignAnnotationIsNotTakenForARecord(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Annotations: map[string]string{Annotation: "not json"}}})
	if _, err := Restore(ctx, client, "n1"); err == nil {
		t.Error("restore of a node whose annotation is not a record: no error")
	}
}

func sameSet(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if sameTaint(x, y) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
