package message

import "testing"

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"replcias", []string{"replicas", "selector"}, ` (did you mean "replicas"?)`},
		{"Replicas", []string{"replicas"}, ` (did you mean "replicas"?)`},
		{"timeout", []string{"replicas", "selector"}, ""},
		{"x", nil, ""},
	} {
		if got := Suggest(tc.word, tc.candidates); got != tc.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", tc.word, tc.candidates, got, tc.want)
		}
	}
}

func TestShaping(t *testing.T) {
	if got := Clip("abcdef", 3); got != "abc…" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("abc", 3); got != "abc" {
		t.Errorf("Clip of a short string = %q", got)
	}
	if got := OneLine(FirstLine("a  b\n c\nd")); got != "a b" {
		t.Errorf("OneLine(FirstLine) = %q", got)
	}
}
