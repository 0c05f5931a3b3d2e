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
	"strings"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
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
	// Check, when set, also checks the file's document once the loader
	// found nothing wrong (kdrill checks it against the JSON Schema
	// editors use): the document parsed once serves both.
	Check func(file string, doc Document) error

	// values are a matrix instance's vars, typed, applied after Set.
	values map[string]any
	// parsed is what an earlier load of the same file parsed.
	parsed *parsedFiles
}

// parsedFiles are a scenario file's document and the steps files it
// includes, by path, each parsed once.
type parsedFiles struct {
	root     *tree
	included map[string]*tree
	digest   string
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
	data, err := readScenarioFile(path)
	if err != nil {
		return nil, LoadErrors{{File: path, Msg: err.Error()}}
	}
	return parse(path, data, reg, opts)
}

// readScenarioFile reads a scenario or steps file; each is read, and
// parsed, once per load (a test counts).
var readScenarioFile = func(path string) ([]byte, error) { return ReadFileLimited(path, MaxScenarioBytes) }

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
	l := &loader{file: path, reg: reg, opts: opts, sum: sha256.New(), parsed: opts.parsed}
	before := opts.Budget.Used()
	var s *Scenario
	if l.parsed != nil {
		// A matrix instance: the files were read and parsed for the first.
		s = l.build(l.parsed.root)
	} else {
		l.parsed = &parsedFiles{included: map[string]*tree{}}
		l.sum.Write(data)
		if l.parsed.root = l.document(data); l.parsed.root != nil {
			s = l.build(l.parsed.root)
		}
	}
	if s != nil {
		s.Digest = l.parsed.digest
		if s.Digest == "" {
			s.Digest = fmt.Sprintf("sha256:%x", l.sum.Sum(nil))
		}
		s.compiled = opts.Budget.Used() - before
		s.parsed = l.parsed
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
	if opts.Check != nil && opts.parsed == nil {
		root := l.parsed.root
		if err := opts.Check(path, Document{Value: root.value, Line: root.line, tree: root}); err != nil {
			return nil, err
		}
	}
	s.parsed.digest = s.Digest
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
	// parsed holds the documents this load parsed, or an earlier load of
	// the same file did.
	parsed *parsedFiles
}

func (l *loader) fail(line int, step, field, format string, args ...any) {
	le := &LoadError{File: l.file, Line: line, Step: step, Field: field, Msg: fmt.Sprintf(format, args...)}
	if l.cur != nil && l.cur.file != "" {
		le.File, le.Via = l.cur.file, l.cur.via
	}
	l.errs = append(l.errs, le)
}

// build loads a scenario from its document: the envelope, the spec, then
// the steps.
func (l *loader) build(root *tree) *Scenario {
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

// errLine is where in the scenario file a problem is: its own line, or the
// line of the include that led to another file.
func errLine(e *LoadError) int {
	if len(e.Via) > 0 {
		return e.Via[0].Line
	}
	return e.Line
}
