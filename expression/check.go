package expression

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/ast"
)

// Bounds on one expression's text, so a hostile file cannot exhaust the
// parser's stack or memory.
const (
	maxExprBytes = 16 << 10
	maxExprDepth = 64
)

// checkExprShape refuses an expression too long or too deeply nested to be
// one a person wrote, before the parser sees it.
func checkExprShape(src string) error {
	if len(src) > maxExprBytes {
		return fmt.Errorf("the expression is %d bytes, longer than the %d KiB kdrill compiles", len(src), maxExprBytes>>10)
	}
	depth, run := 0, 0
	inString := rune(0)
	for i, r := range src {
		if inString != 0 {
			if r == inString && (i == 0 || src[i-1] != '\\') {
				inString = 0
			}
			continue
		}
		switch r {
		case '"', '\'', '`':
			inString = r
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		switch {
		case r == '!' || r == '-' || r == '+' || r == '~':
			run++
		case r != ' ':
			run = 0
		}
		if depth > maxExprDepth || run > maxExprDepth {
			return fmt.Errorf("the expression nests deeper than %d levels", maxExprDepth)
		}
	}
	return nil
}

// pathVisitor collects member accesses and checks helper literals.
type pathVisitor struct {
	members []*ast.MemberNode
	inner   map[*ast.MemberNode]bool
	err     error
}

func (v *pathVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		v.members = append(v.members, n)
		if in, ok := n.Node.(*ast.MemberNode); ok {
			if v.inner == nil {
				v.inner = map[*ast.MemberNode]bool{}
			}
			v.inner[in] = true
		}
	case *ast.CallNode:
		if v.err == nil {
			v.err = checkLiteral(n)
		}
	case *ast.BuiltinNode:
		if v.err == nil && n.Name == "duration" && len(n.Arguments) == 1 {
			if lit, ok := n.Arguments[0].(*ast.StringNode); ok {
				if _, err := time.ParseDuration(lit.Value); err != nil {
					v.err = fmt.Errorf("duration(%q): not a duration; write a number with a unit: 500ms, 30s, 2m, 1h30m", lit.Value)
				}
			}
		}
	}
}

// checkLiteral refuses a helper called with a literal it cannot take.
func checkLiteral(call *ast.CallNode) error {
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || len(call.Arguments) != 1 {
		return nil
	}
	lit, ok := call.Arguments[0].(*ast.StringNode)
	if !ok {
		return nil
	}
	switch id.Value {
	case "quantity":
		_, err := Quantity(lit.Value)
		return err
	case "duration":
		if _, err := time.ParseDuration(lit.Value); err != nil {
			return fmt.Errorf("duration(%q): not a duration; write a number with a unit: 500ms, 30s, 2m, 1h30m", lit.Value)
		}
	}
	return nil
}
