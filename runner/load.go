package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdrill/kdrill/model"
)

// commonStepFields are the keys a step may have besides its one action.
var commonStepFields = []string{"name", "timeout", "continueOnError", "background", "points", "hint", "setup"}

// Load reads, decodes strictly, defaults, validates and compiles one
// scenario file. Every problem it finds is returned as LoadErrors, each
// naming the file, line, step and field; nothing touches a cluster.
func Load(path string, reg Registry) (*Scenario, error) {
	return LoadWith(path, reg, LoadOptions{})
}

// LoadOptions relax loading where a person asks for it.
type LoadOptions struct {
	// AllowOutsidePaths lets manifest paths leave the scenario's directory,
	// through .. or a symbolic link (kdrill run --allow-outside-paths).
	AllowOutsidePaths bool
	// Set overrides the vars a scenario declares (--set NAME=VALUE), typed
	// as each is declared; a var the scenario does not declare is left out.
	// Expressions and templates are checked against the result.
	Set map[string]string
}

// LoadWith is Load with options.
func LoadWith(path string, reg Registry, opts LoadOptions) (*Scenario, error) {
	data, err := ReadFileLimited(path, MaxScenarioBytes)
	if err != nil {
		return nil, LoadErrors{{File: path, Msg: err.Error()}}
	}
	return parse(path, data, reg, opts)
}

// ReadFileLimited reads a regular file of at most limit bytes. A named
// pipe, a device or a socket is refused before it is opened (opening a pipe
// would wait for a writer), and so is a symbolic link loop, by name.
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("is a directory, not a file")
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("is a %s, not a regular file", fileType(st.Mode()))
	case st.Size() > limit:
		return nil, fmt.Errorf("file is %d bytes, larger than the %d kdrill reads", st.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than the %d bytes kdrill reads", limit)
	}
	return data, nil
}

// FileError says in a person's words why a file could not be opened or
// resolved: a link loop, a dangling link, a missing file, no permission.
func FileError(path string, err error) error { return fileError(path, err) }

func fileError(path string, err error) error {
	switch {
	case isLinkLoop(err):
		return fmt.Errorf("symbolic link loop: %s resolves to itself", path)
	case errors.Is(err, os.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Errorf("symbolic link to %s, which does not exist", target)
		}
		return fmt.Errorf("file not found")
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("permission denied")
	}
	return fmt.Errorf("cannot read: %w", errors.Unwrap(err))
}

func isLinkLoop(err error) bool {
	// filepath.EvalSymlinks says so in words, not with ELOOP.
	return errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), "too many links")
}

