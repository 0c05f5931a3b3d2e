package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/model"
)

// Templates in a step's own fields. Any field of a step kind may hold
// ${{ expression }}: scale: {name: "${{ vars.app }}", replicas:
// "${{ vars.replicas }}"}. A string that is exactly one template takes the
// expression's value and type. Fields a kind marks kdrill:"template" (a
// manifest, a patch) hold content the step expands itself; every other
// template is the engine's:
//
//   - at load, a template that reads only vars (known then, after --set) is
//     evaluated and the step is checked with the value, as if written;
//     one that reads steps or namespace stands in with a value of the
//     field's type, and the checks that only the value could pass wait;
//   - when the step starts, every template is evaluated, and the step is
//     decoded, defaulted, validated and prepared again with the values,
//     so nothing is ever sent to the cluster as ${{ }} text.

// fieldTemplate is one templated string of a step's fields.
type fieldTemplate struct {
	path string
	node *tree
	tmpl *expression.Template
	// runtime is set when the template reads what only the run knows.
	runtime bool
}

// stepTemplate is what a templated step needs to be made again when it
// starts.
type stepTemplate struct {
	body     any
	fields   []fieldTemplate
	scope    *expression.Scope
	scenario *Scenario
}

// findFieldTemplates lists the templated strings in a step's body that the
// engine expands (not those inside a kind's own template fields), compiled
// in the step's scope. Templates in expression fields are refused.
func (l *loader) findFieldTemplates(st *Step, typ reflect.Type, body *tree, sc *expression.Scope) []fieldTemplate {
	var out []fieldTemplate
	var walk func(t *tree, path string, ft reflect.Type)
	walk = func(t *tree, path string, ft reflect.Type) {
		ft = derefType(ft)
		if ft == exprType {
			if s, ok := t.value.(string); ok && strings.Contains(s, "${{") {
				l.fail(t.lineOf(), st.Label(), joinField(st.Kind, path), "an expression takes no ${{ }}: write the expression itself (vars.x, not ${{ vars.x }})")
			}
			return
		}
		switch {
		case t.fields != nil:
			for k, c := range t.fields {
				next := fieldType(ft, k)
				if next.tag == "template" {
					// Counted when the kind compiles them: checked here
					// without counting, and refused at once past the budget.
					var n int64
					expression.WalkStrings(c.value, func(s string) { n += int64(strings.Count(s, "${{")) })
					if err := sc.Budget.Fits(n); err != nil {
						l.fail(c.lineOf(), st.Label(), joinField(st.Kind, joinField(path, k)), "%s", err)
						continue
					}
					free := *sc
					free.Budget = nil
					l.checkKindTemplates(st, c, joinField(path, k), &free)
					continue
				}
				if text, ok := c.value.(string); ok && next.tag == "shell" && strings.Contains(text, "${{") {
					// A value put into shell text becomes shell code: --set
					// 'x; rm -rf ~' would run.
					l.fail(c.lineOf(), st.Label(), joinField(st.Kind, joinField(path, k)),
						"shell text takes no ${{ }}: a value put into it would run as shell code; read the var from the environment instead (\"$KDRILL_VAR_NAME\", quoted)")
					continue
				}
				walk(c, joinField(path, k), next.typ)
			}
		case t.items != nil:
			for i, c := range t.items {
				walk(c, joinField(path, strconv.Itoa(i)), elemType(ft))
			}
		default:
			s, ok := t.value.(string)
			if !ok || !strings.Contains(s, "${{") {
				return
			}
			tmpl, err := sc.CompileTemplate(s)
			if err != nil {
				l.fail(t.lineOf(), st.Label(), joinField(st.Kind, path), "%s", err)
				return
			}
			out = append(out, fieldTemplate{path: path, node: t, tmpl: tmpl, runtime: tmpl.Reads("steps", "namespace")})
		}
	}
	walk(body, "", typ)
	return out
}

type typedField struct {
	typ reflect.Type
	tag string
}

// fieldType is the type of a struct's JSON field, or of a map's values.
func fieldType(t reflect.Type, name string) typedField {
	switch t.Kind() {
	case reflect.Struct:
		if f, ok := jsonfields.Find(t, name); ok {
			return typedField{f.Type, f.Struct.Tag.Get("kdrill")}
		}
	case reflect.Map:
		return typedField{typ: t.Elem()}
	}
	return typedField{typ: reflect.TypeFor[any]()}
}

func elemType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		return t.Elem()
	}
	return reflect.TypeFor[any]()
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// loadTimeBody is the step's body with each template replaced by its value
// where the vars give it, and by a stand-in of the field's type where only
// the run will.
func loadTimeBody(body *tree, fields []fieldTemplate, typ reflect.Type, vars map[string]any) (*tree, error) {
	env := expression.Env(vars, nil, "")
	repl := map[*tree]any{}
	for _, f := range fields {
		if f.runtime {
			repl[f.node] = standIn(typeAt(typ, f.path))
			continue
		}
		v, err := f.tmpl.Value(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		repl[f.node] = v
	}
	return body.replaced(repl), nil
}

// typeAt is the type at a dotted path below t.
func typeAt(t reflect.Type, path string) reflect.Type {
	for _, seg := range strings.Split(path, ".") {
		t = derefType(t)
		if _, err := strconv.Atoi(seg); err == nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
			continue
		}
		t = fieldType(t, seg).typ
	}
	return derefType(t)
}

