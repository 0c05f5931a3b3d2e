package scenario

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// maxIncludeDepth bounds includes within includes.
const maxIncludeDepth = 8

// maxIncludedSteps bounds the steps includes may bring in all, so files
// that include each other many times over cannot multiply without end.
const maxIncludedSteps = MaxSteps

// stepItem is one step as written, with where it comes from: the
// scenario's own steps, or the steps of an included file.
type stepItem struct {
	t *tree
	// file is where the step is written; via lists the include steps that
	// brought it in, outermost first, as FILE:LINE.
	file string
	via  []Position
	// prefix is "<include step name>/" for each include around it.
	prefix string
	// vars are the included file's (nil: the scenario's); dir is the
	// included file's directory (empty: the scenario's).
	vars map[string]any
	dir  string
	// failed marks an include that could not be read: it holds its place,
	// so the steps after it keep their positions, and is not a step.
	failed bool
}

// IncludeSpec is an include step's body: the steps of another file,
// inserted in place, named <include step name>/<step name>.
type IncludeSpec struct {
	// File is the steps file, relative to the file that includes it.
	File string `json:"file"`
	// With sets the included file's vars, which it declares with their
	// defaults; a key it does not declare is an error.
	With map[string]any `json:"with,omitempty"`
}

// flatten lists the steps of a list, replacing each include step with the
// steps of its file, recursively.
func (l *loader) flatten(list *tree, phase model.Phase, from stepItem, chain []string) []stepItem {
	if list == nil || list.items == nil {
		return nil
	}
	var out []stepItem
	for i, item := range list.items {
		it := from
		it.t = item
		if item.fields == nil || item.child("include") == nil {
			out = append(out, it)
			continue
		}
		inc := l.include(it, phase, i, chain)
		if inc == nil {
			it.failed = true
			inc = []stepItem{it}
		}
		out = append(out, inc...)
	}
	return out
}

// include loads the steps file an include step names and returns its steps.
func (l *loader) include(it stepItem, phase model.Phase, index int, chain []string) []stepItem {
	item := it.t
	prev := l.cur
	l.cur = &it
	defer func() { l.cur = prev }()
	name, _ := item.child("name").stringValue()
	label := (&Step{Name: it.prefix + name, Phase: phase, Index: index}).Label()
	for _, k := range sortedKeys(item.fields) {
		if k != "name" && k != "include" {
			l.fail(item.fields[k].keyLine, label, k, "an include step has a name and include only; put %s on the included steps", k)
		}
	}
	if name == "" {
		l.fail(item.line, label, "name", "required: the included steps are named NAME/STEP")
		return nil
	}
	if strings.Contains(name, "/") {
		l.fail(item.child("name").lineOf(), label, "name", "must not contain /: it separates an include's name from its steps'")
		return nil
	}
	var spec IncludeSpec
	if !l.decode(item.child("include"), &spec, label, "include") {
		return nil
	}
	if spec.File == "" {
		l.fail(item.child("include").lineOf(), label, "include.file", "required: the steps file to include")
		return nil
	}
	if len(chain) >= maxIncludeDepth {
		l.fail(item.line, label, "include", "includes nest more than %d deep", maxIncludeDepth)
		return nil
	}
	host := &Scenario{Dir: l.dirOf(it), Root: l.root, AllowOutsidePaths: l.opts.AllowOutsidePaths}
	path, err := host.ResolvePath(spec.File)
	if err != nil {
		l.fail(item.child("include").find("file").lineOf(), label, "include.file", "%s", err)
		return nil
	}
	if i := slices.Index(chain, path); i >= 0 {
		cycle := append(slices.Clone(chain[i:]), path)
		for j := range cycle {
			cycle[j] = l.rel(cycle[j])
		}
		l.fail(item.child("include").find("file").lineOf(), label, "include.file", "include cycle: %s", strings.Join(cycle, " → "))
		return nil
	}
	if l.included >= maxIncludedSteps {
		l.fail(item.line, label, "include", "includes bring in more than %d steps; a scenario this large is a mistake", maxIncludedSteps)
		return nil
	}
	inner := stepItem{
		file:   l.rel(path),
		via:    append(slices.Clone(it.via), Position{it.file, item.line}),
		prefix: it.prefix + name + "/",
		dir:    filepath.Dir(path),
	}
	root := l.parsed.included[path]
	if root == nil {
		data, err := readScenarioFile(path)
		if err != nil {
			l.fail(item.child("include").find("file").lineOf(), label, "include.file", "%s: %s", spec.File, err)
			return nil
		}
		l.sum.Write(data)
		l.cur = &inner
		before := len(l.errs)
		if root = l.stepsDocument(data); root == nil {
			return nil
		}
		if len(l.errs) == before {
			l.parsed.included[path] = root
		}
	}
	l.cur = &inner
	declared := l.stepsVars(root)
	inner.vars = maps.Clone(declared)
	l.cur = &it
	for _, k := range slices.Sorted(maps.Keys(spec.With)) {
		def, ok := declared[k]
		if !ok {
			l.fail(item.child("include").find("with."+k).lineOf(), label, "include.with."+k,
				"%s declares no var %q%s%s", spec.File, k, message.Suggest(k, slices.Sorted(maps.Keys(declared))), message.Declared("vars", slices.Sorted(maps.Keys(declared))))
			continue
		}
		v, err := l.atLoad(it.vars, spec.With[k])
		if err == nil {
			v, err = withValue(def, v)
		}
		if err != nil {
			l.fail(item.child("include").find("with."+k).lineOf(), label, "include.with."+k, "%s", err)
			continue
		}
		inner.vars[k] = v
	}
	l.cur = &inner
	steps := root.child("spec").child("steps")
	if steps == nil || len(steps.items) == 0 {
		l.fail(lineOr(steps, root.line), "", "spec.steps", "required: a list of at least one step")
		return nil
	}
	out := l.flatten(steps, phase, inner, append(slices.Clone(chain), path))
	l.included += len(out)
	return out
}

