// Package diagnose gathers, when a step fails, what a person would look at
// with kubectl describe and kubectl logs: the objects the step was about,
// the workloads and pods of the namespaces involved with their states,
// events, Service endpoints and container logs, within a time and size
// bound; and it derives the likely causes, one line each. It only reads.
package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kdrill/kdrill/model"
)

// Bounds on one collection.
const (
	// MaxDuration bounds the whole collection; what is left is skipped.
	MaxDuration = 10 * time.Second
	// MaxBytes bounds the files kept.
	MaxBytes = 4 << 20
	// MaxLogPods is how many pods' logs are read.
	MaxLogPods = 20
	// LogLines and LogBytes bound each container log.
	LogLines = 200
	LogBytes = 64 << 10
)

// Subject is an object the failing step was about.
type Subject struct {
	Kind, Name, Namespace string
	// Object is its current state, when it could be read.
	Object *unstructured.Unstructured
}

// Request says what to collect.
type Request struct {
	Client kubernetes.Interface
	// Namespaces to look into: the scenario's and those of the subjects.
	Namespaces []string
	Subjects   []Subject
	// Redact hides Secret values from everything kept.
	Redact func(string) string
	// Dir is where the files will be, relative to the report directory.
	Dir string
}

// collector accumulates one collection within its bounds.
type collector struct {
	req      Request
	out      *model.Diagnostics
	start    time.Time
	deadline time.Time
	// crashes are the causes of crash-looping containers, by pod/container,
	// which their last log line joins.
	crashes map[string]int
	// ranks are the causes' ranks, in the order found.
	ranks []rank
}

// rank orders causes from the likeliest: what stops the cluster or a pod
// outright, before what follows from it (a pod not Ready, a Deployment
// past its deadline), before what follows from that (a Service with no
// ready pod). Within a rank, the order found.
type rank int

const (
	rankControlPlane rank = iota // the API server cannot be read
	rankCause                    // a pod cannot be made, scheduled, pulled, started or kept running
	rankSymptom                  // a pod not Ready, a failing probe, a rollout past its deadline
	rankConsequence              // a Service with no ready pod behind it
)

// Collect gathers the diagnostics. It never fails: what it cannot read is
// listed in Skipped, and an unreachable API server is a cause of its own.
func Collect(ctx context.Context, req Request) *model.Diagnostics {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, MaxDuration)
	defer cancel()
	if req.Redact == nil {
		req.Redact = func(s string) string { return s }
	}
	c := &collector{req: req, out: &model.Diagnostics{Causes: []string{}, Dir: req.Dir, Contents: map[string][]byte{}}, start: start, deadline: start.Add(MaxDuration), crashes: map[string]int{}}
	for _, s := range req.Subjects {
		c.subject(s)
	}
	for _, ns := range req.Namespaces {
		if ctx.Err() != nil {
			c.skip("namespace %s: the %s bound was reached", ns, MaxDuration)
			continue
		}
		c.namespace(ctx, ns)
	}
	c.out.Causes = dedupe(c.ranked())
	sort.Strings(c.out.Files)
	c.out.Seconds = time.Since(start).Seconds()
	return c.out
}

func (c *collector) skip(format string, args ...any) {
	c.out.Skipped = append(c.out.Skipped, fmt.Sprintf(format, args...))
}

func (c *collector) cause(r rank, format string, args ...any) {
	c.out.Causes = append(c.out.Causes, c.req.Redact(fmt.Sprintf(format, args...)))
	c.ranks = append(c.ranks, r)
}

// ranked are the causes, the likeliest first.
func (c *collector) ranked() []string {
	idx := make([]int, len(c.out.Causes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return c.ranks[idx[a]] < c.ranks[idx[b]] })
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = c.out.Causes[j]
	}
	return out
}

// file keeps a file unless the size bound is reached.
func (c *collector) file(name string, data []byte) {
	data = []byte(c.req.Redact(string(data)))
	if c.out.Bytes+len(data) > MaxBytes {
		c.skip("%s: the %d MiB bound was reached", name, MaxBytes>>20)
		return
	}
	c.out.Bytes += len(data)
	c.out.Files = append(c.out.Files, name)
	c.out.Contents[name] = data
}

// subject keeps the object the step was about, as YAML without
// managedFields.
func (c *collector) subject(s Subject) {
	if s.Object == nil {
		return
	}
	obj := s.Object.DeepCopy()
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	if obj.GetKind() == "Secret" {
		unstructured.RemoveNestedField(obj.Object, "data")
		unstructured.RemoveNestedField(obj.Object, "stringData")
	}
	data, err := yaml.Marshal(obj.Object)
	if err != nil {
		c.skip("%s %s: %v", s.Kind, s.Name, err)
		return
	}
	c.file(fmt.Sprintf("%s-%s.yaml", strings.ToLower(s.Kind), s.Name), data)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
