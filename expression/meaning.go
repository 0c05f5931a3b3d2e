package expression

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/expr-lang/expr/ast"

	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/model"
)

// Expressions that compile but mean something else than their writer
// meant: a duration compared with a bare number (nanoseconds), an output
// the step's spec leaves null, a background step read before it ended.

// comparisons are the operators whose sides must be alike.
var comparisons = []string{"<", "<=", ">", ">=", "==", "!="}

// checkMeaning walks the expression for comparisons of a duration with a
// bare number.
func (sc *Scope) checkMeaning(tree ast.Node) error {
	v := &meaningVisitor{sc: sc}
	ast.Walk(&tree, v)
	return v.err
}

type meaningVisitor struct {
	sc  *Scope
	err error
}

func (v *meaningVisitor) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok || v.err != nil || !slices.Contains(comparisons, b.Operator) {
		return
	}
	for _, pair := range [][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
		m, ok := pair[0].(*ast.MemberNode)
		if !ok {
			continue
		}
		n, isNumber := number(pair[1])
		if !isNumber || n == 0 {
			continue // 0 is 0 in every unit
		}
		root, segs := memberPath(m)
		if t := v.sc.pathType(root, segs); t == durationType || t == stdDuration {
			path := pathString(root, segs)
			v.err = fmt.Errorf("%s is a duration and %v a bare number (nanoseconds, to a duration): compare with duration(\"%vs\"), or take %s.Seconds()", path, n, n, path)
			return
		}
	}
}

// number is a numeric literal's value.
func number(n ast.Node) (float64, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return float64(x.Value), true
	case *ast.FloatNode:
		return x.Value, true
	case *ast.UnaryNode:
		if v, ok := number(x.Node); ok && x.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}

// pathType is the type a field path has as Plain renders it, nil when it
// cannot be told at load.
func (sc *Scope) pathType(root string, segs []segment) reflect.Type {
	if sc == nil || sc.Steps == nil || len(segs) == 0 {
		return nil
	}
	var t reflect.Type
	switch {
	case root == "steps" && segs[0].known:
		t = model.OutputType(sc.Steps.kinds[sc.Prefix+segs[0].name])
		segs = segs[1:]
	default:
		typed, ok := sc.Extra[root].(Typed)
		if !ok {
			return nil
		}
		t = typed.Type
	}
	for _, seg := range segs {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == nil:
			return nil
		case t.Kind() == reflect.Struct && seg.known:
			f, ok := jsonfields.Find(t, seg.name)
			if !ok {
				return nil
			}
			t = f.Type
		case t.Kind() == reflect.Map, t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
			t = t.Elem()
		default:
			return nil
		}
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// checkStepState refuses reading an output the step's spec leaves null,
// or one of a step still running in the background.
func (sc *Scope) checkStepState(name, at string, segs []segment) error {
	x := sc.Steps
	if x.background[name] && !x.ended[name] {
		return fmt.Errorf("%s runs in the background and has not ended here: its output is whole only once it has; put a wait (or a stop) naming it before this step: wait: {steps: [%s]}", at, x.written[name])
	}
	if len(segs) > 0 && segs[0].known {
		if why, ok := x.absent[name][segs[0].name]; ok {
			return fmt.Errorf("%s.%s is always null here: %s", at, segs[0].name, why)
		}
	}
	return nil
}

// Background records that the step named name (written as written in its
// file) runs in the background: until a wait or stop names it (Ended), its
// output is not whole.
func (x *Steps) Background(name, written string) {
	x.background[name] = true
	x.written[name] = written
}

// Ended records that a wait or stop has joined the background step.
func (x *Steps) Ended(name string) { x.ended[name] = true }

// EndAll records that every background step has ended: the steps' end
// joins them, before finally.
func (x *Steps) EndAll() {
	for name := range x.background {
		x.ended[name] = true
	}
}

// Absent records the fields of a step's output that its spec leaves null,
// each with why and the fix.
func (x *Steps) Absent(name string, fields map[string]string) {
	if len(fields) > 0 {
		x.absent[name] = fields
	}
}
