// Package testfiles writes the files a test needs into a directory.
package testfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes each file, by path relative to dir, making directories as
// needed.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
