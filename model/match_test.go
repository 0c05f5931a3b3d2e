package model

import "testing"

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, text string
		want          bool
	}{
		{"kwok-*", "kwok-kdrill", true},
		{"kwok-*", "kwok", false},
		{"*-east", "prod-east", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"prod", "prod", true},
		{"prod", "production", false},
		{"steps[*].duration", "steps[scale up].duration", true},
	} {
		if got := GlobMatch(tc.pattern, tc.text); got != tc.want {
			t.Errorf("%q ~ %q = %v, want %v", tc.pattern, tc.text, got, tc.want)
		}
	}
}
