package diagnose

import (
	"context"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kdrill/kdrill/internal/message"
)

// logs reads the current and previous logs of the containers of pods that
// are not ready or have restarted, and of a pod the failed step was about,
// bounded in pods, lines and bytes; for a crash-looping container the last
// line joins its cause.
func (c *collector) logs(ctx context.Context, pods []corev1.Pod) {
	read := 0
	for i := range pods {
		p := &pods[i]
		sum := summarize(p)
		if (sum.Ready && sum.Restarts == 0 && !c.isSubject(p)) || p.Spec.NodeName == "" {
			continue
		}
		if read == MaxLogPods {
			c.skip("logs of pod %s and others: at most %d pods' logs are read", p.Name, MaxLogPods)
			return
		}
		read++
		for _, cs := range p.Status.ContainerStatuses {
			c.containerLog(ctx, p, cs.Name, false)
			if cs.RestartCount > 0 {
				c.containerLog(ctx, p, cs.Name, true)
			}
		}
	}
}

func (c *collector) containerLog(ctx context.Context, p *corev1.Pod, container string, previous bool) {
	if ctx.Err() != nil {
		c.skip("logs of %s/%s: the %s bound was reached", p.Name, container, MaxDuration)
		return
	}
	lines, limit := int64(LogLines), int64(LogBytes)
	req := c.req.Client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &lines, LimitBytes: &limit})
	stream, err := req.Stream(ctx)
	if err != nil {
		c.skip("logs of %s/%s: %s", p.Name, container, message.FirstLine(err.Error()))
		return
	}
	defer stream.Close()
	data, err := io.ReadAll(io.LimitReader(stream, LogBytes))
	if err != nil {
		c.skip("logs of %s/%s: %v", p.Name, container, err)
		return
	}
	name := fmt.Sprintf("%s-%s.log", p.Name, container)
	if previous {
		name = fmt.Sprintf("%s-%s.previous.log", p.Name, container)
	}
	c.file(name, data)
	// The crashed run's last words join the crash loop's cause.
	if i, crashing := c.crashes[p.Name+"/"+container]; crashing && previous {
		if last := lastLine(string(data)); last != "" {
			c.out.Causes[i] += "; its last log line: " + c.req.Redact(last)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// isSubject says whether the failed step was about this pod.
func (c *collector) isSubject(p *corev1.Pod) bool {
	for _, s := range c.req.Subjects {
		if s.Kind == "Pod" && s.Name == p.Name && s.Namespace == p.Namespace {
			return true
		}
	}
	return false
}
