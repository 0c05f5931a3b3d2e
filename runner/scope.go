package runner

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/kdrill/kdrill/model"
)

// Typed stands, among the names a step kind adds to its expressions
// (ExprScope), for a value of Type as Plain renders it: expressions may use
// Type's JSON field names, and the loader refuses any other.
type Typed struct{ Type reflect.Type }

// TypedAs is Typed for T.
func TypedAs[T any]() Typed { return Typed{Type: reflect.TypeFor[T]()} }

// exprScope is what an expression may name at one point of a scenario: the
// declared vars, the steps before this one and their output types, and the
// names the step kind adds. A scope with no steps list (nil) checks only
// what expr-lang checks: library callers compiling outside a scenario.
type exprScope struct {
	vars map[string]any
	// steps knows every step of the scenario and its position; pos is the
	// position of the step whose expressions these are: only steps before
	// it have outputs to read.
	steps *stepIndex
	pos   int
	extra map[string]any
	// prefix is an included step's "<include>/": steps.NAME names the
	// steps of its own file.
	prefix string
}

// stepIndex is every step of a scenario by name: its position (steps
// first, then finally), and, once decoded, the step itself.
type stepIndex struct {
	pos     map[string]int
	labels  map[string]string
	decoded map[string]*Step
}

// earlier lists the names of the steps before position pos.
func (x *stepIndex) earlier(pos int) []string {
	var names []string
	for name, p := range x.pos {
		if p < pos {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// within keeps the names under prefix (an include's own steps), without it;
// with no prefix, the names of the scenario's own steps.
func (x *stepIndex) within(prefix string, names []string) []string {
	var out []string
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if ok && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	return out
}

// env is the environment expr-lang compiles against: Typed names are open
// maps or lists there, since Plain's values are what expressions see.
func (sc *exprScope) env() map[string]any {
	env := baseEnv()
	if sc == nil {
		return env
	}
	for k, v := range sc.extra {
		if t, ok := v.(Typed); ok {
			v = plainZero(t.Type)
		}
		env[k] = v
	}
	return env
}

// plainZero is an empty value of the kind Plain gives a type.
func plainZero(t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return []any{}
	}
	return map[string]any{}
}

// check walks an expression's field paths rooted at vars, steps and the
// typed names, and refuses those that cannot exist: an undeclared var, a
// step that is missing or comes later, a field its output does not have.
// It also checks helpers' literal arguments.
func (sc *exprScope) check(src string) error {
	tree, perr := parser.Parse(src)
	if perr != nil {
		// Not parsed, nothing to walk: expr-lang's compile error, which
		// follows, says what is wrong more clearly.
		return nil //nolint:nilerr // the compile that follows reports it
	}
	v := &pathVisitor{}
	ast.Walk(&tree.Node, v)
	if v.err != nil {
		return v.err
	}
	if sc == nil || sc.steps == nil {
		return nil
	}
	for _, m := range v.members {
		if v.inner[m] {
			continue
		}
		root, segs := memberPath(m)
		if err := sc.checkPath(root, segs); err != nil {
			return err
		}
	}
	return nil
}

// segment is one step of a field path: a constant name or index, or one
// only known when the expression runs.
type segment struct {
	name  string
	index bool
	known bool
}

func (s segment) String() string {
	switch {
	case !s.known:
		return "[...]"
	case s.index:
		return "[" + s.name + "]"
	case !isIdentifier(s.name):
		return "[" + strconv.Quote(s.name) + "]"
	}
	return "." + s.name
}

func isIdentifier(s string) bool {
	for i, r := range s {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// memberPath unwinds a.b["c"][0] into its root identifier and segments; the
// root is "" when the path does not start at a name (a closure's #).
func memberPath(m *ast.MemberNode) (string, []segment) {
	var segs []segment
	var node ast.Node = m
	for {
		mn, ok := node.(*ast.MemberNode)
		if !ok {
			break
		}
		switch p := mn.Property.(type) {
		case *ast.StringNode:
			segs = append(segs, segment{name: p.Value, known: true})
		case *ast.IntegerNode:
			segs = append(segs, segment{name: strconv.Itoa(p.Value), index: true, known: true})
		default:
			segs = append(segs, segment{})
		}
		node = mn.Node
	}
	slices.Reverse(segs)
	if id, ok := node.(*ast.IdentifierNode); ok {
		return id.Value, segs
	}
	return "", nil
}

func pathString(root string, segs []segment) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range segs {
		b.WriteString(s.String())
	}
	return b.String()
}

func (sc *exprScope) checkPath(root string, segs []segment) error {
	if len(segs) == 0 || !segs[0].known {
		return nil
	}
	first := segs[0].name
	switch root {
	case "vars":
		v, ok := sc.vars[first]
		if !ok {
			return fmt.Errorf("vars.%s: no var named %q in spec.vars%s%s", first, first, suggest(first, slices.Sorted(maps.Keys(sc.vars))), declaredList("vars", slices.Sorted(maps.Keys(sc.vars))))
		}
		return checkValuePath("vars."+first, v, segs[1:])
	case "steps":
		at := pathString("steps", segs[:1])
		pos, ok := sc.steps.pos[sc.prefix+first]
		switch {
		case !ok:
			return fmt.Errorf("%s: no earlier step is named %q%s", at, first, suggest(first, sc.steps.within(sc.prefix, sc.steps.earlier(sc.pos))))
		case pos >= sc.pos:
			return fmt.Errorf("%s: %s has not run yet at this point; an expression sees only earlier steps' outputs", at, sc.steps.labels[sc.prefix+first])
		}
		st := sc.steps.decoded[sc.prefix+first]
		if st == nil || st.Action == nil {
			return nil // that step's own errors are reported
		}
		output := model.OutputType(st.Kind)
		if output == nil {
			return fmt.Errorf("%s: a %s step has no output for expressions to read", pathString("steps", segs[:1]), st.Kind)
		}
		return checkTypePath(pathString("steps", segs[:1]), st.Kind+" output", output, segs[1:])
	}
	if t, ok := sc.extra[root].(Typed); ok {
		return checkTypePath(root, root, t.Type, segs)
	}
	if v, ok := sc.extra[root]; ok && v != nil && reflect.TypeOf(v).Kind() == reflect.Struct {
		return checkTypePath(root, root, reflect.TypeOf(v), segs)
	}
	return nil
}

func declaredList(what string, names []string) string {
	if len(names) == 0 {
		return "; it declares none"
	}
	return fmt.Sprintf("; declared %s: %s", what, strings.Join(names, ", "))
}

var (
	stdDurationType = reflect.TypeFor[time.Duration]()
	timeTypeOf      = reflect.TypeFor[time.Time]()
)

// checkTypePath checks a field path against the type Plain renders.
func checkTypePath(at, what string, t reflect.Type, segs []segment) error {
	for i, seg := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if !seg.known {
			return nil
		}
		here := at + pathString("", segs[:i])
		switch t {
		case durationType, stdDurationType:
			return fmt.Errorf("%s is a duration, which has no field %q", here, seg.name)
		case timeTypeOf:
			return fmt.Errorf("%s is a time, which has no field %q", here, seg.name)
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := jsonField(t, seg.name)
			if !ok {
				names := jsonFieldNames(t)
				return fmt.Errorf("%s: the %s has no field %q%s; it has: %s", here+"."+seg.name, what, seg.name, suggest(seg.name, names), strings.Join(names, ", "))
			}
			t = f.Type
			what = seg.name
		case reflect.Map:
			t = t.Elem()
		case reflect.Slice, reflect.Array:
			if !seg.index {
				return fmt.Errorf("%s is a list: index it (%s[0]) or use all, any, filter, map", here, here)
			}
			t = t.Elem()
		case reflect.Interface:
			return nil
		default:
			return fmt.Errorf("%s is a %s, which has no field %q", here, t.Kind(), seg.name)
		}
	}
	return nil
}

// checkValuePath checks a field path against a declared var's value.
func checkValuePath(at string, v any, segs []segment) error {
	for i, seg := range segs {
		if !seg.known {
			return nil
		}
		here := at + pathString("", segs[:i])
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[seg.name]
			if !ok {
				keys := slices.Sorted(maps.Keys(x))
				return fmt.Errorf("%s: %s has no key %q%s; it has: %s", here+"."+seg.name, here, seg.name, suggest(seg.name, keys), strings.Join(keys, ", "))
			}
			v = next
		case []any:
			if !seg.index {
				return fmt.Errorf("%s is a list: index it (%s[0])", here, here)
			}
			n, _ := strconv.Atoi(seg.name)
			if n >= len(x) {
				return fmt.Errorf("%s has %d items; %s is past its end", here, len(x), here+seg.String())
			}
			v = x[n]
		case nil:
			return nil
		default:
			return fmt.Errorf("%s is %s, which has no field %q", here, FormatValue(x), seg.name)
		}
	}
	return nil
}
