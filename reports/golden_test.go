package reports_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/kdrill/kdrill/reports"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with
// go test ./reports -run Golden -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./reports -run Golden -update and review the diff.\ngot:\n%s", name, got)
	}
}

// TestGoldenRenderings pins what users and their tools read: results.json,
// junit.xml, and the text of report.html (its markup and charts aside).
func TestGoldenRenderings(t *testing.T) {
	r := hostileResults() // a failed step, values, events and text that needs escaping
	dir := t.TempDir()
	if err := reports.WriteJSON(filepath.Join(dir, "results.json"), r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "results.json", data)

	var junit bytes.Buffer
	if err := reports.WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.xml", junit.Bytes())

	var page bytes.Buffer
	if err := reports.WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", []byte(visibleText(t, page.String())))
}

// visibleText is the text a reader sees on the page, a line per block of
// text, without styles, scripts or attributes.
func visibleText(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "script") {
			return
		}
		if n.Type == html.TextNode {
			if text := strings.Join(strings.Fields(n.Data), " "); text != "" {
				lines = append(lines, text)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(lines, "\n") + "\n"
}