// standIn is a value of t's kind that passes checks of form, for a
// template whose value only the run knows.
func standIn(t reflect.Type) any {
	if t == reflect.TypeFor[model.Duration]() {
		return "1s"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return int64(1)
	case reflect.Float32, reflect.Float64:
		return 1.0
	case reflect.Bool:
		return false
	}
	return "kdrill-template"
}

// replaced copies the tree with some nodes' values replaced.
func (t *tree) replaced(repl map[*tree]any) *tree {
	if v, ok := repl[t]; ok {
		cp := *t
		cp.value = v
		return &cp
	}
	cp := *t
	switch {
	case t.fields != nil:
		cp.fields = make(map[string]*tree, len(t.fields))
		m := make(map[string]any, len(t.fields))
		for k, c := range t.fields {
			cp.fields[k] = c.replaced(repl)
			m[k] = cp.fields[k].value
		}
		cp.value = m
	case t.items != nil:
		cp.items = make([]*tree, len(t.items))
		s := make([]any, len(t.items))
		for i, c := range t.items {
			cp.items[i] = c.replaced(repl)
			s[i] = cp.items[i].value
		}
		cp.value = s
	}
	return &cp
}

// dropErrorsAt leaves out the field errors at paths whose value only the
// run knows: the stand-in was not the value.
func dropErrorsAt(err error, fields []fieldTemplate) error {
	var fes FieldErrors
	if !errors.As(err, &fes) {
		return err
	}
	var kept FieldErrors
	for _, fe := range fes {
		standIn := false
		for _, f := range fields {
			if f.runtime && (fe.Field == f.path || strings.HasPrefix(f.path, fe.Field+".") || strings.HasPrefix(fe.Field, f.path+".")) {
				standIn = true
			}
		}
		if !standIn {
			kept = append(kept, fe)
		}
	}
	return kept.Err()
}

// Templated reports whether the step's fields hold ${{ }} that the run
// evaluates: its action is made again when it starts (Instantiate).
func (st *Step) Templated() bool { return st.template != nil }

// Instantiate makes the step's action again with its templates evaluated
// in env, as the loader made it: decoded strictly, defaulted, validated,
// its expressions compiled and its files prepared. A step without
// templates has nothing to make again: its Action is returned.
func (st *Step) Instantiate(env map[string]any) (Action, error) {
	if st.template == nil {
		return st.Action, nil
	}
	t := st.template
	body := plainCopy(t.body)
	for _, f := range t.fields {
		v, err := f.tmpl.Value(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", joinField(st.Kind, f.path), err)
		}
		body = setAt(body, strings.Split(f.path, "."), v)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	a := st.Info.New()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(a); err != nil {
		return nil, fmt.Errorf("%s, once its templates are expanded: %s", st.Kind, strings.TrimPrefix(err.Error(), "json: "))
	}
	var first error
	ready(a, &Loading{Scenario: t.scenario, Scope: t.scope}, func(at stage, field string, err error) bool {
		if at == compiled {
			first = fmt.Errorf("%s: %w", joinField(st.Kind, field), err)
		} else {
			first = fmt.Errorf("%s, once its templates are expanded: %w", st.Kind, err)
		}
		return false
	})
	if first != nil {
		return nil, first
	}
	return a, nil
}

// plainCopy deep-copies plain values.
func plainCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainCopy(e)
		}
		return out
	}
	return v
}

// setAt sets the value at a path of keys and indices in plain values.
func setAt(v any, path []string, value any) any {
	if len(path) == 0 {
		return value
	}
	switch x := v.(type) {
	case map[string]any:
		x[path[0]] = setAt(x[path[0]], path[1:], value)
	case []any:
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(x) {
			x[i] = setAt(x[i], path[1:], value)
		}
	}
	return v
}

// checkKindTemplates evaluates, at load, the templates in a field the step
// kind expands itself (a manifest, a patch) that read only vars, so that a
// broken one, or one past the expression engine's memory budget
// (repeat("x", 2e9)), is a load error at its line, not a failure halfway
// through a run. Templates that read steps or namespace wait for the run;
// those the scope cannot compile are the kind's to report.
func (l *loader) checkKindTemplates(st *Step, t *tree, path string, sc *expression.Scope) {
	switch {
	case t.fields != nil:
		for _, k := range sortedKeys(t.fields) {
			l.checkKindTemplates(st, t.fields[k], joinField(path, k), sc)
		}
	case t.items != nil:
		for i, c := range t.items {
			l.checkKindTemplates(st, c, joinField(path, strconv.Itoa(i)), sc)
		}
	default:
		s, ok := t.value.(string)
		if !ok || !strings.Contains(s, "${{") {
			return
		}
		tmpl, err := sc.CompileTemplate(s)
		if err != nil || tmpl.Reads("steps", "namespace") {
			return
		}
		if _, err := tmpl.Value(expression.Env(sc.Vars, nil, "")); err != nil {
			l.fail(t.lineOf(), st.Label(), joinField(st.Kind, path), "%s", err)
		}
	}
}
