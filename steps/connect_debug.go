package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Probing from pods whose image has no nc: an ephemeral container of
// another image is added to each source pod, as kubectl debug does. It
// shares the pod's network, so its connections are the pod's; it sleeps
// while the step may use it and then exits. Kubernetes cannot remove an
// ephemeral container: it stays in the pod's spec, exited, until the pod
// goes.

// Effect is a write when a check adds debug containers to its source
// pods; a read otherwise.
func (c *Connect) Effect() scenario.Effect {
	for _, k := range c.checks() {
		if k.From != nil && k.From.DebugImage != "" {
			return scenario.Writes
		}
	}
	return scenario.Reads
}

// debugContainer adds an ephemeral container to the pod and returns its
// name once it runs; it lives for the step's remaining time (at most an
// hour).
func debugContainer(ctx context.Context, env *step.Env, ns, pod, image string) (string, error) {
	life := time.Hour
	if d, ok := ctx.Deadline(); ok {
		life = min(life, time.Until(d)+5*time.Second)
	}
	name := "kdrill-debug-" + rand.String(5)
	ec := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
		Command: []string{"sleep", strconv.Itoa(max(1, int(life.Seconds())))},
	}}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"ephemeralContainers": []corev1.EphemeralContainer{ec}}})
	if err != nil {
		return "", err
	}
	pods := env.Cluster.Typed.CoreV1().Pods(ns)
	if _, err := pods.Patch(ctx, pod, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "ephemeralcontainers"); err != nil {
		return "", fmt.Errorf("add a debug container (%s) to pod %s: %w", image, pod, err)
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // the retry policy has retried it; poll again within the minute
		}
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name != name {
				continue
			}
			switch {
			case s.State.Running != nil:
				return true, nil
			case s.State.Terminated != nil:
				return false, fmt.Errorf("the debug container %s in pod %s ended (%s, exit %d): its image must run sleep", name, pod, s.State.Terminated.Reason, s.State.Terminated.ExitCode)
			case s.State.Waiting != nil:
				last = s.State.Waiting.Reason
			}
		}
		return false, nil
	})
	if err != nil && wait.Interrupted(err) {
		return "", fmt.Errorf("the debug container %s (%s) in pod %s did not run within a minute (%s)", name, image, pod, last)
	}
	return name, err
}
