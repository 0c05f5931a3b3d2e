package scenario

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Limits that keep a hostile file from exhausting memory while it loads.
const (
	// MaxScenarioBytes is the largest scenario or manifest file kdrill reads.
	MaxScenarioBytes = 4 << 20
	// maxTreeNodes bounds the values a document may expand to through aliases.
	maxTreeNodes = 200_000
	// maxTreeDepth bounds how deeply a document may nest.
	maxTreeDepth = 100
	// maxTreeBytes bounds the text (keys and scalars) a document may expand
	// to through aliases: a few aliased long strings would otherwise cost
	// gigabytes once decoded.
	maxTreeBytes = 8 << 20
)

// tree is a YAML document turned into plain Go values (map[string]any, []any,
// string, int64, float64, bool, nil) that remembers the line of every node,
// so that an error found while decoding can name the line it came from.
type tree struct {
	value any
	line  int
	// keyLine is the line of the mapping key that holds this node, if any;
	// for a key a merge (<<: *anchor) brought in, where it was written.
	keyLine int
	// merged marks a key a merge brought in, which the mapping's own keys
	// override.
	merged bool
	// block marks a scalar written as a block (| or >): its text starts on
	// the line after line.
	block  bool
	fields map[string]*tree // for mappings
	items  []*tree          // for sequences
}

// child returns the node under key, or nil.
func (t *tree) child(key string) *tree {
	if t == nil {
		return nil
	}
	return t.fields[key]
}

// find walks a dotted path of mapping keys and returns the deepest node it
// reaches; it never returns nil when t is not nil.
func (t *tree) find(path string) *tree {
	cur := t
	if path == "" {
		return cur
	}
	for _, seg := range strings.Split(path, ".") {
		if i, err := strconv.Atoi(seg); err == nil && cur.items != nil && i < len(cur.items) {
			cur = cur.items[i]
			continue
		}
		next := cur.child(seg)
		if next == nil {
			return cur
		}
		cur = next
	}
	return cur
}

// findKeyPath searches the subtree, breadth first, for the first mapping
// key named key, and returns the mapping keys on the way to it (list
// indices left out) and its line.
func (t *tree) findKeyPath(key string) ([]string, int) {
	type item struct {
		n    *tree
		path []string
	}
	queue := []item{{t, nil}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if c, ok := it.n.fields[key]; ok {
			return it.path, c.keyLine
		}
		for _, k := range sortedKeys(it.n.fields) {
			queue = append(queue, item{it.n.fields[k], append(slices.Clip(it.path), k)})
		}
		for _, c := range it.n.items {
			queue = append(queue, item{c, it.path})
		}
	}
	return nil, t.line
}

// findValue finds the first scalar, depth first in key order, whose value
// the message quotes, and returns its dotted path.
func (t *tree) findValue(msg string) (string, *tree) {
	if t.fields == nil && t.items == nil {
		if s, ok := t.value.(string); ok && strings.Contains(msg, strconv.Quote(s)) {
			return "", t
		}
		return "", nil
	}
	for i, c := range t.items {
		if p, n := c.findValue(msg); n != nil {
			return joinField(strconv.Itoa(i), p), n
		}
	}
	keys := slices.Sorted(maps.Keys(t.fields))
	for _, k := range keys {
		if p, n := t.fields[k].findValue(msg); n != nil {
			return joinField(k, p), n
		}
	}
	return "", nil
}

// findScalar finds the first scalar, depth first in key order, that is the
// text value, and returns its dotted path.
func (t *tree) findScalar(value string) (string, *tree) {
	if t.fields == nil && t.items == nil {
		if s, ok := t.value.(string); ok && s == value {
			return "", t
		}
		return "", nil
	}
	for i, c := range t.items {
		if p, n := c.findScalar(value); n != nil {
			return joinField(strconv.Itoa(i), p), n
		}
	}
	for _, k := range sortedKeys(t.fields) {
		if p, n := t.fields[k].findScalar(value); n != nil {
			return joinField(k, p), n
		}
	}
	return "", nil
}

// lineOf returns the best line for a node: its key's line when it has one.
func (t *tree) lineOf() int {
	if t.keyLine > 0 {
		return t.keyLine
	}
	return t.line
}

type treeBuilder struct {
	nodes int
	bytes int
}

type treeError struct {
	line int
	msg  string
}

