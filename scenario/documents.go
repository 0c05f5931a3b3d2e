package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// LineError is a problem at a line of a YAML text: "line 3: ...".
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Document is one YAML document of a file, as plain values, with the line
// it starts at.
type Document struct {
	Value any
	Line  int

	tree *tree
}

// LineAt returns the line of the node at path (mapping keys and sequence
// indices), or of the deepest node on the way that exists.
func (d Document) LineAt(path []string) int {
	if d.tree == nil {
		return d.Line
	}
	cur := d.tree
	for _, seg := range path {
		var next *tree
		if i, err := strconv.Atoi(seg); err == nil && cur.items != nil {
			if i >= 0 && i < len(cur.items) {
				next = cur.items[i]
			}
		} else {
			next = cur.child(seg)
		}
		if next == nil {
			break
		}
		cur = next
	}
	return cur.lineOf()
}

// ParseDocuments parses multi-document YAML (such as a manifest file) into
// plain values, with the same limits and duplicate-key checks as scenarios.
// An error names the line it was found at.
func ParseDocuments(data []byte) ([]Document, error) {
	trees, err := parseYAMLDocuments(data)
	if err != nil {
		var te *treeError
		if errors.As(err, &te) && te.line > 0 {
			return nil, &LineError{Line: te.line, Msg: te.msg}
		}
		return nil, err
	}
	docs := make([]Document, len(trees))
	for i, t := range trees {
		docs[i] = Document{Value: t.value, Line: t.line, tree: t}
	}
	return docs, nil
}

// textEncodingProblem says why data is not UTF-8 text kdrill can read, or
// returns "": UTF-16 and UTF-32 (with or without a byte order mark) are
// named, so the fix is clear; other binary data is called so.
func textEncodingProblem(data []byte) string {
	const fix = "; save it as UTF-8"
	switch {
	case bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0, 0}):
		return "the file is UTF-32 text" + fix
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return "the file is UTF-16 text" + fix
	}
	if bytes.IndexByte(data, 0) < 0 {
		if !utf8.Valid(data) {
			return "the file is not UTF-8 text (Latin-1 or another encoding?)" + fix
		}
		return ""
	}
	if i := bytes.IndexByte(data, 0); i > 0 && utf8.Valid(data[:i]) && bytes.Count(data, []byte{0}) < 4 {
		return "a NUL byte, which YAML text cannot hold: remove it"
	}
	// Without a byte order mark, UTF-16 shows as every other byte zero.
	zeros := 0
	n := min(len(data), 512)
	for i := 0; i < n; i++ {
		if data[i] == 0 {
			zeros++
		}
	}
	if n >= 4 && zeros*3 >= n {
		return "the file looks like UTF-16 or UTF-32 text (every other byte is zero)" + fix
	}
	return "binary data, not YAML"
}

// textProblemLine is the line of the first byte that makes data not UTF-8
// text (a NUL, an invalid sequence), 0 for a problem of the whole file.
func textProblemLine(data []byte) int {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}) {
		return 0
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == 0 || r == utf8.RuneError && size <= 1 {
			return bytes.Count(data[:i], []byte{'\n'}) + 1
		}
		i += size
	}
	return 0
}
