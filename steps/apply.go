package steps

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// FieldManager is the server-side apply field manager kdrill writes as.
const FieldManager = "kdrill"

// Apply creates or updates objects with server-side apply, from a manifest
// file or inline, and can wait until each is ready. Strings in the objects may
// use ${{ expression }}; a string that is exactly one expression keeps the
// value's type (replicas: ${{ vars.replicas }}).
//
// Example:
//
//	steps:
//	- name: deploy blue
//	  apply:
//	    file: manifests/blue.yaml
//	    wait: true
type Apply struct {
	// File is a YAML manifest, one or more documents, relative to the
	// scenario file.
	File string `json:"file,omitempty"`
	// Inline objects: a mapping, a list of mappings, or YAML text with
	// several documents.
	Inline any `json:"inline,omitempty" kdrill:"template"`
	// Kustomize is a directory holding a kustomization, relative to the
	// scenario, built in process (kustomize's krusty; no kustomize or
	// kubectl binary needed) when the scenario loads. Its resources and
	// bases must be inside the scenario's directory.
	Kustomize string `json:"kustomize,omitempty"`
	// Wait until every object is ready: Deployments, ReplicaSets and
	// StatefulSets available, Pods Ready, Jobs complete (default false).
	Wait bool `json:"wait,omitempty"`

	manifests []manifest
}

type manifest struct {
	source   string // file:line or inline[i], for messages
	template *expression.ValueTemplate
}

// Default does nothing: Apply has no defaults beyond Go's zero values.
func (a *Apply) Default() {}

// Validate checks that exactly one source of objects is given.
func (a *Apply) Validate() error {
	var errs scenario.FieldErrors
	switch given := countSet(a.File != "", a.Inline != nil, a.Kustomize != ""); {
	case given == 0:
		errs.Add("", "give file, inline or kustomize")
	case given > 1:
		errs.Add(fieldOf(a.File, a.Kustomize), "give one of file, inline and kustomize")
	}
	return errs.Err()
}

// Prepare reads the manifest and compiles its templates, so a missing file
// or a broken manifest is found before the run starts.
func (a *Apply) Prepare(s *scenario.Loading) error {
	docs, source, err := readManifests(s, manifestSource{File: a.File, Inline: a.Inline, Kustomize: a.Kustomize})
	if err != nil {
		return err
	}
	a.manifests = docs
	if len(a.manifests) == 0 {
		return &scenario.FieldError{Field: fieldOf(a.File, a.Kustomize), Msg: fmt.Sprintf("%s holds no objects", source)}
	}
	return nil
}

// readManifests loads objects from a file (relative to the scenario, never
// outside its directory) or from an inline value.
// manifestSource is where a step's objects come from: one of a file, an
// inline value and a kustomization directory.
type manifestSource struct {
	File      string
	Inline    any
	Kustomize string
}

