// Package nodestate changes nodes the way kdrill's node step does and puts
// them back. Every change is written together with a record, on the node
// itself, of what the node was before (the annotation kdrill.dev/restore),
// so that a run killed at any moment leaves nodes that kdrill restore can
// put back, and a restore run twice does nothing the second time.
package nodestate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Annotation holds, on a node kdrill changed, what it was before.
const Annotation = "kdrill.dev/restore"

// NotReadyLabel is kwok's node chaos label: a simulated node carrying it
// reports Ready=False (kwok's node-not-ready stage, which kdrill's local
// cluster runs). On a node that is not simulated it is only a label.
const NotReadyLabel = "node-not-ready.stage.kwok.x-k8s.io"

// Record is what a node was before kdrill changed it: only what kdrill
// changed is recorded, each the first time it changed it.
type Record struct {
	// By names the run and step that first changed the node.
	By    string    `json:"by"`
	Since time.Time `json:"since"`
	// Unschedulable is spec.unschedulable before, when kdrill set it.
	Unschedulable *bool `json:"unschedulable,omitempty"`
	// AddedTaints were added by kdrill; RemovedTaints were there before and
	// kdrill removed them.
	AddedTaints   []corev1.Taint `json:"addedTaints,omitempty"`
	RemovedTaints []corev1.Taint `json:"removedTaints,omitempty"`
	// Labels are the values before of the labels kdrill set; null for a
	// label that was absent.
	Labels map[string]*string `json:"labels,omitempty"`
}

// Change is what to do to a node.
type Change struct {
	// Unschedulable sets spec.unschedulable (cordon, uncordon).
	Unschedulable *bool
	// AddTaints are added, replacing a taint with the same key and effect.
	AddTaints []corev1.Taint
	// RemoveTaints are removed by key, and by effect when one is given.
	RemoveTaints []corev1.Taint
	// SetLabels are set on the node.
	SetLabels map[string]string
	// By names who changes the node, for the record; an empty By writes no
	// record (a change meant to stay).
	By string
}

// Apply makes the change to the node, recording what it was before in the
// same write, and retries on a conflicting update.
func Apply(ctx context.Context, client kubernetes.Interface, name string, ch Change, now time.Time) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		rec, err := read(node)
		if err != nil {
			return err
		}
		if rec == nil {
			rec = &Record{By: ch.By, Since: now.UTC()}
		}
		changed := ch.apply(node, rec)
		if !changed {
			return nil
		}
		if ch.By != "" {
			if err := write(node, rec); err != nil {
				return err
			}
		}
		_, err = client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// apply changes node and notes in rec what it was before; it reports
// whether anything changed.
func (ch Change) apply(node *corev1.Node, rec *Record) bool {
	changed := false
	if u := ch.Unschedulable; u != nil && node.Spec.Unschedulable != *u {
		if rec.Unschedulable == nil {
			was := node.Spec.Unschedulable
			rec.Unschedulable = &was
		}
		node.Spec.Unschedulable = *u
		changed = true
	}
	for _, t := range ch.RemoveTaints {
		kept := node.Spec.Taints[:0]
		for _, have := range node.Spec.Taints {
			if !matches(have, t) {
				kept = append(kept, have)
				continue
			}
			changed = true
			if i := slices.IndexFunc(rec.AddedTaints, func(a corev1.Taint) bool { return sameTaint(a, have) }); i >= 0 {
				rec.AddedTaints = slices.Delete(rec.AddedTaints, i, i+1)
			} else {
				rec.RemovedTaints = append(rec.RemovedTaints, stripTime(have))
			}
		}
		node.Spec.Taints = kept
	}
	for _, t := range ch.AddTaints {
		i := slices.IndexFunc(node.Spec.Taints, func(have corev1.Taint) bool { return have.Key == t.Key && have.Effect == t.Effect })
		if i >= 0 && node.Spec.Taints[i].Value == t.Value {
			continue
		}
		changed = true
		if i >= 0 {
			old := node.Spec.Taints[i]
			node.Spec.Taints = slices.Delete(node.Spec.Taints, i, i+1)
			if !slices.ContainsFunc(rec.AddedTaints, func(a corev1.Taint) bool { return sameTaint(a, old) }) {
				rec.RemovedTaints = append(rec.RemovedTaints, stripTime(old))
			}
			rec.AddedTaints = slices.DeleteFunc(rec.AddedTaints, func(a corev1.Taint) bool { return sameTaint(a, old) })
		}
		node.Spec.Taints = append(node.Spec.Taints, t)
		if j := slices.IndexFunc(rec.RemovedTaints, func(r corev1.Taint) bool { return sameTaint(r, t) }); j >= 0 {
			rec.RemovedTaints = slices.Delete(rec.RemovedTaints, j, j+1) // back as it was
		} else {
			rec.AddedTaints = append(rec.AddedTaints, t)
		}
	}
	for k, v := range ch.SetLabels {
		old, had := node.Labels[k]
		if had && old == v {
			continue
		}
		changed = true
		if rec.Labels == nil {
			rec.Labels = map[string]*string{}
		}
		if _, noted := rec.Labels[k]; !noted {
			if had {
				rec.Labels[k] = &old
			} else {
				rec.Labels[k] = nil
			}
		}
		if node.Labels == nil {
			node.Labels = map[string]string{}
		}
		node.Labels[k] = v
	}
	return changed
}

