// Package message shapes text for kdrill's messages: one line, clipped,
// and a suggestion for a name that is almost right.
package message

import (
	"fmt"
	"strings"
)

// Clip cuts s to n bytes, marking the cut with an ellipsis.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// FirstLine is s up to its first newline.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// OneLine joins s's words with single spaces: line breaks and runs of
// spaces go.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Suggest returns ` (did you mean "x"?)` for the candidate closest to word,
// or "" when none is close.
func Suggest(word string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Declared ends a message about an undeclared name with the names that are
// declared: "; declared vars: a, b", or "; it declares none".
func Declared(what string, names []string) string {
	if len(names) == 0 {
		return "; it declares none"
	}
	return fmt.Sprintf("; declared %s: %s", what, strings.Join(names, ", "))
}
