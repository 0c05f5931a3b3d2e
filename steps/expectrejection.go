package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// ExpectRejection creates objects and passes only if the API server refuses
// each of them — a ResourceQuota, a LimitRange, an admission policy saying
// no. It matches the refusal's reason (default Forbidden), a message
// substring or regular expression, and an expression over the refusal, in
// which quota refusals are parsed: rejection.quota.name, and per resource
// the requested, used and limited amounts as numbers, or the resources a
// compute quota says must be specified. The step means "the server refuses
// this write within the timeout": it probes with server-side dry-run
// creates (which create nothing) until one is refused, then sends the real
// create; one the server still accepts is deleted at once and counted in
// admitted. An object the server accepts until the deadline fails the step.
//
// Example:
//
//	steps:
//	- name: a third pod is refused
//	  expectRejection:
//	    inline: {apiVersion: v1, kind: Pod, metadata: {name: third}, spec: {containers: [{name: c, image: nginx}]}}
//	    expect: rejection.quota.name == "pod-demo" && rejection.quota.used.pods == 2 && rejection.quota.limited.pods == 2
type ExpectRejection struct {
	// File is a YAML manifest of the objects to create, relative to the
	// scenario file.
	File string `json:"file,omitempty"`
	// Inline objects: a mapping, a list of mappings, or YAML text.
	Inline any `json:"inline,omitempty" kdrill:"template"`
	// Reason the server must give, as in its Status: Forbidden (default),
	// Invalid, AlreadyExists, ...
	Reason string `json:"reason,omitempty"`
	// Message is a substring the server's message must contain.
	Message string `json:"message,omitempty"`
	// MessageRegexp is a regular expression the message must match.
	MessageRegexp string `json:"messageRegexp,omitempty"`
	// Expect must hold for the refusal; it sees rejection (reason, code,
	// message, quota).
	Expect expression.Expr `json:"expect,omitempty"`

	manifests []manifest
	pattern   *regexp.Regexp
}

// Default expects Forbidden.
func (e *ExpectRejection) Default() {
	if e.Reason == "" {
		e.Reason = string(metav1.StatusReasonForbidden)
	}
}

// Validate checks the objects' source and that something beyond the reason
// is matched, so an unrelated refusal (RBAC, say) cannot pass by accident.
func (e *ExpectRejection) Validate() error {
	var errs scenario.FieldErrors
	switch {
	case e.File == "" && e.Inline == nil:
		errs.Add("", "give file or inline: the objects to create")
	case e.File != "" && e.Inline != nil:
		errs.Add("inline", "give file or inline, not both")
	}
	if e.Message == "" && e.MessageRegexp == "" && e.Expect.IsZero() {
		errs.Add("", "give a matcher: message, messageRegexp or expect (a reason alone would also pass on an unrelated refusal)")
	}
	if e.MessageRegexp != "" {
		re, err := regexp.Compile(e.MessageRegexp)
		if err != nil {
			errs.Add("messageRegexp", "%v", err)
		}
		e.pattern = re
	}
	return errs.Err()
}

// ExprNames adds rejection to the expression environment.
func (e *ExpectRejection) ExprNames() map[string]any {
	return map[string]any{"rejection": expression.TypedAs[model.Rejection]()}
}

// Prepare reads the manifests.
func (e *ExpectRejection) Prepare(s *scenario.Loading) error {
	docs, _, err := readManifests(s, manifestSource{File: e.File, Inline: e.Inline})
	e.manifests = docs
	return err
}

// Run creates each object and judges the refusal.
func (e *ExpectRejection) Run(ctx context.Context, env *step.Env) (any, error) {
	out := &model.ExpectRejectionOutput{}
	for _, m := range e.manifests {
		v, err := m.template.Expand(env.ExprEnv(nil))
		if err != nil {
			return out, fmt.Errorf("%s: %w", m.source, err)
		}
		obj := &unstructured.Unstructured{Object: v.(map[string]any)}
		mapping, err := env.Cluster.Mapping(obj.GetAPIVersion(), obj.GetKind())
		if err != nil {
			return out, fmt.Errorf("%s: %w", m.source, err)
		}
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace && obj.GetNamespace() == "" {
			obj.SetNamespace(env.Namespace)
		}
		what := obj.GetKind() + " " + obj.GetName()
		client := env.Cluster.Resource(mapping, obj.GetNamespace())
		err = refusal(ctx, env, client, obj, what, out)
		var status apierrors.APIStatus
		if !errors.As(err, &status) || kube.IsInfra(err) {
			return out, err
		}
		st := status.Status()
		r := model.Rejection{Object: what, Reason: string(st.Reason), Code: int(st.Code), Message: st.Message, Quota: parseQuotaMessage(st.Message)}
		out.Rejections = append(out.Rejections, r)
		if err := e.judge(env, r); err != nil {
			return out, err
		}
	}
	return out, nil
}

