package scenario

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

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
	// Budget bounds what the load compiles (MaxCompiled when nil); a
	// matrix's instances share one.
	Budget *expression.Budget
}

// MaxSteps bounds a scenario's steps and finally steps, included ones
// counted.
const MaxSteps = 2000

// MaxCompiled bounds the expressions and templates one load compiles, a
// matrix's instances together: past it a scenario is refused, not loaded
// for minutes into gigabytes.
const MaxCompiled = 20_000

// LoadWith is Load with options.
func LoadWith(path string, reg Registry, opts LoadOptions) (*Scenario, error) {
	data, err := ReadFileLimited(path, MaxScenarioBytes)
	if err != nil {
		return nil, LoadErrors{{File: path, Msg: err.Error()}}
	}
	return parse(path, data, reg, opts)
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
	if opts.Budget == nil {
		opts.Budget = &expression.Budget{Limit: MaxCompiled}
	}
	l := &loader{file: path, reg: reg, opts: opts, sum: sha256.New()}
	before := opts.Budget.Used()
	s := l.parse(data)
	if s != nil {
		s.Digest = fmt.Sprintf("sha256:%x", l.sum.Sum(nil))
		s.compiled = opts.Budget.Used() - before
	}
	// Includes and matrices are read before the steps: report in the
	// order of the file, each included file's problems where its include is.
	sort.SliceStable(l.errs, func(i, j int) bool { return errLine(l.errs[i]) < errLine(l.errs[j]) })
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
	index *expression.Steps
	// nSteps is the length of spec.steps: finally steps come after.
	nSteps int
	// root is the scenario file's directory, which included files and
	// manifests may not leave.
	root string
	// included counts the steps includes brought in so far.
	included int
	// cur is the step being read when it comes from an included file, so
	// errors name that file and the includes that led there.
	cur *stepItem
	// sum hashes the scenario's file and the files it includes.
	sum hash.Hash
	// vars are the scenario's vars, once read (with --set).
	vars map[string]any
}

func (l *loader) fail(line int, step, field, format string, args ...any) {
	le := &LoadError{File: l.file, Line: line, Step: step, Field: field, Msg: fmt.Sprintf(format, args...)}
	if l.cur != nil && l.cur.file != "" {
		le.File, le.Via = l.cur.file, l.cur.via
	}
	l.errs = append(l.errs, le)
}

// parse loads a scenario from its text: the document, the envelope, the
// spec, then the steps.
func (l *loader) parse(data []byte) *Scenario {
	l.sum.Write(data)
	root := l.document(data)
	if root == nil {
		return nil
	}
	abs, err := filepath.Abs(l.file)
	if err != nil {
		abs = l.file
	}
	l.root = filepath.Dir(abs)
	s := &Scenario{File: l.file, Dir: l.root, AllowOutsidePaths: l.opts.AllowOutsidePaths}
	l.envelope(root, s)
	spec := root.child("spec")
	if spec == nil || spec.fields == nil {
		l.fail(lineOr(spec, root.line), "", "spec", "required: a mapping with at least steps")
		return s
	}
	l.spec(spec, s)
	steps := spec.child("steps")
	if steps == nil || len(steps.items) == 0 {
		l.fail(lineOr(steps, spec.lineOf()), "", "spec.steps", "required: a list of at least one step")
	}
	if steps != nil && steps.items == nil && steps.value != nil {
		l.fail(steps.lineOf(), "", "spec.steps", "must be a list of steps")
	}
	if f := spec.child("finally"); f != nil && f.items == nil && f.value != nil {
		l.fail(f.lineOf(), "", "spec.finally", "must be a list of steps")
	}
	l.vars = s.Spec.Vars
	top := stepItem{file: l.file}
	items, finally := l.flatten(steps, model.PhaseSteps, top, nil), l.flatten(spec.child("finally"), model.PhaseFinally, top, nil)
	if n := len(items) + len(finally); n > MaxSteps {
		// Refused before any is read: each costs time and memory.
		l.fail(lineOr(steps, spec.lineOf()), "", "spec.steps", "%d steps (with those includes bring in); a scenario may have at most %d: split it into several scenarios", n, MaxSteps)
		return s
	}
	l.index, l.nSteps = indexSteps(items, finally)
	s.Spec.Steps = l.steps(s, items, model.PhaseSteps)
	s.Spec.Finally = l.steps(s, finally, model.PhaseFinally)
	l.checkAcrossSteps(s)
	return s
}

