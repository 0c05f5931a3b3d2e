package model

import "strings"

// GlobMatch matches text against a pattern in which * stands for any text;
// everything else, brackets included, is literal. Metric names and
// context names use it.
func GlobMatch(pattern, text string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == text
	}
	if !strings.HasPrefix(text, parts[0]) || !strings.HasSuffix(text, parts[len(parts)-1]) || len(text) < len(parts[0])+len(parts[len(parts)-1]) {
		return false
	}
	text = text[len(parts[0]) : len(text)-len(parts[len(parts)-1])]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(text, p)
		if i < 0 {
			return false
		}
		text = text[i+len(p):]
	}
	return true
}