func fileType(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// Parse loads a scenario from data; path names it in errors and anchors
// relative manifest paths.
func Parse(path string, data []byte, reg Registry) (*Scenario, error) {
	return parse(path, data, reg, LoadOptions{})
}

// maxLoadErrors is how many problems one file reports; the rest are
// counted.
const maxLoadErrors = 50

func parse(path string, data []byte, reg Registry, opts LoadOptions) (*Scenario, error) {
	l := &loader{file: path, reg: reg, opts: opts}
	s := l.parse(data)
	if n := len(l.errs); n > maxLoadErrors {
		l.errs = append(l.errs[:maxLoadErrors], &LoadError{File: path, Msg: fmt.Sprintf("%d more problems not shown; fix these first", n-maxLoadErrors)})
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return s, nil
}

type loader struct {
	file string
	reg  Registry
	opts LoadOptions
	errs LoadErrors
	// index is every step of the scenario, read ahead for expressions and
	// references that name steps.
	index *stepIndex
	// nSteps is the length of spec.steps: finally steps come after.
	nSteps int
}

// indexSteps pre-reads the names and positions of the scenario's steps.
func indexSteps(steps, finally *tree) (*stepIndex, int) {
	x := &stepIndex{pos: map[string]int{}, labels: map[string]string{}, decoded: map[string]*Step{}}
	n := 0
	for _, list := range []struct {
		t     *tree
		phase model.Phase
	}{{steps, model.PhaseSteps}, {finally, model.PhaseFinally}} {
		if list.t == nil {
			continue
		}
		for i, item := range list.t.items {
			if name, ok := item.child("name").stringValue(); ok {
				if _, dup := x.pos[name]; !dup {
					x.pos[name] = n + i
					x.labels[name] = (&Step{Name: name, Phase: list.phase, Index: i}).Label()
				}
			}
		}
		if list.phase == model.PhaseSteps {
			n = len(list.t.items)
		}
	}
	return x, n
}

func (l *loader) fail(line int, step, field, format string, args ...any) {
	l.errs = append(l.errs, &LoadError{File: l.file, Line: line, Step: step, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) parse(data []byte) *Scenario {
	if msg := textEncodingProblem(data); msg != "" {
		l.fail(0, "", "", "%s", msg)
		return nil
	}
	docs, err := parseYAMLDocuments(data)
	if err != nil {
		var te *treeError
		if errors.As(err, &te) {
			l.fail(te.line, "", "", "%s", te.msg)
		} else {
			l.fail(0, "", "", "%s", err)
		}
		return nil
	}
	if len(docs) == 0 {
		l.fail(0, "", "", "empty file: a scenario starts with apiVersion: %s and kind: %s", APIVersion, Kind)
		return nil
	}
	if len(docs) > 1 {
		l.fail(docs[1].line, "", "", "a scenario file holds one document; put manifests in their own files")
		return nil
	}
	root := docs[0]
	if root.fields == nil {
		l.fail(root.line, "", "", "a scenario is a mapping with apiVersion, kind, metadata and spec")
		return nil
	}
	abs, err := filepath.Abs(l.file)
	if err != nil {
		abs = l.file
	}
	s := &Scenario{File: l.file, Dir: filepath.Dir(abs), AllowOutsidePaths: l.opts.AllowOutsidePaths}
	for _, k := range sortedKeys(root.fields) {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			msg := "unknown field; a scenario has apiVersion, kind, metadata and spec"
			switch {
			case k == "steps" || k == "finally" || slices.Contains(jsonFieldNames(reflect.TypeFor[Spec]()), k):
				msg = fmt.Sprintf("unknown field; %s belongs under spec", k)
			case slices.Contains(jsonFieldNames(reflect.TypeFor[Metadata]()), k):
				msg = fmt.Sprintf("unknown field; %s belongs under metadata", k)
			case oddRunes(k) != "":
				msg = "unknown field: the name has " + oddRunes(k)
			}
			l.fail(root.fields[k].keyLine, "", k, "%s", msg)
		}
	}
	s.APIVersion, _ = root.child("apiVersion").stringValue()
	if s.APIVersion != APIVersion {
		l.fail(lineOr(root.child("apiVersion"), root.line), "", "apiVersion", "must be %s, not %q", APIVersion, s.APIVersion)
	}
	s.Kind, _ = root.child("kind").stringValue()
	if s.Kind != Kind {
		l.fail(lineOr(root.child("kind"), root.line), "", "kind", "must be %s, not %q", Kind, s.Kind)
	}
	if md := root.child("metadata"); md == nil {
		l.fail(root.line, "", "metadata", "required (metadata.name names the scenario)")
	} else {
		l.decode(md, &s.Metadata, "", "metadata")
		if s.Metadata.Name == "" {
			l.fail(md.lineOf(), "", "metadata.name", "required")
		} else if msg := checkName(s.Metadata.Name); msg != "" {
			l.fail(md.find("name").lineOf(), "", "metadata.name", "%s", msg)
		}
	}
	spec := root.child("spec")
	if spec == nil || spec.fields == nil {
		l.fail(lineOr(spec, root.line), "", "spec", "required: a mapping with at least steps")
		return s
	}
	body := &tree{line: spec.line, fields: map[string]*tree{}}
	bodyValue := map[string]any{}
	for k, v := range spec.fields {
		if k == "steps" || k == "finally" {
			continue
		}
		body.fields[k] = v
		bodyValue[k] = v.value
	}
	body.value = bodyValue
	l.decode(body, &s.Spec, "", "spec")
	if s.Spec.Timeout.IsZero() {
		s.Spec.Timeout = model.Duration{Duration: DefaultScenarioTimeout}
	}
	if s.Spec.StepTimeout.IsZero() {
		s.Spec.StepTimeout = model.Duration{Duration: DefaultStepTimeout}
	}
	if s.Spec.Namespace != "" {
		if msg := checkName(s.Spec.Namespace); msg != "" {
			l.fail(spec.find("namespace").lineOf(), "", "spec.namespace", "%s", msg)
		}
	}
	tolerances := spec.child("tolerances")
	var patterns map[string]*tree
	if tolerances != nil {
		patterns = tolerances.fields
	}
	for _, pattern := range sortedKeys(patterns) {
		tol := s.Spec.Tolerances[pattern]
		line := patterns[pattern].lineOf()
		if tol.Relative != nil && *tol.Relative < 0 {
			l.fail(line, "", "spec.tolerances."+pattern+".relative", "must be >= 0 (0.1 is 10 %%)")
		}
		if tol.Slack != nil && tol.Slack.Duration < 0 {
			l.fail(line, "", "spec.tolerances."+pattern+".slack", "must not be negative")
		}
		if tol.Relative == nil && tol.Slack == nil && !tol.Ignore {
			l.fail(line, "", "spec.tolerances."+pattern, "give relative, slack or ignore")
		}
	}
	if s.Spec.Vars == nil {
		s.Spec.Vars = map[string]any{}
	}
	for _, name := range slices.Sorted(maps.Keys(l.opts.Set)) {
		declared, ok := s.Spec.Vars[name]
		if !ok {
			continue
		}
		v, err := SetVar(declared, l.opts.Set[name])
		if err != nil {
			l.fail(spec.find("vars."+name).lineOf(), "", "spec.vars."+name, "--set %s=%s: %s", name, l.opts.Set[name], err)
			continue
		}
		s.Spec.Vars[name] = v
	}
	steps := spec.child("steps")
	if steps == nil || len(steps.items) == 0 {
		l.fail(lineOr(steps, spec.lineOf()), "", "spec.steps", "required: a list of at least one step")
	}
	l.index, l.nSteps = indexSteps(steps, spec.child("finally"))
	s.Spec.Steps = l.steps(s, steps, model.PhaseSteps)
	s.Spec.Finally = l.steps(s, spec.child("finally"), model.PhaseFinally)

	seen := map[string]*Step{}
	for _, st := range slices.Concat(s.Spec.Steps, s.Spec.Finally) {
		if prev, dup := seen[st.Name]; dup {
			l.fail(st.Line, st.Label(), "name", "duplicate step name (also %s at line %d); names must be unique so steps.NAME is clear", prev.Label(), prev.Line)
		}
		l.checkRefs(st, seen)
		l.checkLab(s, st)
		if st.Info.Continuous && !st.Background && st.Action != nil {
			l.fail(st.Line, st.Label(), "background", "a %s runs until it is stopped, so it needs background: true (a stop step, or the end of the steps, ends it)", st.Kind)
		}
		if st.Background && st.Phase == model.PhaseFinally {
			l.fail(st.Line, st.Label(), "background", "finally steps run one after another; background is for steps")
		}
		seen[st.Name] = st
	}
	return s
}

// unknownStepKey explains a key of a step that is neither a step field nor
// a step kind.
func (l *loader) unknownStepKey(k string, kinds []string) string {
	if odd := oddRunes(k); odd != "" {
		return "unknown step kind or field: the name has " + odd + suggest(cleanName(k), append(l.reg.Kinds(), commonStepFields...))
	}
	var owners []string
	for _, kind := range l.reg.Kinds() {
		if slices.Contains(jsonFieldNames(reflect.TypeOf(l.reg[kind].New())), k) && (len(kinds) == 0 || slices.Contains(kinds, kind)) {
			owners = append(owners, kind)
		}
	}
	if len(kinds) == 1 && len(owners) == 1 {
		return fmt.Sprintf("unknown step field; %s is a field of %s: put it under %s", k, kinds[0], kinds[0])
	}
	if len(kinds) == 0 && len(owners) > 0 {
		return fmt.Sprintf("unknown step field; %s is a field of %s: put it under the step's kind", k, strings.Join(owners, ", "))
	}
	return fmt.Sprintf("unknown step kind or field%s; step kinds: %s; step fields: %s",
		suggest(k, append(l.reg.Kinds(), commonStepFields...)), strings.Join(l.reg.Kinds(), ", "), strings.Join(commonStepFields, ", "))
}

// checkRefs checks the steps an action names: each must come earlier and
// be what the reference needs.
func (l *loader) checkRefs(st *Step, seen map[string]*Step) {
	ref, ok := st.Action.(StepReferrer)
	if !ok {
		return
	}
	for _, r := range ref.StepRefs() {
		field := joinField(st.Kind, r.Field)
		target, ok := seen[r.Name]
		switch {
		case !ok && l.index.labels[r.Name] != "":
			l.fail(st.Line, st.Label(), field, "%s comes later; a step can name only earlier steps", l.index.labels[r.Name])
		case !ok:
			l.fail(st.Line, st.Label(), field, "no earlier step is named %q%s", r.Name, suggest(r.Name, slices.Collect(maps.Keys(seen))))
		case r.Kind != "" && target.Kind != r.Kind:
			l.fail(st.Line, st.Label(), field, "%s is a %s step, not a %s", target.Label(), target.Kind, r.Kind)
		case r.Background && !target.Background:
			l.fail(st.Line, st.Label(), field, "%s does not run in the background (add background: true to it)", target.Label())
		}
	}
}

// checkLab enforces what a lab promises: checks carry points and never
// write; only setup steps may.
func (l *loader) checkLab(s *Scenario, st *Step) {
	if st.Action == nil {
		return
	}
	if s.Spec.Lab == nil {
		if st.Points != 0 || st.Setup {
			l.fail(st.Line, st.Label(), "points", "points and setup only count in a lab (add spec.lab)")
		}
		return
	}
	switch {
	case st.Setup && st.Points != 0:
		l.fail(st.Line, st.Label(), "points", "a setup step prepares and earns no points")
	case st.Setup:
	case st.Effect() != Reads:
		l.fail(st.Line, st.Label(), st.Kind, "a lab never writes to the cluster: %s changes it; mark the step setup: true if it prepares the lab", st.Kind)
	case st.Points <= 0 && st.Phase == model.PhaseSteps && !st.Info.Control:
		l.fail(st.Line, st.Label(), "points", "a check in a lab needs points > 0 (and a hint)")
	}
}

func (l *loader) steps(s *Scenario, list *tree, phase model.Phase) []*Step {
	if list == nil {
		return nil
	}
	if list.items == nil {
		if list.value != nil {
			l.fail(list.lineOf(), "", "spec."+string(phase), "must be a list of steps")
		}
		return nil
	}
	var out []*Step
	for i, item := range list.items {
		st := &Step{Index: i, Phase: phase, Line: item.line}
		if item.fields == nil {
			st.Name = fmt.Sprintf("#%d", i)
			l.fail(item.line, st.Label(), "", "a step is a mapping with a name and one action")
			continue
		}
		if n, ok := item.child("name").stringValue(); ok {
			st.Name = n
		}
		var kinds, unknown []string
		common := &tree{line: item.line, fields: map[string]*tree{}}
		commonValue := map[string]any{}
		for _, k := range sortedKeys(item.fields) {
			switch {
			case slices.Contains(commonStepFields, k):
				common.fields[k] = item.fields[k]
				commonValue[k] = item.fields[k].value
			case l.reg.Has(k):
				kinds = append(kinds, k)
			default:
				unknown = append(unknown, k)
			}
		}
		for _, k := range unknown {
			if st.Name == "" {
				st.Name = fmt.Sprintf("#%d", i)
			}
			l.fail(item.fields[k].keyLine, st.Label(), k, "%s", l.unknownStepKey(k, kinds))
		}
		common.value = commonValue
		switch len(kinds) {
		case 0:
			if st.Name == "" {
				st.Name = fmt.Sprintf("#%d", i)
			}
			l.fail(item.line, st.Label(), "", "step has no action; give it one of: %s", strings.Join(l.reg.Kinds(), ", "))
			continue
		case 1:
		default:
			if st.Name == "" {
				st.Name = kinds[0]
			}
			l.fail(item.fields[kinds[1]].keyLine, st.Label(), kinds[1], "a step does one thing, and this one also has %s (line %d); split it into two steps",
				kinds[0], item.fields[kinds[0]].keyLine)
			continue
		}
		st.Kind = kinds[0]
		if st.Name == "" {
			st.Name = fmt.Sprintf("%s-%d", st.Kind, i)
		}
		l.decode(common, st, st.Label(), "")
		if st.Name == "" {
			l.fail(item.line, st.Label(), "name", "must not be empty")
		}
		body := item.fields[st.Kind]
		st.Info = l.reg[st.Kind]
		st.Action = st.Info.New()
		if body.value == nil && body.fields == nil {
			body = &tree{line: body.line, keyLine: body.keyLine, fields: map[string]*tree{}, value: map[string]any{}}
		}
		sc := l.scope(s, st)
		written, ok := l.templated(s, st, body, sc)
		if !ok || !l.decode(written, st.Action, st.Label(), st.Kind) {
			out = append(out, st)
			continue
		}
		before := plainJSON(st.Action)
		st.Action.Default()
		l.explicitDefaults(written, "", before, plainJSON(st.Action), st)
		var fields []fieldTemplate
		if st.template != nil {
			fields = st.template.fields
		}
		l.fieldErrors(dropErrorsAt(st.Action.Validate(), fields), body, st)
		l.wellKnownFields(reflect.ValueOf(st.Action), "", body, st)
		l.compileExprs(st, body, sc)
		if p, ok := st.Action.(Preparer); ok {
			s.loading = sc
			l.fieldErrors(p.Prepare(s), body, st)
			s.loading = nil
		}
		if msg := checkNamespaces(st, s.Spec.Namespace, ", the scenario's namespace"); msg != "" {
			l.fail(body.lineOf(), st.Label(), st.Kind, "%s", msg)
		}
		out = append(out, st)
		if _, dup := l.index.decoded[st.Name]; !dup {
			l.index.decoded[st.Name] = st
		}
	}
	return out
}

// wellKnownFields checks, in every step kind alike, the string fields
// whose meaning is Kubernetes': a namespace is a DNS label, a selector a
// label selector. A template is checked when it is expanded.
func (l *loader) wellKnownFields(v reflect.Value, path string, body *tree, st *Step) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range JSONFields(v.Type()) {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil {
				continue
			}
			at := joinField(path, f.Name)
			if text, ok := fv.Interface().(string); ok && text != "" && !strings.Contains(text, "${{") {
				if msg := wellKnownValue(f.Name, text); msg != "" {
					l.fail(body.find(at).lineOf(), st.Label(), joinField(st.Kind, at), "%s", msg)
				}
				continue
			}
			l.wellKnownFields(fv, at, body, st)
		}
	case reflect.Slice:
		for i := range v.Len() {
			l.wellKnownFields(v.Index(i), joinField(path, strconv.Itoa(i)), body, st)
		}
	}
}

// wellKnownValue checks a namespace or selector field's text.
func wellKnownValue(field, text string) string {
	switch field {
	case "namespace":
		return checkName(text)
	case "selector":
		if _, err := labels.Parse(text); err != nil {
			return fmt.Sprintf("%q is not a label selector: %v", text, err)
		}
	}
	return ""
}

// plainJSON is v as encoding/json sees it, in plain values.
func plainJSON(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

// explicitDefaults refuses a value written in the file that Default then
// replaced: set and unset are different, and an explicit value that is not
// allowed (mean: 0) never falls back to the default silently.
func (l *loader) explicitDefaults(t *tree, path string, before, after any, st *Step) {
	switch {
	case t.fields != nil:
		for k, c := range t.fields {
			l.explicitDefaults(c, joinField(path, k), before, after, st)
		}
	case t.items != nil:
		for i, c := range t.items {
			l.explicitDefaults(c, joinField(path, strconv.Itoa(i)), before, after, st)
		}
	default:
		was, now := valueAt(before, path), valueAt(after, path)
		if !reflect.DeepEqual(was, now) {
			l.fail(t.lineOf(), st.Label(), joinField(st.Kind, path), "%s is not a value this field takes (left out, it defaults to %s); write the value you mean, or leave the field out",
				FormatValue(t.value), FormatValue(now))
		}
	}
}

// valueAt reads a dotted path of keys and indices from plain values.
func valueAt(v any, path string) any {
	if path == "" {
		return v
	}
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// fieldErrors records err, locating each FieldError at its field's line.
func (l *loader) fieldErrors(err error, body *tree, st *Step) {
	if err == nil {
		return
	}
	var fes FieldErrors
	var fe *FieldError
	switch {
	case errors.As(err, &fes):
	case errors.As(err, &fe):
		fes = FieldErrors{fe}
	default:
		fes = FieldErrors{{Msg: err.Error()}}
	}
	for _, fe := range fes {
		field := st.Kind
		if fe.Field != "" {
			field += "." + fe.Field
		}
		node := body.find(fe.Field)
		line := node.lineOf()
		if fe.Line > 0 && node.fields == nil && node.items == nil {
			// A line within the field's text: a block starts after its
			// indicator, any other scalar on its own line.
			line = node.line + fe.Line - 1
			if node.block {
				line++
			}
		}
		l.fail(line, st.Label(), field, "%s", fe.Msg)
	}
}

// templated finds the step's field templates and returns the body to
// check at load: the written one, or one with the templates' values (or
// stand-ins) in their place. ok is false when a template is broken.
func (l *loader) templated(s *Scenario, st *Step, body *tree, sc *exprScope) (*tree, bool) {
	n := len(l.errs)
	typ := reflect.TypeOf(st.Action)
	fields := l.findFieldTemplates(st, typ, body, sc)
	if len(l.errs) > n {
		return nil, false
	}
	if len(fields) == 0 {
		return body, true
	}
	written, err := loadTimeBody(body, fields, typ, s.Spec.Vars)
	if err != nil {
		l.fail(body.lineOf(), st.Label(), st.Kind, "%s", err)
		return nil, false
	}
	st.template = &stepTemplate{body: body.value, fields: fields, scope: sc, scenario: s}
	return written, true
}

// scope is what the step's expressions may name: the scenario's vars, the
// steps before it, and the names its kind adds.
func (l *loader) scope(s *Scenario, st *Step) *exprScope {
	pos := st.Index
	if st.Phase == model.PhaseFinally {
		pos += l.nSteps
	}
	sc := &exprScope{vars: s.Spec.Vars, steps: l.index, pos: pos}
	if es, ok := st.Action.(ExprScope); ok {
		sc.extra = es.ExprNames()
	}
	return sc
}

// compileExprs compiles every Expr field of the step's action in its
// scope.
func (l *loader) compileExprs(st *Step, body *tree, sc *exprScope) {
	walkExprs(reflect.ValueOf(st.Action), "", func(path string, e *Expr) {
		if err := e.compileIn(sc); err != nil {
			l.fail(body.find(path).lineOf(), st.Label(), joinField(st.Kind, path), "%s", err)
		}
	})
}

var exprType = reflect.TypeFor[Expr]()

// walkExprs calls fn for every non-empty Expr reachable from v, with its
// dotted JSON path.
func walkExprs(v reflect.Value, path string, fn func(string, *Expr)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkExprs(v.Elem(), path, fn)
		}
	case reflect.Struct:
		if v.Type() == exprType {
			if e := v.Addr().Interface().(*Expr); !e.IsZero() {
				fn(path, e)
			}
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				walkExprs(v.Field(i), path, fn)
				continue
			}
			walkExprs(v.Field(i), joinField(path, name), fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkExprs(v.Index(i), joinField(path, fmt.Sprint(i)), fn)
		}
	}
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "." + b
}

// decode decodes the tree into v strictly (unknown fields are errors) and
// records any problem at the line it comes from. It reports success.
func (l *loader) decode(t *tree, v any, step, prefix string) bool {
	raw, err := json.Marshal(t.value)
	if err != nil {
		l.fail(t.lineOf(), step, prefix, "%s", err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		l.fail(t.find(field).lineOf(), step, joinField(prefix, field), "must be %s, not %s", describeType(typeErr.Type), describeJSON(typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = strings.Trim(quoted, `"`)
		}
		path, line := t.findKeyPath(name)
		field := joinField(prefix, strings.Join(append(slices.Clone(path), name), "."))
		kind := ""
		if step != "" {
			kind = prefix
		}
		msg := unknownField(reflect.TypeOf(v), path, name, kind)
		if prefix == "spec" && len(path) == 0 && (slices.Contains(commonStepFields, name) || l.reg.Has(name)) {
			msg = fmt.Sprintf("unknown field; %s belongs to a step: put it in a step under spec.steps", name)
		}
		l.fail(line, step, field, "%s", msg)
	default:
		// A field's own decoder (a duration, an expression) failed: find the
		// value it quotes to name the field and its line.
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if path, node := locateDecodeError(t, reflect.TypeOf(v)); node != nil {
			l.fail(node.lineOf(), step, joinField(prefix, path), "%s", msg)
		} else if path, node := t.findValue(msg); node != nil {
			l.fail(node.lineOf(), step, joinField(prefix, path), "%s", msg)
		} else {
			l.fail(t.lineOf(), step, prefix, "%s", msg)
		}
	}
	return false
}

// locateDecodeError finds the field whose value, decoded on its own, fails
// as the whole did: a field's own decoder (a duration, an expression) does
// not say where it was.
func locateDecodeError(t *tree, typ reflect.Type) (string, *tree) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	fails := func(n *tree, ft reflect.Type) bool {
		raw, err := json.Marshal(n.value)
		return err != nil || json.Unmarshal(raw, reflect.New(ft).Interface()) != nil
	}
	switch {
	case typ.Kind() == reflect.Struct && t.fields != nil:
		for _, k := range sortedKeys(t.fields) {
			f, ok := jsonField(typ, k)
			if !ok || !fails(t.fields[k], f.Type) {
				continue
			}
			if p, n := locateDecodeError(t.fields[k], f.Type); n != nil {
				return joinField(k, p), n
			}
			return k, t.fields[k]
		}
	case typ.Kind() == reflect.Slice && t.items != nil:
		for i, c := range t.items {
			if !fails(c, typ.Elem()) {
				continue
			}
			if p, n := locateDecodeError(c, typ.Elem()); n != nil {
				return joinField(strconv.Itoa(i), p), n
			}
			return strconv.Itoa(i), c
		}
	}
	return "", nil
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	}
	return t.String()
}

func describeJSON(v string) string {
	switch v {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return v
}

// Suggest returns ` (did you mean "x"?)` for the candidate closest to word,
// or "" when none is close.
func Suggest(word string, candidates []string) string { return suggest(word, candidates) }

// suggest returns ` (did you mean "x"?)` for the closest candidate.
func suggest(word string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkName returns a message when name cannot be a Kubernetes name.
func checkName(name string) string {
	if len(name) > 63 {
		return "must be at most 63 characters"
	}
	for i, r := range name {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (r == '-' && i > 0 && i < len(name)-1)
		if !ok {
			return fmt.Sprintf("%q must be lower-case letters, digits and inner dashes (a Kubernetes name)", name)
		}
	}
	return ""
}

func (t *tree) stringValue() (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.value.(string)
	return s, ok
}

func lineOr(t *tree, line int) int {
	if t == nil {
		return line
	}
	return t.lineOf()
}

func sortedKeys(m map[string]*tree) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]].keyLine < m[keys[j]].keyLine })
	return keys
}