// refusal sends a create the server should refuse and returns its
// refusal. The step means "the server refuses this write within the
// timeout": admission can trail the cluster's state for a moment (a
// ResourceQuota's used count that its controller has just lowered from a
// lagging cache), so a server-side dry run probes first, and only once it
// is refused is the real create sent. A real create the server still
// accepts is deleted at once, counted in admitted, and the probing goes on
// until the step's deadline, which fails the step.
func refusal(ctx context.Context, env *step.Env, client dynamic.ResourceInterface, obj *unstructured.Unstructured, what string, out *model.ExpectRejectionOutput) error {
	probe := metav1.CreateOptions{FieldManager: FieldManager, DryRun: []string{metav1.DryRunAll}}
	for {
		_, err := client.Create(ctx, obj, probe)
		if err != nil && !isDeadline(err) && !errors.Is(err, context.Canceled) {
			if kube.IsInfra(err) {
				return fmt.Errorf("create %s: %w", what, err)
			}
			if env.Cluster.DryRun {
				return err // every write is a dry run: the probe's refusal is the answer
			}
			created, err := client.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
			if err != nil {
				if isDeadline(err) || errors.Is(err, context.Canceled) {
					return err
				}
				if kube.IsInfra(err) {
					return fmt.Errorf("create %s: %w", what, err)
				}
				return err
			}
			out.Admitted++
			if derr := client.Delete(context.WithoutCancel(ctx), created.GetName(), metav1.DeleteOptions{}); derr != nil && !apierrors.IsNotFound(derr) {
				return &AssertionError{Msg: fmt.Sprintf("%s was created although a dry run was refused a moment before, and deleting it again failed: %v", what, derr)}
			}
		}
		timer := env.Clock.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return accepted(what, out.Admitted, env.Cluster.DryRun)
		case <-timer.C():
		}
	}
}

// accepted is the failure of a create the server kept accepting.
func accepted(what string, admitted int, dryRun bool) error {
	if dryRun {
		return &AssertionError{Msg: fmt.Sprintf("%s would be accepted: the server admitted its dry-run create until the step's deadline (nothing was created), but it should have refused it", what)}
	}
	msg := fmt.Sprintf("%s was accepted until the step's deadline, but the server should have refused it: its dry-run creates were admitted", what)
	if admitted > 0 {
		msg += fmt.Sprintf(", and %d real create(s) admitted were deleted again", admitted)
	}
	return &AssertionError{Msg: msg}
}

// judge checks one refusal against the matchers.
func (e *ExpectRejection) judge(env *step.Env, r model.Rejection) error {
	if r.Reason != e.Reason {
		return &AssertionError{Msg: fmt.Sprintf("%s was refused with reason %s, want %s: %s", r.Object, r.Reason, e.Reason, r.Message)}
	}
	if e.Message != "" && !strings.Contains(r.Message, e.Message) {
		return &AssertionError{Msg: fmt.Sprintf("%s was refused, but the message does not contain %q: %s", r.Object, e.Message, r.Message)}
	}
	if e.pattern != nil && !e.pattern.MatchString(r.Message) {
		return &AssertionError{Msg: fmt.Sprintf("%s was refused, but the message does not match /%s/: %s", r.Object, e.MessageRegexp, r.Message)}
	}
	if e.Expect.IsZero() {
		return nil
	}
	ok, values, err := e.Expect.Eval(env.ExprEnv(map[string]any{"rejection": expression.Plain(r)}))
	env.Observe(e.Expect.Source, values)
	if err != nil || !ok {
		msg := fmt.Sprintf("%s was refused, but expected %s; message: %s", r.Object, e.Expect.Source, r.Message) + expression.Seen(values, err)
		return &AssertionError{Msg: msg}
	}
	return nil
}

var (
	exceededQuota = regexp.MustCompile(`exceeded quota: ([^,]+), requested: (.*?), used: (.*?), limited: (.*)$`)
	mustSpecify   = regexp.MustCompile(`failed quota: ([^:]+): must specify (.*)$`)
)

// parseQuotaMessage reads the API server's quota refusals:
//
//	exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2
//	failed quota: computequota: must specify limits.cpu,limits.memory
//	failed quota: computequota: must specify limits.cpu for: c; limits.memory for: c
func parseQuotaMessage(msg string) *model.QuotaRejection {
	if m := exceededQuota.FindStringSubmatch(msg); m != nil {
		return &model.QuotaRejection{Name: m[1], Requested: quantities(m[2]), Used: quantities(m[3]), Limited: quantities(m[4])}
	}
	if m := mustSpecify.FindStringSubmatch(msg); m != nil {
		// Older servers list the resources ("limits.cpu,limits.memory"),
		// newer ones name the containers too ("limits.cpu for: c; ...").
		sep := ","
		if strings.Contains(m[2], " for:") {
			sep = ";"
		}
		var names []string
		for _, part := range strings.Split(m[2], sep) {
			name, _, _ := strings.Cut(strings.TrimSpace(part), " for:")
			if name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		return &model.QuotaRejection{Name: m[1], MustSpecify: names}
	}
	return nil
}

// quantities reads "pods=1,requests.cpu=500m" into numbers.
func quantities(s string) map[string]float64 {
	out := map[string]float64{}
	for _, pair := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		if q, err := expression.Quantity(value); err == nil {
			out[name] = q
		}
	}
	return out
}

// Plan creates the objects as dry runs: admission, quota included, still
// decides, so the plan shows whether each would be refused.
func (e *ExpectRejection) Plan(ctx context.Context, env *step.Env) (string, error) {
	out, err := e.Run(ctx, env)
	if err != nil {
		return "", err
	}
	var reasons []string
	if o, ok := out.(*model.ExpectRejectionOutput); ok {
		for _, r := range o.Rejections {
			reasons = append(reasons, r.Reason)
		}
	}
	return "the API server refuses each, as expected: " + strings.Join(reasons, ", "), nil
}
