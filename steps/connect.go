package steps

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Connect checks whether traffic flows, from inside pods: each Running pod
// the source selector matches opens a TCP connection to the destination (a
// Service's address and port, every Running pod a selector matches, or a
// host name) and the result is compared with what was expected: allowed
// (the connection was accepted) or denied (refused, timed out, or no route
// to host). It probes by running nc -z in the source pods through
// pods/exec, as a person would with kubectl exec: the source image must
// have an nc that takes -z and -w (kdrill.local/toolbox, netcat-openbsd,
// busybox built with it). A name that does not resolve, or a probe that
// cannot run, is an error, never a denial. checks gives several pairs at
// once, each with its own expectation: a policy lab's matrix. Up to eight
// probes run at once.
//
// Example:
//
//	steps:
//	- name: frontend reaches backend
//	  connect: {from: {selector: app=frontend}, to: {service: backend, port: 8080}, expect: allowed}
//	- name: the policy holds
//	  connect:
//	    checks:
//	    - {from: {selector: app=frontend}, to: {service: backend, port: 8080}, expect: allowed}
//	    - {from: {selector: app=other}, to: {service: backend, port: 8080}, expect: denied}
type Connect struct {
	ConnectCheck `json:",inline"`
	// Checks are several source, destination and expectation triples,
	// instead of from, to and expect.
	Checks []ConnectCheck `json:"checks,omitempty"`
	// Timeout bounds each connection attempt (default 2s); one neither
	// accepted nor refused by then counts as denied (timed out).
	Timeout model.Duration `json:"timeout,omitempty"`
	// Until probes again, every second, until every connection is as
	// expected; the step's timeout bounds the wait. Use it for what is
	// about to hold: a Service made a moment ago, a policy just applied.
	Until bool `json:"until,omitempty"`
}

// ConnectCheck is one source, destination and expectation.
type ConnectCheck struct {
	// From picks the pods the connections start in.
	From *ConnectFrom `json:"from,omitempty"`
	// To is where they go.
	To *ConnectTo `json:"to,omitempty"`
	// Expect is allowed or denied.
	Expect string `json:"expect,omitempty" enum:"allowed,denied"`
}

// ConnectFrom picks the source pods.
type ConnectFrom struct {
	// Selector picks the source pods by labels; every Running one probes.
	Selector string `json:"selector"`
	// Namespace of the source pods (default: the scenario's).
	Namespace string `json:"namespace,omitempty"`
	// Container to probe from (default: the pod's first).
	Container string `json:"container,omitempty" domain:"dns1123Label"`
	// DebugImage, for source images without nc, probes from an ephemeral
	// container of this image added to each source pod, as kubectl debug
	// does: it shares the pod's network, sleeps while the step may use it,
	// and stays in the pod's spec, exited (Kubernetes cannot remove one).
	// The step then writes: a lab may not use it.
	DebugImage string `json:"debugImage,omitempty"`

	// debugContainers are the debug containers made, by pod.
	debugContainers map[string]string
}

// ConnectTo is a destination: a Service, pods by selector, or a host.
type ConnectTo struct {
	// Service is a Service's name: its cluster IP, on port.
	Service string `json:"service,omitempty" domain:"dns1123Label"`
	// Selector picks destination pods by labels: every Running one, at its
	// pod IP, on port.
	Selector string `json:"selector,omitempty"`
	// Host is a name or address, resolved inside the source pod.
	Host string `json:"host,omitempty"`
	// Namespace of the Service or pods (default: the scenario's).
	Namespace string `json:"namespace,omitempty"`
	// Port to connect to: for a Service, one of its ports (default: its
	// only one); for pods and hosts, required.
	Port int `json:"port,omitempty"`
}

const (
	connectAllowed = "allowed"
	connectDenied  = "denied"
	connectError   = "error"
	// connectNotApplicable is a probe this cluster cannot make.
	connectNotApplicable = "notApplicable"
)

// Default gives each attempt two seconds.
func (c *Connect) Default() {
	if c.Timeout.Duration == 0 {
		c.Timeout.Duration = 2 * time.Second
	}
}

// Validate checks each pair: one source, one kind of destination, a port
// in range, an expectation.
func (c *Connect) Validate() error {
	var errs scenario.FieldErrors
	single := c.From != nil || c.To != nil || c.Expect != ""
	switch {
	case single && len(c.Checks) > 0:
		errs.Add("checks", "give from, to and expect, or checks, not both")
	case !single && len(c.Checks) == 0:
		errs.Add("", "give from, to and expect (or checks, a list of them)")
	case single:
		c.validateCheck(&errs)
	}
	for i := range c.Checks {
		c.Checks[i].validate(&errs, "checks."+strconv.Itoa(i)+".")
	}
	if c.Timeout.Duration < 0 || c.Timeout.Duration > time.Minute {
		errs.Add("timeout", "between 0 and 1m: it bounds one connection attempt")
	}
	return errs.Err()
}

// validateCheck checks the single pair given inline.
func (c *Connect) validateCheck(errs *scenario.FieldErrors) {
	k := c.ConnectCheck
	k.validate(errs, "")
}

func (k *ConnectCheck) validate(errs *scenario.FieldErrors, at string) {
	if k.From == nil || k.From.Selector == "" {
		errs.Add(at+"from.selector", "required: the pods to connect from, such as app=frontend")
	}
	switch k.Expect {
	case connectAllowed, connectDenied:
	case "":
		errs.Add(at+"expect", "required: allowed or denied")
	default:
		errs.Add(at+"expect", "%q: allowed or denied", k.Expect)
	}
	if k.To == nil {
		errs.Add(at+"to", "required: a service, selector or host, and a port")
		return
	}
	given := 0
	for _, s := range []string{k.To.Service, k.To.Selector, k.To.Host} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		errs.Add(at+"to", "give one of service, selector or host")
	}
	if k.To.Port < 0 || k.To.Port > 65535 {
		errs.Add(at+"to.port", "%d is not a port: 1 to 65535", k.To.Port)
	} else if k.To.Port == 0 && k.To.Service == "" {
		errs.Add(at+"to.port", "required for pods and hosts: the port to connect to")
	}
}

