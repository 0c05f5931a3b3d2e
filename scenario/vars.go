package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kdrill/kdrill/expression"
)

// SetVar reads a --set value as the type of the var's declared value: the
// text as it is for a string; a number, a boolean, a list or a mapping
// written as YAML for those. A value of another type is an error that says
// what was expected.
func SetVar(declared any, text string) (any, error) {
	if _, isString := declared.(string); isString {
		return text, nil
	}
	var v any = text
	if docs, err := ParseDocuments([]byte(text)); err == nil && len(docs) == 1 {
		v = docs[0].Value
	}
	return typedVar(declared, v, text)
}

// typedVar checks that v has the declared value's type, shown is how v
// is named in the error.
func typedVar(declared, v any, shown string) (any, error) {
	want := ""
	switch declared.(type) {
	case int64, float64:
		switch v.(type) {
		case int64, float64:
			return v, nil
		}
		want = "a number"
	case bool:
		if _, ok := v.(bool); ok {
			return v, nil
		}
		want = "true or false"
	case []any:
		if _, ok := v.([]any); ok {
			return v, nil
		}
		want = "a list, such as [a, b]"
	case map[string]any:
		if _, ok := v.(map[string]any); ok {
			return v, nil
		}
		want = "a mapping, such as {a: 1}"
	default:
		return scalarOrText(v, shown), nil
	}
	return nil, fmt.Errorf("%q is not %s, as the var is declared (%s)", shown, want, expression.FormatValue(declared))
}

// scalarOrText keeps a YAML scalar's type, and anything else as text.
func scalarOrText(v any, text string) any {
	switch v.(type) {
	case int64, float64, bool:
		return v
	}
	return text
}

// atLoad expands the ${{ }} of a value set when the scenario loads
// (include.with, a step's cluster), where vars are all there is: in the
// scenario's vars, or an included file's (vars). A template that reads
// steps or namespace cannot be given a value then.
func (l *loader) atLoad(vars map[string]any, v any) (any, error) {
	if vars == nil {
		vars = l.vars
	}
	sc := &expression.Scope{Vars: vars, Steps: expression.NewSteps()}
	var bad error
	expression.WalkStrings(v, func(s string) {
		if !strings.Contains(s, "${{") || bad != nil {
			return
		}
		if t, err := sc.CompileTemplate(s); err == nil && t.Reads("steps", "namespace") {
			bad = fmt.Errorf("%s: this is set when the scenario loads, before any step runs: it may read vars only, not steps or namespace", s)
		}
	})
	if bad != nil {
		return nil, bad
	}
	vt, err := sc.CompileValue(v)
	if err != nil {
		return nil, err
	}
	return vt.Expand(expression.Env(vars, nil, ""))
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
	for _, name := range slices.Sorted(maps.Keys(l.opts.values)) {
		// Checked against the declared var when the matrix was read.
		if v, err := withValue(s.Spec.Vars[name], l.opts.values[name]); err == nil {
			s.Spec.Vars[name] = v
		}
	}
}
