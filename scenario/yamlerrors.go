package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The YAML parser's syntax errors, worded for a scenario's author.

var unknownAnchor = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)

// yamlSyntaxError turns the YAML parser's "yaml: line 3: ..." into a
// treeError with the line split out. The parser names no line for an alias
// of an unknown anchor; the first line that uses it is given instead.
func yamlSyntaxError(err error, data []byte) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "*"+m[1]) {
				return &treeError{i + 1, msg + " (no &" + m[1] + " defines it before this line)"}
			}
		}
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ":"); ok {
			if line, err := strconv.Atoi(num); err == nil {
				if at, src := unquotedFlowTemplate(data, line); at > 0 {
					return &treeError{at, fmt.Sprintf("%s: a ${{ }} inside {...} or [...] must be quoted (YAML reads its braces as a mapping): write \"%s\"", strings.TrimSpace(after), src)}
				}
				return &treeError{line, strings.TrimSpace(after)}
			}
		}
	}
	return &treeError{0, msg}
}

// unquotedFlowTemplate finds, on the lines around a syntax error, a
// ${{ }} written unquoted inside a flow mapping or list: {replicas:
// ${{ vars.n }}} is a YAML error, "${{ vars.n }}" is not. It returns the
// line and the template, or 0.
func unquotedFlowTemplate(data []byte, errLine int) (int, string) {
	lines := strings.Split(string(data), "\n")
	for n := max(errLine-1, 1); n <= min(errLine+3, len(lines)); n++ {
		line := lines[n-1]
		depth, quote := 0, byte(0)
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '#' && (i == 0 || line[i-1] == ' '):
				i = len(line)
			case c == '{' || c == '[':
				if strings.HasPrefix(line[i:], "{{") && i > 0 && line[i-1] == '$' {
					if depth > 0 {
						src := line[i-1:]
						if end := strings.Index(src, "}}"); end >= 0 {
							src = src[:end+2]
						}
						return n, src
					}
					i++
					continue
				}
				depth++
			case c == '}' || c == ']':
				depth--
			}
		}
	}
	return 0, ""
}