func (c *Connect) checks() []ConnectCheck {
	if len(c.Checks) > 0 {
		return c.Checks
	}
	return []ConnectCheck{c.ConnectCheck}
}

// connectTarget is one address a probe dials, and how the scenario named it.
type connectTarget struct{ name, address string }

// Plan says which pairs would be probed; a dry run sends nothing.
func (c *Connect) Plan(ctx context.Context, env *step.Env) (string, error) {
	var parts []string
	for _, k := range c.checks() {
		from, err := c.sources(ctx, env, k.From)
		if err != nil {
			return "", err
		}
		to, err := c.targets(ctx, env, k.To)
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%d pods (-l %s) to %d destinations, expecting %s", len(from), k.From.Selector, len(to), k.Expect))
	}
	return "would connect from " + strings.Join(parts, "; ") + " (not sent in a dry run)", nil
}

// Run probes every pair and fails when any observation differs from its
// expectation, naming each that did; with until, again every second until
// none does or the step's time is up.
func (c *Connect) Run(ctx context.Context, env *step.Env) (any, error) {
	return untilHolds(ctx, c.Until, func() (*model.ConnectOutput, error) { return c.runOnce(ctx, env) })
}

func (c *Connect) runOnce(ctx context.Context, env *step.Env) (*model.ConnectOutput, error) {
	out := &model.ConnectOutput{Probes: []model.ConnectProbe{}}
	var wrong, why []string
	for _, k := range c.checks() {
		from, err := c.sources(ctx, env, k.From)
		if err != nil {
			return out, err
		}
		to, err := c.targets(ctx, env, k.To)
		if err != nil {
			return out, err
		}
		probes, err := c.probeCheck(ctx, env, k, from, to)
		if err != nil {
			return out, err
		}
		for _, p := range probes {
			p.Expected = k.Expect
			out.Probes = append(out.Probes, p)
			switch p.Observed {
			case connectAllowed:
				out.Allowed++
			case connectDenied:
				out.Denied++
			case connectNotApplicable:
				out.NotApplicable++
				if r := notApplicableClass(p.Reason); !slices.Contains(why, r) {
					why = append(why, r)
				}
				continue
			default:
				out.Errors++
			}
			if p.Observed != p.Expected {
				out.Mismatches++
				wrong = append(wrong, describeProbe(p))
			}
		}
	}
	switch {
	case len(wrong) > 0:
		msg := fmt.Sprintf("%d of %d connections not as expected: %s", len(wrong), len(out.Probes), strings.Join(wrong, "; "))
		if out.NotApplicable > 0 {
			msg += fmt.Sprintf(" (%d more could not be checked here: %s)", out.NotApplicable, strings.Join(why, "; "))
		}
		return out, &AssertionError{Msg: msg}
	case out.NotApplicable == len(out.Probes):
		return out, step.NotApplicable("%s", strings.Join(why, "; "))
	case out.NotApplicable > 0:
		return out, step.NotApplicable("%d of %d connections: %s", out.NotApplicable, len(out.Probes), strings.Join(why, "; "))
	}
	return out, nil
}

// probeCheck probes one pair of source and destination. Sources on
// simulated nodes cannot be probed, and an expected denial cannot count
// where NetworkPolicy is not enforced: those probes are not applicable,
// with the reason.
func (c *Connect) probeCheck(ctx context.Context, env *step.Env, k ConnectCheck, from []corev1.Pod, to []connectTarget) ([]model.ConnectProbe, error) {
	var real []corev1.Pod
	var out []model.ConnectProbe
	notApplicable := func(pod, reason string) {
		for _, t := range to {
			out = append(out, model.ConnectProbe{From: pod, Target: t.name, Address: t.address, Observed: connectNotApplicable, Reason: reason})
		}
	}
	for _, p := range from {
		if why := simulated(ctx, env, p.Spec.NodeName); why != "" {
			notApplicable(p.Name, why)
		} else {
			real = append(real, p)
		}
	}
	if len(real) == 0 {
		return out, nil
	}
	if k.Expect == connectDenied {
		verdict, err := policyEnforced(ctx, env, func() (*corev1.Pod, string, error) { return &real[0], k.From.Container, nil })
		if err != nil {
			return nil, err
		}
		if !verdict.enforced {
			for _, p := range real {
				notApplicable(p.Name, verdict.reason)
			}
			return out, nil
		}
	}
	names := make([]string, len(real))
	for i := range real {
		names[i] = real[i].Name
	}
	return append(out, c.probeAll(ctx, env, k.From, names, to)...), nil
}

// notApplicableClass is what a step says of probes it could not make:
// one line per kind of reason, not one per node.
func notApplicableClass(reason string) string {
	if strings.Contains(reason, "is simulated") {
		return "not verified by traffic: the pods run on simulated (kwok) nodes, which carry no traffic"
	}
	return "not verified by traffic: " + reason
}

func describeProbe(p model.ConnectProbe) string {
	s := fmt.Sprintf("from %s to %s (%s): expected %s, observed %s", p.From, p.Target, p.Address, p.Expected, p.Observed)
	if p.Reason != "" {
		s += " (" + p.Reason + ")"
	}
	return s
}