func (e *treeError) Error() string { return e.msg }

func (b *treeBuilder) build(n *yaml.Node, depth int, expanding map[*yaml.Node]bool) (*tree, error) {
	b.nodes++
	b.bytes += len(n.Value)
	if b.bytes > maxTreeBytes {
		return nil, &treeError{n.Line, fmt.Sprintf("document expands to more than %d MiB of text through aliases", maxTreeBytes>>20)}
	}
	if b.nodes > maxTreeNodes {
		return nil, &treeError{n.Line, fmt.Sprintf("document expands to more than %d values (aliases nested too deeply?)", maxTreeNodes)}
	}
	if depth > maxTreeDepth {
		return nil, &treeError{n.Line, fmt.Sprintf("document nests deeper than %d levels", maxTreeDepth)}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &tree{line: n.Line}, nil
		}
		return b.build(n.Content[0], depth, expanding)
	case yaml.AliasNode:
		if expanding[n.Alias] {
			return nil, &treeError{n.Line, "alias refers to itself"}
		}
		expanding[n.Alias] = true
		defer delete(expanding, n.Alias)
		t, err := b.build(n.Alias, depth+1, expanding)
		if err != nil {
			return nil, err
		}
		cp := *t
		cp.line = n.Line
		return &cp, nil
	case yaml.MappingNode:
		t := &tree{line: n.Line, fields: map[string]*tree{}}
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, &treeError{k.Line, "mapping keys must be plain strings"}
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				if err := b.merge(t, m, v, depth, expanding); err != nil {
					return nil, err
				}
				continue
			}
			if prev, dup := t.fields[k.Value]; dup && !prev.merged {
				return nil, &treeError{k.Line, fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, prev.keyLine)}
			}
			c, err := b.build(v, depth+1, expanding)
			if err != nil {
				return nil, err
			}
			c.keyLine = k.Line
			t.fields[k.Value] = c
			m[k.Value] = c.value
		}
		t.value = m
		return t, nil
	case yaml.SequenceNode:
		t := &tree{line: n.Line}
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			ct, err := b.build(c, depth+1, expanding)
			if err != nil {
				return nil, err
			}
			t.items = append(t.items, ct)
			s = append(s, ct.value)
		}
		t.value = s
		return t, nil
	case yaml.ScalarNode:
		v, err := scalarValue(n)
		if err != nil {
			return nil, &treeError{n.Line, err.Error()}
		}
		return &tree{line: n.Line, value: v, block: n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0}, nil
	}
	return nil, &treeError{n.Line, "unsupported YAML node"}
}

// merge applies a YAML merge key ("<<: *anchor") to the mapping being built;
// keys written in the mapping itself win.
func (b *treeBuilder) merge(t *tree, m map[string]any, v *yaml.Node, depth int, expanding map[*yaml.Node]bool) error {
	src, err := b.build(v, depth+1, expanding)
	if err != nil {
		return err
	}
	sources := []*tree{src}
	if src.items != nil {
		sources = src.items
	}
	for _, s := range sources {
		if s.fields == nil {
			return &treeError{v.Line, "merge key needs a mapping or a list of mappings"}
		}
		for k, c := range s.fields {
			if _, set := t.fields[k]; set {
				continue
			}
			cp := *c
			cp.merged = true
			t.fields[k] = &cp
			m[k] = c.value
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("integer %q out of range", n.Value)
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("number %q is not finite", n.Value)
		}
		return f, nil
	default: // !!str, !!timestamp, !!binary and custom tags stay text
		return n.Value, nil
	}
}

// parseYAMLDocuments parses every document in data into trees.
func parseYAMLDocuments(data []byte) ([]*tree, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var docs []*tree
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, yamlSyntaxError(err, data)
		}
		b := &treeBuilder{}
		t, err := b.build(&n, 0, map[*yaml.Node]bool{})
		if err != nil {
			return nil, err
		}
		if t.value == nil && t.fields == nil && t.items == nil {
			continue // an empty document, such as a trailing "---"
		}
		docs = append(docs, t)
	}
}

func (t *tree) stringValue() (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.value.(string)
	return s, ok
}

func lineOr(t *tree, line int) int {
	if t == nil {
		return line
	}
	return t.lineOf()
}

func sortedKeys(m map[string]*tree) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]].keyLine < m[keys[j]].keyLine })
	return keys
}