// document parses the text into its one YAML document.
func (l *loader) document(data []byte) *tree {
	if msg := textEncodingProblem(data); msg != "" {
		line := 0
		if !strings.Contains(msg, "UTF-16") && !strings.Contains(msg, "UTF-32") {
			line = textProblemLine(data)
		}
		l.fail(line, "", "", "%s", msg)
		return nil
	}
	docs, err := parseYAMLDocuments(data)
	var te *treeError
	switch {
	case errors.As(err, &te):
		l.fail(te.line, "", "", "%s", te.msg)
	case err != nil:
		l.fail(0, "", "", "%s", err)
	case len(docs) == 0:
		l.fail(0, "", "", "empty file: a scenario starts with apiVersion: %s and kind: %s", APIVersion, Kind)
	case len(docs) > 1:
		l.fail(docs[1].line, "", "", "a scenario file holds one document; put manifests in their own files")
	case docs[0].fields == nil:
		l.fail(docs[0].line, "", "", "a scenario is a mapping with apiVersion, kind, metadata and spec")
	default:
		return docs[0]
	}
	return nil
}

// envelope checks the top-level keys, apiVersion, kind and metadata.
func (l *loader) envelope(root *tree, s *Scenario) {
	for _, k := range sortedKeys(root.fields) {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			l.fail(root.fields[k].keyLine, "", k, "%s", unknownTopLevel(k))
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
	md := root.child("metadata")
	if md == nil {
		l.fail(root.line, "", "metadata", "required (metadata.name names the scenario)")
		return
	}
	l.decode(md, &s.Metadata, "", "metadata")
	if s.Metadata.Name == "" {
		l.fail(md.lineOf(), "", "metadata.name", "required")
	} else if msg := checkName(s.Metadata.Name); msg != "" {
		l.fail(md.find("name").lineOf(), "", "metadata.name", "%s", msg)
	}
	if msg := textProblem(s.Metadata.Description, true); msg != "" {
		l.fail(md.find("description").lineOf(), "", "metadata.description", "%s", msg)
	}
}

// unknownTopLevel explains a top-level key that is not part of the
// envelope, pointing to where it belongs when it belongs somewhere.
func unknownTopLevel(k string) string {
	switch {
	case k == "steps" || k == "finally" || slices.Contains(jsonfields.Names(reflect.TypeFor[Spec]()), k):
		return fmt.Sprintf("unknown field; %s belongs under spec", k)
	case slices.Contains(jsonfields.Names(reflect.TypeFor[Metadata]()), k):
		return fmt.Sprintf("unknown field; %s belongs under metadata", k)
	case oddRunes(k) != "":
		return "unknown field: the name has " + oddRunes(k)
	}
	return "unknown field; a scenario has apiVersion, kind, metadata and spec"
}

// spec decodes the spec but its steps, with defaults, --set applied to
// the vars, and the tolerances checked.
func (l *loader) spec(spec *tree, s *Scenario) {
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
	if r := s.Spec.Retries; r != nil {
		switch {
		case *r < 0 || *r > MaxRetries:
			l.fail(spec.find("retries").lineOf(), "", "spec.retries", "%d: want 0 to %d more attempts", *r, MaxRetries)
		case *r > 0 && s.Spec.Namespace != "":
			l.fail(spec.find("retries").lineOf(), "", "spec.retries", "a retry runs in a fresh namespace, and spec.namespace names one: remove one of them")
		}
	}
	if lab := s.Spec.Lab; lab != nil {
		for i, f := range lab.Solution {
			if _, err := s.ResolvePath(f); err != nil {
				l.fail(spec.find(fmt.Sprintf("lab.solution.%d", i)).lineOf(), "", fmt.Sprintf("spec.lab.solution[%d]", i), "%s", err)
			}
		}
		if e := lab.EmptyScore; e != nil && *e < 0 {
			l.fail(spec.find("lab.emptyScore").lineOf(), "", "spec.lab.emptyScore", "must not be negative")
		}
	}
	if s.Spec.Lock != "" {
		if msg := checkName(s.Spec.Lock); msg != "" {
			l.fail(spec.find("lock").lineOf(), "", "spec.lock", "%s", msg)
		}
	}
	l.tolerances(spec.child("tolerances"), s)
	l.setVars(spec, s)
	l.matrix(spec, s)
	for _, name := range slices.Sorted(maps.Keys(s.Spec.Clusters)) {
		ref := s.Spec.Clusters[name]
		if ref.Context == "" {
			l.fail(spec.find("clusters."+name).lineOf(), "", "spec.clusters."+name+".context", "required: the kubeconfig context of the cluster")
		}
		ref.Line = spec.find("clusters." + name + ".context").lineOf()
		s.Spec.Clusters[name] = ref
	}
}

func (l *loader) tolerances(t *tree, s *Scenario) {
	if t == nil {
		return
	}
	for _, pattern := range sortedKeys(t.fields) {
		tol := s.Spec.Tolerances[pattern]
		line := t.fields[pattern].lineOf()
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
}

// setVars applies --set to the vars the scenario declares, typed as each
// is declared.
func (l *loader) setVars(spec *tree, s *Scenario) {
	if s.Spec.Vars == nil {
		s.Spec.Vars = map[string]any{}
	}
	// exec sees each var as KDRILL_VAR_NAME, upper-cased: two names that
	// differ in case only would be one variable there.
	upper := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(s.Spec.Vars)) {
		if other, dup := upper[strings.ToUpper(name)]; dup {
			l.fail(spec.find("vars."+name).lineOf(), "", "spec.vars."+name, "differs from %s in case only; commands see both as KDRILL_VAR_%s: rename one", other, strings.ToUpper(name))
		}
		upper[strings.ToUpper(name)] = name
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
}

// checkAcrossSteps checks what one step alone cannot show: unique names,
// references to other steps, a lab's rules, and where background goes.
func (l *loader) checkAcrossSteps(s *Scenario) {
	seen := map[string]*Step{}
	defer func() { l.cur = nil }()
	for _, st := range slices.Concat(s.Spec.Steps, s.Spec.Finally) {
		// An included step's problems are in its file, reached through its
		// includes.
		l.cur = nil
		if st.File != "" {
			l.cur = &stepItem{file: st.File, via: st.Via}
		}
		if prev, dup := seen[st.Name]; dup {
			l.fail(st.Line, st.Label(), "name", "duplicate step name (also %s at line %d); names must be unique so steps.NAME is clear", prev.Label(), prev.Line)
		}
		l.checkRefs(st, seen)
		l.checkLab(s, st)
		if _, ok := s.Spec.Clusters[st.Cluster]; st.Cluster != "" && !ok {
			names := slices.Sorted(maps.Keys(s.Spec.Clusters))
			l.fail(st.Line, st.Label(), "cluster", "no cluster named %q in spec.clusters%s%s", st.Cluster, message.Suggest(st.Cluster, names), message.Declared("clusters", names))
		}
		if st.Info.Continuous && !st.Background && st.Action != nil && !endsOnItsOwn(st.Action) {
			l.fail(st.Line, st.Label(), "background", "a %s runs until it is stopped, so it needs background: true (a stop step, or the end of the steps, ends it)", st.Kind)
		}
		if st.Background && st.Phase == model.PhaseFinally {
			l.fail(st.Line, st.Label(), "background", "finally steps run one after another; background is for steps")
		}
		seen[st.Name] = st
	}
}

// errLine is where in the scenario file a problem is: its own line, or the
// line of the include that led to another file.
func errLine(e *LoadError) int {
	if len(e.Via) > 0 {
		if _, line, ok := strings.Cut(e.Via[0][strings.LastIndex(e.Via[0], ":"):], ":"); ok {
			n, _ := strconv.Atoi(line)
			return n
		}
	}
	return e.Line
}