func readManifests(s *scenario.Loading, src manifestSource) ([]manifest, string, error) {
	file, inline := src.File, src.Inline
	field := fieldOf(file, src.Kustomize)
	var docs []scenario.Document
	source := "inline"
	switch {
	case src.Kustomize != "":
		var err error
		if docs, err = kustomizeBuild(s.Scenario, src.Kustomize); err != nil {
			return nil, src.Kustomize, &scenario.FieldError{Field: "kustomize", Msg: fmt.Sprintf("%s: %v", src.Kustomize, err)}
		}
		source = src.Kustomize
	case file != "":
		path, err := s.ResolvePath(file)
		if err != nil {
			return nil, file, &scenario.FieldError{Field: "file", Msg: err.Error()}
		}
		data, err := scenario.ReadFileLimited(path, scenario.MaxScenarioBytes)
		if err != nil {
			return nil, file, &scenario.FieldError{Field: "file", Msg: fmt.Sprintf("%s: %v", file, err)}
		}
		docs, err = scenario.ParseDocuments(data)
		if err != nil {
			return nil, file, &scenario.FieldError{Field: "file", Msg: fmt.Sprintf("%s: %v", file, err)}
		}
		source = file
	case inline != nil:
		if text, ok := inline.(string); ok {
			var err error
			docs, err = scenario.ParseDocuments([]byte(text))
			var le *scenario.LineError
			if errors.As(err, &le) {
				return nil, source, &scenario.FieldError{Field: "inline", Msg: le.Msg, Line: le.Line}
			}
			if err != nil {
				return nil, source, &scenario.FieldError{Field: "inline", Msg: err.Error()}
			}
		} else if list, ok := inline.([]any); ok {
			for _, v := range list {
				docs = append(docs, scenario.Document{Value: v})
			}
		} else {
			docs = []scenario.Document{{Value: inline}}
		}
	}
	var out []manifest
	for i, d := range docs {
		where := fmt.Sprintf("%s document %d", source, i+1)
		if d.Line > 0 && file != "" {
			where = fmt.Sprintf("%s:%d", source, d.Line)
		}
		// Inline text's lines count within the field.
		line := 0
		if file == "" {
			line = d.Line
		}
		// A manifest written as YAML under inline: its own path there.
		at := field
		if _, isList := inline.([]any); isList {
			at = joinField(field, strconv.Itoa(i))
		}
		fail := func(format string, args ...any) error {
			return &scenario.FieldError{Field: field, Msg: where + ": " + fmt.Sprintf(format, args...), Line: line}
		}
		failAt := func(sub, format string, args ...any) error {
			if _, isText := inline.(string); file != "" || isText || src.Kustomize != "" {
				return fail(format, args...)
			}
			return &scenario.FieldError{Field: joinField(at, sub), Msg: where + ": " + fmt.Sprintf(format, args...)}
		}
		obj, ok := d.Value.(map[string]any)
		if !ok {
			return nil, source, fail("an object is a mapping with apiVersion, kind and metadata")
		}
		for _, key := range []string{"apiVersion", "kind"} {
			if s, _ := obj[key].(string); s == "" {
				return nil, source, fail("%s is required", key)
			}
		}
		md, _ := obj["metadata"].(map[string]any)
		if name, _ := md["name"].(string); name == "" {
			if gn, _ := md["generateName"].(string); gn != "" {
				return nil, source, failAt("metadata.generateName", "metadata.name is required: kdrill applies objects by name (so that a run can be repeated and undone), which generateName cannot give; name the object")
			}
			return nil, source, failAt("metadata", "metadata.name is required")
		}
		t, err := s.CompileValue(obj)
		if err != nil {
			if text, ok := inline.(string); ok {
				line = max(line, lineOfBrokenTemplate(s, obj, text))
			}
			return nil, source, fail("%v", err)
		}
		out = append(out, manifest{source: where, template: t})
	}
	return out, source, nil
}

func fieldOf(file, kustomize string) string {
	switch {
	case file != "":
		return "file"
	case kustomize != "":
		return "kustomize"
	}
	return "inline"
}

// countSet counts the true values.
func countSet(set ...bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}

// applyTarget is one object an apply step writes.
type applyTarget struct {
	obj     *unstructured.Unstructured
	mapping *meta.RESTMapping
	source  string
}

// Run expands the manifests, resolves every kind before writing anything,
// applies the objects in order and optionally waits until they are ready.
func (a *Apply) Run(ctx context.Context, env *step.Env) (any, error) {
	out, targets, err := a.applyAll(ctx, env)
	if err != nil || !a.Wait {
		return out, err
	}
	for _, t := range targets {
		client := env.Cluster.Resource(t.mapping, t.obj.GetNamespace())
		if err := waitReady(ctx, watchQuery{client: client, name: t.obj.GetName(), cluster: env.Cluster}, t.obj.GetKind()+" "+t.obj.GetName()); err != nil {
			return out, err
		}
		if t.mapping.GroupVersionKind.GroupKind() == crdKind {
			if err := waitServed(ctx, env, t.obj); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

var crdKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// waitServed waits until the kind an established CustomResourceDefinition
// defines is in the API server's discovery, which follows the Established
// condition by a moment: a later step can then name the kind.
func waitServed(ctx context.Context, env *step.Env, crd *unstructured.Unstructured) error {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	version := ""
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok && m["served"] == true {
			version, _ = m["name"].(string)
			break
		}
	}
	if group == "" || kind == "" || version == "" {
		return nil
	}
	tick := env.Clock.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := env.Cluster.Mapping(group+"/"+version, kind)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s/%s is established but not yet served: %w", kind, group, version, err)
		case <-tick.C():
		}
	}
}

