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

// Printable makes text from outside kdrill (a cluster's names, events and
// logs; a scenario's strings) safe to print on a terminal: control
// characters other than newline and tab, escape sequences among them, are
// shown as \x1b-style escapes instead of acting on the terminal, and a
// carriage return cannot overwrite a line already printed.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isControl(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// isControl says whether r would act on a terminal rather than show: C0
// and C1 controls but newline and tab, DEL, the Unicode line and
// paragraph separators and bidirectional overrides.
func isControl(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true
	}
	return false
}
