package runner

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Template is text with ${{ expression }} parts, such as a manifest or a
// name, expanded when the step runs.
type Template struct {
	parts []templatePart
}

type templatePart struct {
	text    string
	program *vm.Program // nil for plain text
	source  string
}

// CompileTemplate parses and compiles the ${{ }} parts of text.
func CompileTemplate(text string, extra map[string]any) (*Template, error) {
	return compileTemplateIn(text, &exprScope{extra: extra})
}

func compileTemplateIn(text string, sc *exprScope) (*Template, error) {
	env := sc.env()
	t := &Template{}
	rest := text
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			t.parts = append(t.parts, templatePart{text: rest})
			return t, nil
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%q has ${{ without a closing }}", clip(rest[i:], 40))
		}
		src := strings.TrimSpace(rest[i+3 : i+j])
		if err := checkExprShape(src); err != nil {
			return nil, fmt.Errorf("${{ %s }}: %w", clip(src, 40), err)
		}
		p, err := expr.Compile(src, append([]expr.Option{expr.Env(env)}, helperOptions...)...)
		if err != nil {
			return nil, fmt.Errorf("${{ %s }} does not compile: %s", src, oneLine(firstLine(err.Error())))
		}
		if err := sc.check(src); err != nil {
			return nil, fmt.Errorf("${{ %s }}: %w", src, err)
		}
		t.parts = append(t.parts, templatePart{text: rest[:i]}, templatePart{program: p, source: src})
		rest = rest[i+j+2:]
	}
}

// Expand evaluates the template's expressions in env and joins the text.
func (t *Template) Expand(env map[string]any) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.program == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := expr.Run(p.program, env)
		if err != nil {
			return "", fmt.Errorf("${{ %s }}: %s", p.source, oneLine(firstLine(err.Error())))
		}
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case nil:
		default:
			j, err := json.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("${{ %s }}: %w", p.source, err)
			}
			b.Write(j)
		}
	}
	return b.String(), nil
}

// ValueTemplate is structured data, such as a manifest, whose strings may
// hold ${{ }} expressions. A string that is exactly one expression takes the
// expression's value and type (replicas: ${{ vars.replicas }} stays a number);
// any other string with expressions is expanded as text.
type ValueTemplate struct {
	value     any
	templates map[string]*Template
}

// CompileValue compiles every template in v.
func CompileValue(v any, extra map[string]any) (*ValueTemplate, error) {
	return compileValueIn(v, &exprScope{extra: extra})
}

// CompileValue compiles every template in v in the scope of the step being
// loaded (its Prepare calls this), so a template's field paths are checked
// as expressions' are.
func (s *Scenario) CompileValue(v any) (*ValueTemplate, error) {
	return compileValueIn(v, s.loading)
}

func compileValueIn(v any, sc *exprScope) (*ValueTemplate, error) {
	vt := &ValueTemplate{value: v, templates: map[string]*Template{}}
	var firstErr error
	walkStrings(v, func(s string) {
		if firstErr != nil || !strings.Contains(s, "${{") {
			return
		}
		if _, done := vt.templates[s]; done {
			return
		}
		t, err := compileTemplateIn(s, sc)
		if err != nil {
			firstErr = err
			return
		}
		vt.templates[s] = t
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return vt, nil
}

// Expand returns a copy of the value with its templates evaluated in env.
func (vt *ValueTemplate) Expand(env map[string]any) (any, error) {
	return vt.expand(vt.value, env)
}

func (vt *ValueTemplate) expand(v any, env map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		t, ok := vt.templates[x]
		if !ok {
			return x, nil
		}
		if len(t.parts) == 3 && t.parts[0].text == "" && t.parts[2].text == "" && t.parts[1].program != nil {
			out, err := expr.Run(t.parts[1].program, env)
			if err != nil {
				return nil, fmt.Errorf("${{ %s }}: %s", t.parts[1].source, oneLine(firstLine(err.Error())))
			}
			return normalizeNumber(out), nil
		}
		return t.Expand(env)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ev, err := vt.expand(e, env)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := vt.expand(e, env)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	}
	return v, nil
}

// normalizeNumber turns Go's int kinds into int64, the type manifests use.
func normalizeNumber(v any) any {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		if n == float64(int64(n)) {
			return int64(n)
		}
	}
	return v
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}