// applyAll expands and applies every object, in order.
func (a *Apply) applyAll(ctx context.Context, env *step.Env) (*model.ApplyOutput, []applyTarget, error) {
	type target = applyTarget
	var targets []target
	for _, m := range a.manifests {
		v, err := m.template.Expand(env.ExprEnv(nil))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m.source, err)
		}
		obj := &unstructured.Unstructured{Object: v.(map[string]any)}
		mapping, err := env.Cluster.Mapping(obj.GetAPIVersion(), obj.GetKind())
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m.source, err)
		}
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace && obj.GetNamespace() == "" {
			obj.SetNamespace(env.Namespace)
		}
		targets = append(targets, target{obj: obj, mapping: mapping, source: m.source})
	}
	out := &model.ApplyOutput{}
	for _, t := range targets {
		client := env.Cluster.Resource(t.mapping, t.obj.GetNamespace())
		fresh, err := createdOutside(ctx, env, client, t)
		if err != nil {
			return out, targets, err
		}
		applied, err := client.Apply(ctx, t.obj.GetName(), t.obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		if err != nil {
			return out, targets, fmt.Errorf("apply %s %s: %w", t.obj.GetKind(), t.obj.GetName(), err)
		}
		out.Objects = append(out.Objects, model.AppliedObject{
			APIVersion: applied.GetAPIVersion(), Kind: applied.GetKind(),
			Namespace: applied.GetNamespace(), Name: applied.GetName(),
			UID: string(applied.GetUID()), ResourceVersion: applied.GetResourceVersion(),
		})
		env.Log.Debug("applied", "object", t.obj.GetKind()+"/"+t.obj.GetName())
		if fresh {
			removeAtEnd(env, client, t, applied.GetUID())
		}
	}
	return out, targets, nil
}

// waitReady waits until the query matches at least one object and all of
// them are ready.
func waitReady(ctx context.Context, q watchQuery, what string) error {
	last := "not found yet"
	err := watchUntil(ctx, q, func(objs []*unstructured.Unstructured) (bool, error) {
		if len(objs) == 0 {
			last = "not found yet"
			return false, nil
		}
		for _, o := range objs {
			ok, why, failed := readiness(o)
			if failed != nil {
				return false, fmt.Errorf("%s: %w", what, failed)
			}
			if !ok {
				last = why
				return false, nil
			}
		}
		return true, nil
	})
	if isDeadline(err) {
		return fmt.Errorf("timed out waiting for %s to be ready: %s", what, last)
	}
	return err
}

// Plan applies every object as a server-side dry run.
func (a *Apply) Plan(ctx context.Context, env *step.Env) (string, error) {
	out, targets, err := a.applyAll(ctx, env)
	var lines []string
	for i, t := range targets {
		state := "refused"
		if out != nil && i < len(out.Objects) {
			state = "accepted by the API server"
		}
		lines = append(lines, fmt.Sprintf("apply %s/%s in %s: %s", t.obj.GetKind(), t.obj.GetName(), orCluster(t.obj.GetNamespace()), state))
	}
	if a.Wait {
		lines = append(lines, "then wait until each is ready")
	}
	return strings.Join(lines, "\n"), err
}

// lineOfBrokenTemplate is the line, within inline text, of the first string
// of obj whose template does not compile; 0 when it cannot be told.
func lineOfBrokenTemplate(s *scenario.Loading, obj map[string]any, text string) int {
	line := 0
	expression.WalkStrings(obj, func(str string) {
		if line > 0 || !strings.Contains(str, "${{") {
			return
		}
		if _, err := s.CompileValue(str); err == nil {
			return
		}
		first, _, _ := strings.Cut(str, "\n")
		if i := strings.Index(text, first); i >= 0 {
			line = strings.Count(text[:i], "\n") + 1
		}
	})
	return line
}
