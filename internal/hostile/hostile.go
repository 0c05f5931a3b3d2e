// Package hostile writes scenario files built to exhaust a loader: aliases
// that expand to gigabytes, expressions nested past any stack, thousands of
// steps and errors. Each is under 1 MiB and must be refused (exit 2)
// quickly and within a memory bound; the tests and a benchmark share them.
package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const head = "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: hostile}\nspec:\n"

// badStep ends a file that would otherwise load, so every file is refused.
const badStep = "  - name: last\n    scale: {kind: Deployment, name: web, replicas: -1}\n"

// Case is one generated file and a text its refusal must contain.
type Case struct {
	Path string
	Want string
}

// Write writes every case into dir.
func Write(dir string) ([]Case, error) {
	var out []Case
	for name, c := range cases() {
		path := filepath.Join(dir, name+".yaml")
		if len(c.text) >= 1<<20 {
			return nil, fmt.Errorf("%s is %d bytes, over 1 MiB", name, len(c.text))
		}
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			return nil, err
		}
		out = append(out, Case{Path: path, Want: c.want})
	}
	return out, nil
}

type text struct{ text, want string }

func cases() map[string]text {
	aliased := func(leaf string, fan, levels int, flow func(i int, prev string) string) string {
		var b strings.Builder
		b.WriteString(head + "  vars:\n    a0: &a0 " + leaf + "\n")
		for i := 1; i <= levels; i++ {
			fmt.Fprintf(&b, "    a%d: &a%d %s\n", i, i, flow(fan, fmt.Sprintf("*a%d", i-1)))
		}
		b.WriteString("  steps:\n" + badStep)
		return b.String()
	}
	numbers := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint(i)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	list := func(n int, item string) string { return "[" + strings.Repeat(item+",", n-1) + item + "]" }
	mapping := func(n int, item string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("k%d: %s", i, item)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	expr := func(e string) string {
		return head + "  steps:\n  - name: s\n    assert: {expr: \"" + e + "\"}\n"
	}
	steps := func(n int, step string) string {
		var b strings.Builder
		b.WriteString(head + "  vars: {x: 1}\n  steps:\n")
		for i := range n {
			fmt.Fprintf(&b, step, i)
		}
		b.WriteString(badStep)
		return b.String()
	}
	return map[string]text{
		"aliased-long-strings":   {aliased(`"`+strings.Repeat("x", 100_000)+`"`, 10, 4, list), "expands to more than"},
		"aliased-mappings":       {aliased(`"`+strings.Repeat("y", 50_000)+`"`, 10, 4, mapping), "expands to more than"},
		"alias-fan-out":          {aliased("z", 20, 6, list), "expands to more than"},
		"nested-parentheses":     {expr(strings.Repeat("(", 200_000) + "1" + strings.Repeat(")", 200_000) + " == 1"), "longer than"},
		"nested-within-size":     {expr(strings.Repeat("(", 5_000) + "1" + strings.Repeat(")", 5_000) + " == 1"), "nests deeper than"},
		"unary-chain":            {expr(strings.Repeat("!", 10_000) + "true"), "nests deeper than"},
		"long-member-chain":      {expr("vars" + strings.Repeat(".a", 300_000)), "longer than"},
		"many-steps":             {steps(6_000, "  - name: s%d\n    assert: {expr: \"vars.x == 1\"}\n"), "a scenario may have at most 2000"},
		"many-errors":            {steps(6_000, "  - name: s%d\n    scale: {kind: Deployment, name: w, replicas: -2}\n"), "a scenario may have at most 2000"},
		"many-templates":         {steps(4_000, "  - name: s%d\n    scale: {kind: Deployment, name: \"w${{ vars.x }}\", replicas: \"${{ vars.x }}\"}\n"), "a scenario may have at most 2000"},
		"errors-within-bound":    {steps(1_990, "  - name: s%d\n    scale: {kind: Deployment, name: w, replicas: -2}\n"), "more problems"},
		"templates-within-bound": {steps(1_990, "  - name: s%d\n    scale: {kind: Deployment, name: \"w${{ vars.x }}\", replicas: \"${{ vars.x }}\"}\n"), "must be >= 0"},
		"templates-past-budget": {head + "  steps:\n  - name: big\n    apply:\n      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: big}, data: " +
			mapping(21_000, `"${{1}}"`) + "}\n" + badStep, "more than 20000 expressions and templates"},
		"matrix-times-templates": {head + "  vars: {a: 1, b: 1}\n  matrix: {a: " + numbers(16) + ", b: " + numbers(16) + "}\n  steps:\n  - name: big\n    apply:\n      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: big}, data: " +
			mapping(100, `"${{vars.a}}"`) + "}\n", "more than the 20000 kdrill compiles in one load"},
		"deep-yaml":    {head + "  vars:\n    v: " + strings.Repeat("[", 50_000) + strings.Repeat("]", 50_000) + "\n  steps:\n" + badStep, "depth"},
		"wide-mapping": {head + "  vars: " + mapping(50_000, "1") + "\n  steps:\n" + badStep, "must be >= 0"},
	}
}
