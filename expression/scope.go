package expression

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// Typed stands, among the names a step kind adds to its expressions
// (Scope.Extra), for a value of Type as Plain renders it: expressions may use
// Type's JSON field names, and the loader refuses any other.
type Typed struct{ Type reflect.Type }

// TypedAs is Typed for T.
func TypedAs[T any]() Typed { return Typed{Type: reflect.TypeFor[T]()} }

// Scope is what an expression may name at one point of a scenario: the
// declared vars, the steps before this one and their output types, and the
// names the step kind adds. A scope without Steps (nil) checks only what
// expr-lang checks: library callers compiling outside a scenario.
type Scope struct {
	Vars map[string]any
	// Steps knows every step of the scenario and its position; Pos is the
	// position of the step whose expressions these are: only steps before
	// it have outputs to read.
	Steps *Steps
	Pos   int
	// Extra are the names the step kind adds (ExprNames); a Typed value
	// stands for a value of its type as Plain renders it.
	Extra map[string]any
	// Prefix is an included step's "<include>/": steps.NAME names the
	// steps of its own file.
	Prefix string
	// Budget, when set, counts and bounds what the load compiles.
	Budget *Budget
}

// Steps is every step of a scenario by name, as scopes check steps.NAME:
// its position (steps first, then finally), its label for messages, and,
// once it is decoded, its kind, whose output type says what it has.
type Steps struct {
	pos    map[string]int
	labels map[string]string
	kinds  map[string]string
	// background steps, those a wait or stop has ended so far, and how
	// each is written; absent are the output fields a spec leaves null.
	background, ended map[string]bool
	written           map[string]string
	absent            map[string]map[string]string
}

// NewSteps is an empty index.
func NewSteps() *Steps {
	return &Steps{
		pos: map[string]int{}, labels: map[string]string{}, kinds: map[string]string{},
		background: map[string]bool{}, ended: map[string]bool{}, written: map[string]string{},
		absent: map[string]map[string]string{},
	}
}

// Add records the step named name (an included step under its full name)
// at position pos; a second step of the same name is not recorded.
func (x *Steps) Add(name string, pos int, label string) {
	if _, dup := x.pos[name]; !dup {
		x.pos[name] = pos
		x.labels[name] = label
	}
}

// Label is the step's label for messages, "" when no step has the name.
func (x *Steps) Label(name string) string { return x.labels[name] }

// Decoded records the kind of the step named name, once it is decoded;
// kind is "" when its spec could not be made (its own errors are
// reported, so paths into its output are not checked). The first step of
// a name counts.
func (x *Steps) Decoded(name, kind string) {
	if _, dup := x.kinds[name]; !dup {
		x.kinds[name] = kind
	}
}

// earlier lists the names of the steps before position pos.
func (x *Steps) earlier(pos int) []string {
	var names []string
	for name, p := range x.pos {
		if p < pos {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Within keeps the names under prefix (an include's own steps), without it;
// with no prefix, the names of the scenario's own steps.
func (x *Steps) Within(prefix string, names []string) []string {
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
func (sc *Scope) env() map[string]any {
	env := Env(nil, nil, "")
	if sc == nil {
		return env
	}
	for k, v := range sc.Extra {
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
func (sc *Scope) check(src string) error {
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
	if sc == nil || sc.Steps == nil {
		return nil
	}
	if err := sc.checkMeaning(tree.Node); err != nil {
		return err
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

func (sc *Scope) checkPath(root string, segs []segment) error {
	if len(segs) == 0 || !segs[0].known {
		return nil
	}
	first := segs[0].name
	switch root {
	case "vars":
		v, ok := sc.Vars[first]
		if !ok {
			return fmt.Errorf("vars.%s: no var named %q in spec.vars%s%s", first, first, message.Suggest(first, slices.Sorted(maps.Keys(sc.Vars))), message.Declared("vars", slices.Sorted(maps.Keys(sc.Vars))))
		}
		return checkValuePath("vars."+first, v, segs[1:])
	case "steps":
		at := pathString("steps", segs[:1])
		name := sc.Prefix + first
		pos, ok := sc.Steps.pos[name]
		switch {
		case !ok:
			return fmt.Errorf("%s: no earlier step is named %q%s", at, first, message.Suggest(first, sc.Steps.Within(sc.Prefix, sc.Steps.earlier(sc.Pos))))
		case pos >= sc.Pos:
			return fmt.Errorf("%s: %s has not run yet at this point; an expression sees only earlier steps' outputs", at, sc.Steps.labels[name])
		}
		if err := sc.checkStepState(name, at, segs[1:]); err != nil {
			return err
		}
		kind := sc.Steps.kinds[name]
		if kind == "" {
			return nil // that step's own errors are reported
		}
		output := model.OutputType(kind)
		if output == nil {
			return fmt.Errorf("%s: a %s step has no output for expressions to read", at, kind)
		}
		return checkTypePath(at, kind+" output", output, segs[1:])
	}
	if t, ok := sc.Extra[root].(Typed); ok {
		return checkTypePath(root, root, t.Type, segs)
	}
	if v, ok := sc.Extra[root]; ok && v != nil && reflect.TypeOf(v).Kind() == reflect.Struct {
		return checkTypePath(root, root, reflect.TypeOf(v), segs)
	}
	return nil
}

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
		case durationType, stdDuration:
			return fmt.Errorf("%s is a duration, which has no field %q", here, seg.name)
		case timeType:
			return fmt.Errorf("%s is a time, which has no field %q", here, seg.name)
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := jsonfields.Find(t, seg.name)
			if !ok {
				names := jsonfields.Names(t)
				return fmt.Errorf("%s: the %s has no field %q%s; it has: %s", here+"."+seg.name, what, seg.name, message.Suggest(seg.name, names), strings.Join(names, ", "))
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
				return fmt.Errorf("%s: %s has no key %q%s; it has: %s", here+"."+seg.name, here, seg.name, message.Suggest(seg.name, keys), strings.Join(keys, ", "))
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
