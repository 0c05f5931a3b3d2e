// Package expression owns what a scenario computes: expr-lang expressions
// and ${{ }} templates, compiled and type-checked against a Scope (the
// declared vars, earlier steps' output types, a kind's own names), and the
// plain values (Plain) they read at run time.
package expression

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kdrill/kdrill/internal/message"
)

// Env is the environment every expression runs in. Every expression sees
// these names; a step kind can add its own (assert adds object and
// objects), which a Scope's Extra declares.
//
//	vars       the scenario's vars, after --set overrides
//	steps      outputs of earlier steps, by step name: steps.scale.replicas
//	namespace  the namespace the scenario runs in
//	quantity   quantity("128Mi") is a Kubernetes quantity as a number (bytes, cores)
//	duration   duration("30s") is a duration; durations compare with each other
//
// The expr-lang built-ins (len, all, any, filter, map, now, ...) work as
// documented by expr-lang.
func Env(vars, steps map[string]any, namespace string) map[string]any {
	if vars == nil {
		vars = map[string]any{}
	}
	if steps == nil {
		steps = map[string]any{}
	}
	return map[string]any{"vars": vars, "steps": steps, "namespace": namespace}
}

var helperOptions = []expr.Option{
	expr.Function("quantity", func(params ...any) (any, error) {
		return Quantity(params[0])
	}, new(func(any) float64)),
}

// Quantity converts a Kubernetes quantity ("250m", "128Mi", 3) to a number in
// base units: cores for CPU, bytes for memory.
func Quantity(v any) (float64, error) {
	switch q := v.(type) {
	case string:
		parsed, err := resource.ParseQuantity(q)
		if err != nil {
			return 0, fmt.Errorf("quantity(%q): not a Kubernetes quantity", q)
		}
		return parsed.AsApproximateFloat64(), nil
	case int:
		return float64(q), nil
	case int64:
		return float64(q), nil
	case float64:
		return q, nil
	case nil:
		return 0, fmt.Errorf("quantity(nil): the value is missing")
	default:
		return 0, fmt.Errorf("quantity(%v): want a string or a number", v)
	}
}

// Expr is a boolean expr-lang expression written in a scenario, compiled
// when the scenario loads.
type Expr struct {
	Source  string
	program *vm.Program
	probes  []probe
}

// probe is a sub-expression (a field path such as object.status.replicas)
// evaluated after the main expression to show the values it saw.
type probe struct {
	source  string
	program *vm.Program
}

// UnmarshalJSON reads the expression's source text.
func (e *Expr) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.Source); err != nil {
		return fmt.Errorf("must be an expression string")
	}
	return nil
}

// MarshalJSON writes the expression's source text.
func (e Expr) MarshalJSON() ([]byte, error) { return json.Marshal(e.Source) }

// IsZero reports whether no expression was given.
func (e *Expr) IsZero() bool { return e == nil || strings.TrimSpace(e.Source) == "" }

// Or is the expression, or source when none was given: a kind's default.
func (e Expr) Or(source string) Expr {
	if e.IsZero() {
		return Expr{Source: source}
	}
	return e
}

// Compile checks the expression against the environment (the base names
// plus extra) and prepares it to run; it must give a boolean.
func (e *Expr) Compile(extra map[string]any) error {
	return e.CompileIn(&Scope{Extra: extra})
}

// CompileIn compiles the expression in a scenario's scope, which also
// checks the field paths it reads.
func (e *Expr) CompileIn(sc *Scope) error {
	if err := checkExprShape(e.Source); err != nil {
		return err
	}
	if err := sc.spend(); err != nil {
		return err
	}
	// kdrill's own check first: it names fields as the file writes them.
	if err := sc.check(e.Source); err != nil {
		return err
	}
	env := sc.env()
	opts := append([]expr.Option{expr.Env(env)}, helperOptions...)
	// AsBool refuses, at compile time, what is known not to be a boolean
	// (len(objects)); the program that runs is compiled without it, so an
	// object field that turns out not to be one gets kdrill's message.
	if _, err := expr.Compile(e.Source, append(opts, expr.AsBool())...); err != nil {
		return fmt.Errorf("expression does not compile: %s", compileError(err))
	}
	p, err := expr.Compile(e.Source, opts...)
	if err != nil {
		return fmt.Errorf("expression does not compile: %s", compileError(err))
	}
	e.program = p
	e.probes = nil
	for _, src := range probeSources(e.Source) {
		pp, err := expr.Compile(src, append([]expr.Option{expr.Env(env)}, helperOptions...)...)
		if err == nil {
			e.probes = append(e.probes, probe{source: src, program: pp})
		}
	}
	return nil
}

