package expression

import "testing"

// FuzzExprCompile compiles arbitrary expressions and templates: an error or
// a program, never a panic.
func FuzzExprCompile(f *testing.F) {
	for _, seed := range []string{
		"object.status.availableReplicas == vars.replicas",
		`quantity("128Mi") < quantity("1Gi")`,
		`all(objects, .status.phase == "Running")`,
		`steps["a b"].recovery.p95 < duration("30s")`,
		"len(",
		"${{ vars.x }}-${{ namespace }}",
		"${{",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e := Expr{Source: src}
		if err := e.Compile(map[string]any{"object": map[string]any{}, "objects": []any{}}); err == nil {
			_, _, _ = e.Eval(map[string]any{"vars": map[string]any{}, "steps": map[string]any{}, "namespace": "n", "object": nil, "objects": []any{}})
		}
		if tmpl, err := CompileTemplate(src, nil); err == nil {
			_, _ = tmpl.Expand(map[string]any{"vars": map[string]any{}, "steps": map[string]any{}, "namespace": "n"})
		}
	})
}
