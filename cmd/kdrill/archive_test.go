package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// archive writes a .tgz of the entries, each a tar header with its
// content.
func archive(t *testing.T, entries []tar.Header, content map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		body := content[h.Name]
		h.Size = int64(len(body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "scenarios.tgz")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// A packed scenario directory loads as the directory would; what a
// scenario directory never holds is refused, naming the entry, and the
// unpacked files go when the command ends.
func TestScenarioArchives(t *testing.T) {
	start := time.Now()
	scenarioText := "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: packed}\nspec:\n  steps:\n  - name: web\n    apply: {file: manifests/web.yaml}\n"
	good := archive(t, []tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./s.yaml", Typeflag: tar.TypeReg},
		{Name: "./manifests/web.yaml", Typeflag: tar.TypeReg},
	}, map[string]string{"./s.yaml": scenarioText, "./manifests/web.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"})
	code, out, errOut := kdrill(t, "validate", good)
	if code != 0 || !strings.Contains(out, "(packed): 1 steps") {
		t.Fatalf("validate of a packed directory: exit %d\n%s\n%s", code, out, errOut)
	}
	for name, c := range map[string]struct {
		entries []tar.Header
		want    string
	}{
		"link":     {[]tar.Header{{Name: "s.yaml", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}, "s.yaml: only files and directories are unpacked"},
		"escape":   {[]tar.Header{{Name: "../../outside.yaml", Typeflag: tar.TypeReg}}, "leaves the archive's directory"},
		"absolute": {[]tar.Header{{Name: "/etc/kdrill.yaml", Typeflag: tar.TypeReg}}, "leaves the archive's directory"},
	} {
		code, _, errOut := kdrill(t, "validate", archive(t, c.entries, nil))
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, %s; want 2 and %q", name, code, errOut, c.want)
		}
	}
	many := make([]tar.Header, maxArchiveEntries+1)
	for i := range many {
		many[i] = tar.Header{Name: "f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + filepath.Base(t.Name()) + string(rune('0'+i%10)) + ".txt", Typeflag: tar.TypeDir}
	}
	if code, _, errOut := kdrill(t, "validate", archive(t, many, nil)); code != 2 || !strings.Contains(errOut, "more than 4096 entries") {
		t.Errorf("a bomb of entries: exit %d, %s", code, errOut)
	}
	if code, _, errOut := kdrill(t, "validate", writeFile(t, t.TempDir(), "not.tgz", "plain text")); code != 2 || !strings.Contains(errOut, "not a gzip-compressed tar") {
		t.Errorf("not an archive: exit %d, %s", code, errOut)
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "kdrill-scenarios-*"))
	for _, d := range left {
		if fi, err := os.Stat(d); err == nil && fi.ModTime().After(start) {
			t.Errorf("an unpacked directory outlived its command: %s", d)
		}
	}
}
