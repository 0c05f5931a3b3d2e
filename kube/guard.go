package kube

// The wire guard: every DELETE (one object or a collection) and every
// eviction the cluster's clients send is refused, before it leaves the
// process, when it would disrupt a system namespace, unless the step that
// sends it lifted the policy. The scenario's policy (package scenario) checks
// the rest when it loads, before a run starts.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// SystemNamespaces are the cluster's own namespaces: disrupting steps refuse
// them, and deleting one of them, unless the step sets allowUnsafe.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// IsSystemNamespace reports whether ns is one of SystemNamespaces.
func IsSystemNamespace(ns string) bool { return slices.Contains(SystemNamespaces, ns) }

// PolicyError is a write the safety policy refused.
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return e.Msg }

// SystemNamespaceRefusal is the one wording of a refused system namespace.
func SystemNamespaceRefusal(ns, how string) string {
	return fmt.Sprintf("%s is a system namespace%s; disrupting steps refuse it unless the step sets allowUnsafe: true", ns, how)
}

type stepPolicyKey struct{}

// stepPolicy is what the wire guard knows of the step sending a request.
type stepPolicy struct {
	label       string
	allowUnsafe bool
}

// WithStepPolicy tells the wire guard which step (label) sends the
// context's requests and whether it lifted the policy (allowUnsafe).
func WithStepPolicy(ctx context.Context, label string, allowUnsafe bool) context.Context {
	return context.WithValue(ctx, stepPolicyKey{}, stepPolicy{label: label, allowUnsafe: allowUnsafe})
}

// guardTransport refuses, before it leaves the process, every DELETE
// (one object or a collection) and every eviction in a system namespace,
// and the deletion of a system namespace itself, unless the step that sends
// it set allowUnsafe. A request from no step (kdrill's own housekeeping) is
// held to the policy too.
func guardTransport(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		p, _ := req.Context().Value(stepPolicyKey{}).(stepPolicy)
		if ns, what := disruptedNamespace(req); ns != "" && IsSystemNamespace(ns) && !p.allowUnsafe {
			if strings.HasPrefix(what, "write ") {
				return nil, &PolicyError{Msg: fmt.Sprintf("refused to %s: %s is a system namespace; kdrill writes there only when the step sets allowUnsafe: true", what, ns)}
			}
			return nil, &PolicyError{Msg: "refused to " + what + ": " + SystemNamespaceRefusal(ns, "")}
		}
		if who := bindsEveryone(req); who != "" && !p.allowUnsafe {
			return nil, &PolicyError{Msg: fmt.Sprintf("refused to write %s: it binds a role to %s, that is to every caller of the API server; the step must set allowUnsafe: true if that is meant", req.URL.Path, who)}
		}
		return rt.RoundTrip(req)
	})
}

// disruptedNamespace returns the namespace a request would disrupt, and
// what it would do, or "" when it disrupts nothing namespaced.
func disruptedNamespace(req *http.Request) (ns, what string) {
	// /api/v1/namespaces/NS/... or /apis/GROUP/VERSION/namespaces/NS/...
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	i := slices.Index(parts, "namespaces")
	if i < 0 || i+1 >= len(parts) || (parts[0] != "api" && parts[0] != "apis") {
		return "", ""
	}
	ns, rest := parts[i+1], parts[i+2:]
	access := len(rest) == 3 && slices.Contains([]string{"exec", "attach", "portforward", "log", "proxy"}, rest[2])
	switch {
	case req.Method == http.MethodDelete && len(rest) == 0:
		return ns, "delete the namespace " + ns
	case req.Method == http.MethodDelete:
		return ns, "delete " + strings.Join(rest, "/")
	case req.Method == http.MethodPost && len(rest) == 3 && rest[2] == "eviction":
		return ns, "evict " + strings.Join(rest[:2], "/")
	case (req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch) && !access:
		return ns, "write " + strings.Join(rest, "/")
	}
	return "", ""
}

// everyoneSubjects are the groups and user that stand for every caller of
// the API server: a binding to one of them gives its role to anybody.
var everyoneSubjects = []string{"system:unauthenticated", "system:anonymous", "system:authenticated"}

// bindsEveryone returns the subject a write of a RoleBinding or
// ClusterRoleBinding binds that stands for every caller, or "".
func bindsEveryone(req *http.Request) string {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return ""
	}
	if !strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "bindings") && !strings.Contains(req.URL.Path, "bindings/") {
		return ""
	}
	if req.GetBody == nil {
		return ""
	}
	body, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, 8<<20))
	if err != nil {
		return ""
	}
	var obj struct {
		Subjects []struct {
			Name string `json:"name"`
		} `json:"subjects"`
	}
	if yaml.Unmarshal(data, &obj) != nil {
		return ""
	}
	for _, s := range obj.Subjects {
		if slices.Contains(everyoneSubjects, s.Name) {
			return s.Name
		}
	}
	return ""
}
