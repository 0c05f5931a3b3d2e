package scenario

import (
	"fmt"
	"strings"

	"github.com/kdrill/kdrill/expression"
)

// MergeVars applies --set overrides to a scenario's vars, each typed as
// the var is declared (SetVar); a value SetVar refuses stays text, though
// the loader refuses it first.
func MergeVars(vars map[string]any, set map[string]string) map[string]any {
	out := make(map[string]any, len(vars)+len(set))
	for k, v := range vars {
		out[k] = v
	}
	for k, text := range set {
		v, err := SetVar(vars[k], text)
		if err != nil {
			v = text
		}
		out[k] = v
	}
	return out
}

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
		return scalarOrText(v, text), nil
	}
	return nil, fmt.Errorf("%q is not %s, as the var is declared (%s)", text, want, expression.FormatValue(declared))
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
