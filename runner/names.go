package runner

import (
	"fmt"
	"strings"
)

// Suggest returns ` (did you mean "x"?)` for the candidate closest to word,
// or "" when none is close.
func Suggest(word string, candidates []string) string { return suggest(word, candidates) }

// suggest returns ` (did you mean "x"?)` for the closest candidate.
func suggest(word string, candidates []string) string {
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

// checkName returns a message when name cannot be a Kubernetes name.
func checkName(name string) string {
	if len(name) > 63 {
		return "must be at most 63 characters"
	}
	for i, r := range name {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (r == '-' && i > 0 && i < len(name)-1)
		if !ok {
			return fmt.Sprintf("%q must be lower-case letters, digits and inner dashes (a Kubernetes name)", name)
		}
	}
	return ""
}
