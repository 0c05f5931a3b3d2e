package expression_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
)

// TestScopeChecksFieldPaths compiles expressions at one point of a
// scenario and checks what the scope refuses: what no step, var or output
// type has, and what has not run yet.
func TestScopeChecksFieldPaths(t *testing.T) {
	steps := expression.NewSteps()
	steps.Add("scale", 0, `steps[0] "scale"`)
	steps.Decoded("scale", "scale")
	steps.Add("broken", 1, `steps[1] "broken"`)
	steps.Decoded("broken", "")
	steps.Add("later", 3, `steps[3] "later"`)
	steps.Add("inc/own", 1, `steps[1] "inc/own"`)
	steps.Decoded("inc/own", "scale")
	scope := &expression.Scope{
		Vars:  map[string]any{"replicas": 3, "app": map[string]any{"name": "web"}},
		Steps: steps,
		Pos:   2,
		Extra: map[string]any{"object": expression.TypedAs[model.ScaleOutput]()},
	}
	for _, tc := range []struct {
		src, wantErr string
		prefix       string
	}{
		{src: "steps.scale.replicas == vars.replicas"},
		{src: "steps.broken.anything > 0"},
		{src: "vars.app.name == 'web' && object.previous >= 0"},
		{src: "steps.scale.replica > 0", wantErr: `steps.scale.replica: the scale output has no field "replica" (did you mean "replicas"?); it has: previous, replicas`},
		{src: "steps.scael.replicas > 0", wantErr: `steps.scael: no earlier step is named "scael" (did you mean "scale"?)`},
		{src: "steps.later.replicas > 0", wantErr: `steps.later: steps[3] "later" has not run yet at this point`},
		{src: "vars.replica > 0", wantErr: `vars.replica: no var named "replica" in spec.vars (did you mean "replicas"?); declared vars: app, replicas`},
		{src: "vars.app.nmae == ''", wantErr: `vars.app.nmae: vars.app has no key "nmae" (did you mean "name"?); it has: name`},
		{src: "object.replicas.x > 0", wantErr: "object.replicas is a int32, which has no field"},
		{src: "steps.own.replicas > 0", prefix: "inc/"},
		{src: "steps.scale.replicas > 0", prefix: "inc/", wantErr: `no earlier step is named "scale"`},
	} {
		sc := *scope
		sc.Prefix = tc.prefix
		e := expression.Expr{Source: tc.src}
		err := e.CompileIn(&sc)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.src, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: got %v, want an error containing %q", tc.src, err, tc.wantErr)
		}
	}
}

// TestTemplateReads tells a template the vars give from one only the run
// can evaluate.
func TestTemplateReads(t *testing.T) {
	for src, want := range map[string]bool{
		"app-${{ vars.name }}":               false,
		"${{ namespace }}/x":                 true,
		"${{ steps.scale.replicas + 1 }}":    true,
		"plain text":                         false,
		"${{ vars.n }} and ${{ namespace }}": true,
	} {
		tmpl, err := expression.CompileTemplate(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := tmpl.Reads("steps", "namespace"); got != want {
			t.Errorf("%s: Reads = %v, want %v", src, got, want)
		}
	}
}

// Seen says only what there is to say.
func TestSeen(t *testing.T) {
	for _, tc := range []struct {
		values map[string]any
		err    error
		want   string
	}{
		{nil, nil, ""},
		{map[string]any{"b": 2, "a": "x"}, nil, `; last seen: a = "x", b = 2`},
		{nil, errors.New("boom"), " (evaluation error: boom)"},
	} {
		if got := expression.Seen(tc.values, tc.err); got != tc.want {
			t.Errorf("Seen(%v, %v) = %q, want %q", tc.values, tc.err, got, tc.want)
		}
	}
}

// Reads finds the names an expression uses, and leaves one it will not
// compile to the compiler, without parsing it.
func TestReads(t *testing.T) {
	deep := strings.Repeat("(", 5000) + "object" + strings.Repeat(")", 5000)
	for src, want := range map[string]bool{
		"object.status.replicas == 3": true,
		"len(objects) > 0":            true,
		"vars.object == 1":            false,
		"steps.a.ok":                  false,
		"object ==":                   false,
		deep:                          false,
	} {
		if got := expression.Reads(src, "object", "objects"); got != want {
			t.Errorf("Reads(%.40q) = %v, want %v", src, got, want)
		}
	}
}