// Restore puts the node back as its record says and removes the record.
// It returns what it undid ("" when the node carries no record).
func Restore(ctx context.Context, client kubernetes.Interface, name string) (string, error) {
	var undone []string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		undone = nil
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		rec, err := read(node)
		if err != nil || rec == nil {
			return err
		}
		undone = rec.undo(node)
		delete(node.Annotations, Annotation)
		_, err = client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil || undone == nil {
		return "", err
	}
	if len(undone) == 0 {
		undone = []string{"nothing had changed"}
	}
	return name + ": " + strings.Join(undone, ", "), nil
}

// undo applies the record to node and says what it changed.
func (rec *Record) undo(node *corev1.Node) []string {
	undone := []string{}
	if rec.Unschedulable != nil && node.Spec.Unschedulable != *rec.Unschedulable {
		node.Spec.Unschedulable = *rec.Unschedulable
		undone = append(undone, map[bool]string{false: "uncordoned", true: "cordoned again"}[*rec.Unschedulable])
	}
	for _, t := range rec.AddedTaints {
		n := len(node.Spec.Taints)
		node.Spec.Taints = slices.DeleteFunc(node.Spec.Taints, func(have corev1.Taint) bool { return sameTaint(have, t) })
		if len(node.Spec.Taints) < n {
			undone = append(undone, "removed taint "+TaintString(t))
		}
	}
	for _, t := range rec.RemovedTaints {
		if !slices.ContainsFunc(node.Spec.Taints, func(have corev1.Taint) bool { return have.Key == t.Key && have.Effect == t.Effect }) {
			node.Spec.Taints = append(node.Spec.Taints, t)
			undone = append(undone, "put back taint "+TaintString(t))
		}
	}
	keys := slices.Sorted(maps.Keys(rec.Labels))
	for _, k := range keys {
		old := rec.Labels[k]
		cur, has := node.Labels[k]
		switch {
		case old == nil && has:
			delete(node.Labels, k)
			undone = append(undone, "removed label "+k)
		case old != nil && (!has || cur != *old):
			if node.Labels == nil {
				node.Labels = map[string]string{}
			}
			node.Labels[k] = *old
			undone = append(undone, "label "+k+" back to "+*old)
		}
	}
	return undone
}

// RestoreAll restores every node that carries a record, of those a label
// selector picks ("" for all), and returns what it undid, a line per node.
func RestoreAll(ctx context.Context, client kubernetes.Interface, selector string) ([]string, error) {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var done []string
	var errs []string
	for _, n := range nodes.Items {
		if _, ok := n.Annotations[Annotation]; !ok {
			continue
		}
		msg, err := Restore(ctx, client, n.Name)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		if msg != "" {
			done = append(done, msg)
		}
	}
	if len(errs) > 0 {
		return done, fmt.Errorf("not restored: %s", strings.Join(errs, "; "))
	}
	return done, nil
}

// Marked reports whether the node carries a record.
func Marked(node *corev1.Node) bool {
	_, ok := node.Annotations[Annotation]
	return ok
}

func read(node *corev1.Node) (*Record, error) {
	raw, ok := node.Annotations[Annotation]
	if !ok {
		return nil, nil
	}
	var rec Record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return nil, fmt.Errorf("node %s: annotation %s is not kdrill's record: %w", node.Name, Annotation, err)
	}
	return &rec, nil
}

func write(node *corev1.Node, rec *Record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if node.Annotations == nil {
		node.Annotations = map[string]string{}
	}
	node.Annotations[Annotation] = string(data)
	return nil
}

// matches says whether have is removed by a removal of t: same key, and
// same effect when t names one.
func matches(have, t corev1.Taint) bool {
	return have.Key == t.Key && (t.Effect == "" || have.Effect == t.Effect)
}

func sameTaint(a, b corev1.Taint) bool {
	return a.Key == b.Key && a.Effect == b.Effect && a.Value == b.Value
}

func stripTime(t corev1.Taint) corev1.Taint {
	t.TimeAdded = nil
	return t
}

// TaintString writes a taint as kubectl does: key=value:Effect.
func TaintString(t corev1.Taint) string {
	s := t.Key
	if t.Value != "" {
		s += "=" + t.Value
	}
	if t.Effect != "" {
		s += ":" + string(t.Effect)
	}
	return s
}
