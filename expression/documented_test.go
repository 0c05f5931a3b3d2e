package expression

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentedMistakes keeps docs/expressions.md honest: each ```expr
// block is compiled (and, when it compiles, run against a sample object)
// and must fail with the message in the ```error block after it.
func TestDocumentedMistakes(t *testing.T) {
	data, err := os.ReadFile("../docs/expressions.md")
	if err != nil {
		t.Fatal(err)
	}
	pairs := regexp.MustCompile("(?s)```expr\n(.*?)\n```\\s*```error\n(.*?)\n```").FindAllStringSubmatch(string(data), -1)
	if len(pairs) < 8 {
		t.Fatalf("found %d documented mistakes, want at least 8", len(pairs))
	}
	scope := map[string]any{"object": map[string]any{}, "objects": []any{}}
	sample := map[string]any{
		"vars":  map[string]any{"replicas": 3},
		"steps": map[string]any{},
		"object": map[string]any{
			"status": map[string]any{"availableReplicas": 3},
			"spec":   map[string]any{"hard": map[string]any{"memory": "1Gi"}},
		},
		"objects": []any{},
	}
	for _, p := range pairs {
		src, want := strings.TrimSpace(p[1]), strings.TrimSpace(p[2])
		e := Expr{Source: src}
		err := e.Compile(scope)
		if err == nil {
			_, _, err = e.Eval(sample)
		}
		if err == nil || err.Error() != want {
			t.Errorf("%s\n  documented: %s\n  kdrill says: %v", src, want, err)
		}
	}
}
