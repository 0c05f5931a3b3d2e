package expression

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/kdrill/kdrill/internal/message"
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

// CompileTemplate parses and compiles the ${{ }} parts of text, with the
// names extra adds to the environment.
func CompileTemplate(text string, extra map[string]any) (*Template, error) {
	return (&Scope{Extra: extra}).CompileTemplate(text)
}

// CompileTemplate parses and compiles the ${{ }} parts of text in the
// scope, checking their field paths as expressions' are.
func (sc *Scope) CompileTemplate(text string) (*Template, error) {
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
			return nil, fmt.Errorf("%q has ${{ without a closing }}", message.Clip(rest[i:], 40))
		}
		src := strings.TrimSpace(rest[i+3 : i+j])
		if err := sc.spend(); err != nil {
			return nil, err
		}
		if err := checkExprShape(src); err != nil {
			return nil, fmt.Errorf("${{ %s }}: %w", message.Clip(src, 40), err)
		}
		p, err := expr.Compile(src, append([]expr.Option{expr.Env(env)}, helperOptions...)...)
		if err != nil {
			return nil, fmt.Errorf("${{ %s }} does not compile: %s", src, compileError(err))
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
			return "", fmt.Errorf("${{ %s }}: %s", p.source, brief(err))
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

// Value evaluates a templated string in env: a string that is exactly one
// ${{ }} takes the expression's value and type (replicas: ${{ vars.replicas }}
// stays a number); any other is expanded as text.
func (t *Template) Value(env map[string]any) (any, error) {
	if len(t.parts) == 3 && t.parts[0].text == "" && t.parts[2].text == "" && t.parts[1].program != nil {
		out, err := expr.Run(t.parts[1].program, env)
		if err != nil {
			return nil, fmt.Errorf("${{ %s }}: %s", t.parts[1].source, brief(err))
		}
		return normalizeNumber(out), nil
	}
	return t.Expand(env)
}

// Reads reports whether any of the template's expressions names one of
// names (Reads("steps", "namespace"): whether only the run can give its
// value).
func (t *Template) Reads(names ...string) bool {
	for _, p := range t.parts {
		if p.program != nil && Reads(p.source, names...) {
			return true
		}
	}
	return false
}

// Reads reports whether the expression src names one of names. One too
// large or deep for kdrill to compile, or that does not parse, names
// nothing: compiling it reports what is wrong.
func Reads(src string, names ...string) bool {
	if checkExprShape(src) != nil {
		return false
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return false
	}
	found := false
	ast.Find(tree.Node, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		found = found || ok && slices.Contains(names, id.Value)
		return found
	})
	return found
}

// ValueTemplate is structured data, such as a manifest, whose strings may
// hold ${{ }} expressions, each evaluated as Template.Value does.
type ValueTemplate struct {
	value     any
	templates map[string]*Template
}

// CompileValue compiles every template in v, with the names extra adds.
func CompileValue(v any, extra map[string]any) (*ValueTemplate, error) {
	return (&Scope{Extra: extra}).CompileValue(v)
}

// CompileValue compiles every template in v in the scope.
func (sc *Scope) CompileValue(v any) (*ValueTemplate, error) {
	vt := &ValueTemplate{value: v, templates: map[string]*Template{}}
	if sc != nil && sc.Budget != nil {
		// Counted before any is compiled, so a value past the load's
		// budget costs a scan, not thousands of compilations.
		var n int64
		WalkStrings(v, func(s string) { n += int64(strings.Count(s, "${{")) })
		if err := sc.Budget.spendN(n); err != nil {
			return nil, err
		}
		sc = &Scope{Vars: sc.Vars, Steps: sc.Steps, Pos: sc.Pos, Extra: sc.Extra, Prefix: sc.Prefix}
	}
	var firstErr error
	WalkStrings(v, func(s string) {
		if firstErr != nil || !strings.Contains(s, "${{") {
			return
		}
		if _, done := vt.templates[s]; done {
			return
		}
		t, err := sc.CompileTemplate(s)
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
		if t, ok := vt.templates[x]; ok {
			return t.Value(env)
		}
		return x, nil
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

// WalkStrings calls fn for every string in v (maps and lists included).
func WalkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		for _, e := range x {
			WalkStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			WalkStrings(e, fn)
		}
	}
}
