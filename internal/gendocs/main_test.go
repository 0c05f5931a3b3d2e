package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedDocsAreCurrent regenerates the doc comment maps and compares
// them with the committed ones, so kdrill steps, the schema and the
// reference docs cannot drift from the code.
func TestGeneratedDocsAreCurrent(t *testing.T) {
	for _, dir := range []string{"../../scenario", "../../steps"} {
		fresh, err := generate(dir)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(dir, "zz_generated_docs.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s/zz_generated_docs.go is stale: run make generate", dir)
		}
	}
}
