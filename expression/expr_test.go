package expression_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kdrill/kdrill/expression"
)

func TestExprEvalAndValuesSeen(t *testing.T) {
	extra := map[string]any{"object": map[string]any{}, "objects": []any{}}
	for _, tc := range []struct {
		name, src  string
		env        map[string]any
		want       bool
		wantValues map[string]any
		wantErr    string
	}{
		{
			name: "field paths are reported", src: "object.status.availableReplicas == vars.replicas",
			env:        map[string]any{"object": map[string]any{"status": map[string]any{"availableReplicas": 2}}, "vars": map[string]any{"replicas": 3}},
			want:       false,
			wantValues: map[string]any{"object.status.availableReplicas": 2, "vars.replicas": 3},
		},
		{
			name: "quantities compare as numbers", src: `quantity("128Mi") < quantity("1Gi") && quantity("250m") == 0.25`,
			want: true, wantValues: map[string]any{},
		},
		{
			name: "durations", src: `duration("90s") > duration("1m")`,
			want: true, wantValues: map[string]any{},
		},
		{
			name: "a step's duration output shows as a duration", src: `steps.m.p95 < duration("1s")`,
			env:        map[string]any{"steps": map[string]any{"m": map[string]any{"p95": 1943107663 * time.Nanosecond}}},
			want:       false,
			wantValues: map[string]any{"steps.m.p95": "1.943s"},
		},
		{
			name: "len of a list", src: `len(objects) == 2`,
			env:        map[string]any{"objects": []any{1, 2}},
			want:       true,
			wantValues: map[string]any{"len(objects)": 2},
		},
		{
			name: "missing object is an evaluation error, not a panic", src: `object.status.phase == "Running"`,
			env:        map[string]any{"object": nil},
			wantValues: map[string]any{"object.status.phase": "<cannot fetch status from <nil> (1:8)>"},
			wantErr:    "cannot fetch status",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := expression.Expr{Source: tc.src}
			if err := e.Compile(extra); err != nil {
				t.Fatal(err)
			}
			env := map[string]any{"vars": map[string]any{}, "steps": map[string]any{}, "namespace": "ns", "object": map[string]any{}, "objects": []any{}}
			for k, v := range tc.env {
				env[k] = v
			}
			got, values, err := e.Eval(env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if diff := cmp.Diff(tc.wantValues, values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExprCompileErrors(t *testing.T) {
	for src, want := range map[string]string{
		"object.x == 1":        "unknown name object", // object exists only in assert
		"vars.x +":             "unexpected token",
		`quantity("1Gi")`:      "expected bool",
		"steps.a == 1 && nope": "unknown name nope",
	} {
		e := expression.Expr{Source: src}
		err := e.Compile(nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want %q", src, err, want)
		}
	}
}

func TestValueTemplateKeepsTypes(t *testing.T) {
	manifest := map[string]any{
		"spec": map[string]any{
			"replicas": "${{ vars.replicas }}",
			"image":    "nginx:${{ vars.tag }}",
			"labels":   []any{"${{ vars.enabled }}", "plain"},
		},
	}
	vt, err := expression.CompileValue(manifest, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vt.Expand(map[string]any{"vars": map[string]any{"replicas": 3, "tag": "1.27", "enabled": true}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"spec": map[string]any{"replicas": int64(3), "image": "nginx:1.27", "labels": []any{true, "plain"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if manifest["spec"].(map[string]any)["replicas"] != "${{ vars.replicas }}" {
		t.Error("Expand changed the template's own value")
	}
	if _, err := expression.CompileTemplate("a ${{ vars.x", nil); err == nil {
		t.Error("unclosed ${{ must be an error")
	}
}
