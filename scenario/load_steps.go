package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// commonStepFields are the keys a step may have besides its one action.
var commonStepFields = []string{"name", "timeout", "continueOnError", "expectFailure", "background", "points", "hint", "setup", "cluster", "allowUnsafe"}

// indexSteps pre-reads the names and positions of the scenario's steps,
// included ones under their full names.
func indexSteps(steps, finally []stepItem) (*expression.Steps, int) {
	x := expression.NewSteps()
	n := 0
	for _, list := range []struct {
		items []stepItem
		phase model.Phase
	}{{steps, model.PhaseSteps}, {finally, model.PhaseFinally}} {
		for i, item := range list.items {
			if item.failed {
				continue
			}
			if name, ok := item.t.child("name").stringValue(); ok {
				name = item.prefix + name
				x.Add(name, n+i, (&Step{Name: name, Phase: list.phase, Index: i}).Label())
			}
		}
		if list.phase == model.PhaseSteps {
			n = len(list.items)
		}
	}
	return x, n
}

// unknownStepKey explains a key of a step that is neither a step field nor
// a step kind.
func (l *loader) unknownStepKey(k string, kinds []string) string {
	if odd := oddRunes(k); odd != "" {
		return "unknown step kind or field: the name has " + odd + message.Suggest(cleanName(k), append(l.reg.Kinds(), commonStepFields...))
	}
	var owners []string
	for _, kind := range l.reg.Kinds() {
		if slices.Contains(jsonfields.Names(reflect.TypeOf(l.reg[kind].New())), k) && (len(kinds) == 0 || slices.Contains(kinds, kind)) {
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
		message.Suggest(k, append(l.reg.Kinds(), commonStepFields...)), strings.Join(l.reg.Kinds(), ", "), strings.Join(commonStepFields, ", "))
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
	case st.Info.Local:
		l.fail(st.Line, st.Label(), st.Kind, "a lab's checks do not run programs on this machine: mark the %s step setup: true, or check from inside a pod", st.Kind)
	case st.Effect() != Reads:
		l.fail(st.Line, st.Label(), st.Kind, "a lab never writes to the cluster: %s changes it; mark the step setup: true if it prepares the lab", st.Kind)
	case st.Points <= 0 && st.Phase == model.PhaseSteps && !st.Info.Control:
		l.fail(st.Line, st.Label(), "points", "a check in a lab needs points > 0 (and a hint)")
	}
}

func (l *loader) steps(s *Scenario, items []stepItem, phase model.Phase) []*Step {
	defer func() { l.cur = nil }()
	if phase == model.PhaseFinally {
		l.index.EndAll() // the steps' end joins every background step
	}
	var out []*Step
	for i, it := range items {
		if it.failed {
			continue // its include's problem is reported
		}
		l.cur = &items[i]
		st := &Step{Index: i, Phase: phase, Line: it.t.line, Prefix: it.prefix, Vars: it.vars, Via: it.via, node: it.t}
		if it.prefix != "" {
			st.File = it.file
		}
		body := l.stepKind(st, it.t)
		if body == nil {
			continue
		}
		host := s
		if it.vars != nil {
			// An included step sees its file's vars, and its paths start
			// from its file's directory.
			sub := *s
			sub.Spec.Vars, sub.Dir, sub.Root = it.vars, it.dir, l.root
			host = &sub
		}
		if strings.Contains(st.Cluster, "${{") {
			v, err := l.atLoad(host.Spec.Vars, st.Cluster)
			if text, ok := v.(string); err == nil && !ok {
				err = fmt.Errorf("names a cluster of spec.clusters: want text, not %v", v)
			} else {
				st.Cluster = text
			}
			if err != nil {
				l.fail(it.t.child("cluster").lineOf(), st.Label(), "cluster", "%s", err)
			}
		}
		l.action(host, st, body)
		out = append(out, st)
		kind := ""
		if st.Action != nil {
			kind = st.Kind
		}
		l.index.Decoded(st.Name, kind)
		l.stepState(st)
	}
	return out
}

