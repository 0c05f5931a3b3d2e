package runner

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/diagnose"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// diagnose collects, after a step failed, what is needed to see why: the
// objects it was about, and the workloads, pods, events, Services and logs
// of the namespaces involved, within diagnose's bounds. It costs nothing
// when every step passes, and never changes the outcome.
func (r *run) diagnose(ctx context.Context, env *scope, st *scenario.Step, action step.Action, sr *model.ScenarioResult) *model.Diagnostics {
	namespaces := []string{env.Namespace}
	var subjects []diagnose.Subject
	if s, ok := action.(step.Subjecter); ok {
		for _, sub := range s.Subjects() {
			ns := sub.Namespace
			if ns == "" {
				ns = env.Namespace
			}
			subjects = append(subjects, subject(ctx, env.Cluster, sub, ns))
			if !slices.Contains(namespaces, ns) {
				namespaces = append(namespaces, ns)
			}
		}
	}
	return diagnose.Collect(ctx, diagnose.Request{
		Client: env.Cluster.Typed, Namespaces: namespaces, Subjects: subjects,
		Redact: env.Cluster.Redactor.String,
		Dir:    fmt.Sprintf("diagnostics/%s/%s", pathSafe(sr.Name), pathSafe(fmt.Sprintf("%s-%d-%s", st.Phase, st.Index, st.Name))),
	})
}

// subject reads a subject's current state, when it can.
func subject(ctx context.Context, c *kube.Cluster, sub step.Subject, ns string) diagnose.Subject {
	out := diagnose.Subject{Kind: sub.Kind, Name: sub.Name, Namespace: ns}
	m, err := c.Mapping(sub.APIVersion, sub.Kind)
	if err != nil {
		return out
	}
	if obj, err := c.Resource(m, ns).Get(ctx, sub.Name, metav1.GetOptions{}); err == nil {
		out.Object = obj
	}
	return out
}

var unsafePath = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// pathSafe makes a name safe as one path element.
func pathSafe(s string) string { return unsafePath.ReplaceAllString(s, "_") }