// Eval runs the expression against env and also returns the values its
// field paths had, for messages about why it did not hold.
func (e *Expr) Eval(env map[string]any) (bool, map[string]any, error) {
	if e.program == nil {
		return false, nil, fmt.Errorf("expression %q was not compiled", e.Source)
	}
	out, err := expr.Run(e.program, env)
	seen := make(map[string]any, len(e.probes))
	for _, p := range e.probes {
		v, perr := expr.Run(p.program, env)
		if perr != nil {
			seen[p.source] = "<" + brief(perr) + ">"
			continue
		}
		if k := reflect.ValueOf(v).Kind(); k == reflect.Func || k == reflect.Chan {
			continue // a method the expression calls (now().UnixMilli), not a value
		}
		seen[p.source] = Trim(v)
	}
	if err != nil {
		return false, seen, fmt.Errorf("%s", brief(err))
	}
	b, ok := out.(bool)
	if !ok {
		// Field types are known only at run time, so compiling could not
		// insist on a boolean.
		return false, seen, fmt.Errorf("the expression gave %s (%T), not true or false", FormatValue(Trim(out)), out)
	}
	return b, seen, nil
}

// probeSources lists the longest field paths and len() calls in the
// expression: the values worth showing when it does not hold.
func probeSources(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var c probeCollector
	ast.Walk(&tree.Node, &c)
	var out []string
	for _, s := range c.found {
		covered := false
		for _, o := range c.found {
			if o != s && containsToken(o, s) {
				covered = true
				break
			}
		}
		if !covered && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// containsToken reports whether s occurs in o as a whole name or path
// prefix: "objects" in "len(objects)" and "a.b" in "a.b.c", not "a.b" in "a.bc".
func containsToken(o, s string) bool {
	isName := func(b byte) bool {
		return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(o[i:], s)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(s)
		if (start == 0 || !isName(o[start-1]) && o[start-1] != '.') && (end == len(o) || !isName(o[end])) {
			return true
		}
		i = start + 1
	}
}

// computed are the built-ins whose value a failure message shows; the
// boolean ones (all, any, none, one) are the condition itself.
var computed = map[string]bool{
	"len": true, "count": true, "sum": true, "mean": true, "median": true, "min": true, "max": true,
	"filter": true, "map": true, "first": true, "last": true, "abs": true, "ceil": true, "floor": true, "round": true,
	"find": true, "groupBy": true, "sortBy": true, "uniq": true, "keys": true, "values": true,
}

type probeCollector struct {
	found []string
	calls map[string]bool
}

func (c *probeCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if c.calls == nil {
				c.calls = map[string]bool{}
			}
			c.calls[id.Value] = true
			c.found = slices.DeleteFunc(c.found, func(s string) bool { return s == id.Value })
		}
	case *ast.BuiltinNode:
		// Computed values are shown with their value: a count, a mean, the
		// items a filter kept.
		if computed[n.Name] {
			c.found = append(c.found, n.String())
		}
	case *ast.MemberNode, *ast.IdentifierNode:
		s := n.String()
		if strings.HasPrefix(s, "#") || strings.HasPrefix(s, ".") || c.calls[s] {
			return
		}
		c.found = append(c.found, s)
	}
}

// compileError is expr-lang's compile error as one line, with a hint for
// the mistakes it words in its own terms.
func compileError(err error) string {
	msg := brief(err)
	switch {
	case strings.Contains(msg, `unexpected token Operator("=")`):
		msg += "; to compare, write =="
	case strings.Contains(msg, "invalid operation: contains (mismatched types []interface {} and string)"):
		msg += `; the left side is a list: write any(LIST, # contains "TEXT")`
	}
	return msg
}

// brief is an expr-lang error as one line: its first line, spaces folded.
func brief(err error) string {
	return message.OneLine(message.FirstLine(err.Error()))
}