// stepKind reads a step's name and common fields and finds its one kind;
// it returns the kind's body, or nil when the step has none or several.
func (l *loader) stepKind(st *Step, item *tree) *tree {
	unnamed := func(name string) {
		if st.Name == "" {
			st.Name = name
		}
	}
	if item.fields == nil {
		st.Name = fmt.Sprintf("#%d", st.Index)
		l.fail(item.line, st.Label(), "", "a step is a mapping with a name and one action")
		return nil
	}
	st.Name, _ = item.child("name").stringValue()
	written := st.Name
	if st.Name != "" {
		st.Name = st.Prefix + st.Name
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
	common.value = commonValue
	for _, k := range unknown {
		unnamed(fmt.Sprintf("#%d", st.Index))
		l.fail(item.fields[k].keyLine, st.Label(), k, "%s", l.unknownStepKey(k, kinds))
	}
	switch len(kinds) {
	case 0:
		unnamed(fmt.Sprintf("#%d", st.Index))
		l.fail(item.line, st.Label(), "", "step has no action; give it one of: %s", strings.Join(l.reg.Kinds(), ", "))
		return nil
	case 1:
	default:
		unnamed(kinds[0])
		l.fail(item.fields[kinds[1]].keyLine, st.Label(), kinds[1], "a step does one thing, and this one also has %s (line %d); split it into two steps",
			kinds[0], item.fields[kinds[0]].keyLine)
		return nil
	}
	st.Kind, st.Info = kinds[0], l.reg[kinds[0]]
	unnamed(st.Prefix + fmt.Sprintf("%s-%d", st.Kind, st.Index))
	full := st.Name
	l.decode(common, st, st.Label(), "")
	st.Name = full // decoding set the name as written
	if item.child("name") != nil && written == "" {
		l.fail(item.line, st.Label(), "name", "must not be empty")
	}
	if msg := textProblem(written, false); msg != "" {
		l.fail(item.child("name").lineOf(), st.Label(), "name", "%s", msg)
	}
	if h := item.child("hint"); h != nil {
		if msg := textProblem(st.Hint, true); msg != "" {
			l.fail(h.lineOf(), st.Label(), "hint", "%s", msg)
		}
	}
	body := item.fields[st.Kind]
	if body.value == nil && body.fields == nil {
		body = &tree{line: body.line, keyLine: body.keyLine, fields: map[string]*tree{}, value: map[string]any{}}
	}
	return body
}

// action decodes, defaults, validates, compiles and prepares the step's
// action, and holds it to the safety policy, recording every problem.
func (l *loader) action(s *Scenario, st *Step, body *tree) {
	st.Action = st.Info.New()
	sc := l.scope(s, st)
	written, ok := l.templated(s, st, body, sc)
	if !ok || !l.decode(written, st.Action, st.Label(), st.Kind) {
		return
	}
	var fields []fieldTemplate
	if st.template != nil {
		fields = st.template.fields
	}
	before := plainJSON(st.Action)
	ready(st.Action, &Loading{Scenario: s, Scope: sc}, func(at stage, field string, err error) bool {
		switch at {
		case validated:
			// A templated field is checked once its value is known.
			l.fieldErrors(dropErrorsAt(err, fields), body, st)
		case compiled:
			l.fail(body.find(field).lineOf(), st.Label(), joinField(st.Kind, field), "%s", err)
		case prepared:
			l.fieldErrors(err, body, st)
		}
		return true
	})
	l.explicitDefaults(written, "", before, plainJSON(st.Action), st)
	l.wellKnownFields(reflect.ValueOf(st.Action), "", body, st)
	if msg := checkNamespaces(st, s.Spec.Namespace, ", the scenario's namespace"); msg != "" {
		// At the field that names the namespace, when the step names it.
		line, field := body.lineOf(), st.Kind
		if path, n := body.findScalar(strings.Fields(msg)[0]); n != nil {
			line, field = n.lineOf(), joinField(st.Kind, path)
		}
		l.fail(line, st.Label(), field, "%s", msg)
	}
}

// templated finds the step's field templates and returns the body to
// check at load: the written one, or one with the templates' values (or
// stand-ins) in their place. ok is false when a template is broken.
func (l *loader) templated(s *Scenario, st *Step, body *tree, sc *expression.Scope) (*tree, bool) {
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
func (l *loader) scope(s *Scenario, st *Step) *expression.Scope {
	pos := st.Index
	if st.Phase == model.PhaseFinally {
		pos += l.nSteps
	}
	sc := &expression.Scope{Vars: s.Spec.Vars, Steps: l.index, Pos: pos, Prefix: st.Prefix, Budget: l.opts.Budget}
	if es, ok := st.Action.(ExprScope); ok {
		sc.Extra = es.ExprNames()
	}
	return sc
}

var exprType = reflect.TypeFor[expression.Expr]()

// walkExprs calls fn for every non-empty Expr reachable from v, with its
// dotted JSON path.
func walkExprs(v reflect.Value, path string, fn func(string, *expression.Expr)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkExprs(v.Elem(), path, fn)
		}
	case reflect.Struct:
		if v.Type() == exprType {
			if e := v.Addr().Interface().(*expression.Expr); !e.IsZero() {
				fn(path, e)
			}
			return
		}
		for _, f := range jsonfields.Of(v.Type()) {
			if fv, err := v.FieldByIndexErr(f.Index); err == nil {
				walkExprs(fv, joinField(path, f.Name), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkExprs(v.Index(i), joinField(path, fmt.Sprint(i)), fn)
		}
	}
}

// CompileExprs compiles every expression of an action made outside a
// scenario file (a test, a library caller), with the names its kind adds.
func CompileExprs(a Action, extra map[string]any) error {
	sc := &expression.Scope{Extra: extra}
	var first error
	walkExprs(reflect.ValueOf(a), "", func(path string, e *expression.Expr) {
		if err := e.CompileIn(sc); err != nil && first == nil {
			first = fmt.Errorf("%s: %w", path, err)
		}
	})
	return first
}