// withValue types an include's value as the var's default is typed, as
// --set does for a value written as text.
func withValue(declared, v any) (any, error) {
	if s, ok := v.(string); ok {
		return SetVar(declared, s)
	}
	if _, isString := declared.(string); isString {
		// A number or a list given for a string var is its text.
		return varText(v)
	}
	return typedVar(declared, v, expression.FormatValue(v))
}

// stepsDocument parses a steps file and checks its envelope.
func (l *loader) stepsDocument(data []byte) *tree {
	root := l.document(data)
	if root == nil {
		return nil
	}
	for _, k := range sortedKeys(root.fields) {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			l.fail(root.fields[k].keyLine, "", k, "unknown field; a steps file has apiVersion, kind, metadata and spec")
		}
	}
	if v, _ := root.child("apiVersion").stringValue(); v != APIVersion {
		l.fail(lineOr(root.child("apiVersion"), root.line), "", "apiVersion", "must be %s, not %q", APIVersion, v)
	}
	if k, _ := root.child("kind").stringValue(); k != StepsKind {
		l.fail(lineOr(root.child("kind"), root.line), "", "kind", "an included file must be kind: %s, not %q", StepsKind, k)
		return nil
	}
	var md Metadata
	if md := root.child("metadata"); md == nil {
		l.fail(root.line, "", "metadata", "required (metadata.name names the steps)")
	}
	if mdt := root.child("metadata"); mdt != nil {
		l.decode(mdt, &md, "", "metadata")
	}
	spec := root.child("spec")
	if spec == nil || spec.fields == nil {
		l.fail(lineOr(spec, root.line), "", "spec", "required: a mapping with vars (optional) and steps")
		return nil
	}
	for _, k := range sortedKeys(spec.fields) {
		if k != "vars" && k != "steps" {
			l.fail(spec.fields[k].keyLine, "", "spec."+k, "unknown field; a steps file's spec has vars and steps")
		}
	}
	return root
}

// stepsVars are the vars a steps file declares, with their defaults.
func (l *loader) stepsVars(root *tree) map[string]any {
	vars := map[string]any{}
	if v := root.child("spec").child("vars"); v != nil {
		if v.fields == nil && v.value != nil {
			l.fail(v.lineOf(), "", "spec.vars", "must be a mapping of names to default values")
			return vars
		}
		for k, f := range v.fields {
			vars[k] = f.value
		}
	}
	return vars
}

// dirOf is the directory an item's relative paths start from.
func (l *loader) dirOf(it stepItem) string {
	if it.dir != "" {
		return it.dir
	}
	return l.root
}

// rel names a path for messages: relative to the scenario's directory
// when it is inside it.
func (l *loader) rel(path string) string {
	if r, err := filepath.Rel(l.root, path); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.Join(filepath.Dir(l.file), r)
	}
	return path
}
