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

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text\n\twith tabs": "plain text\n\twith tabs",
		"\x1b[31mred\x1b[0m":      `\x1b[31mred\x1b[0m`,
		"ok\r✓ PASSED":            `ok\x0d✓ PASSED`,
		"\x1b]8;;http://x\x07":    `\x1b]8;;http://x\x07`,
		"a\u202eb":                `a\u202eb`,
		"\u009b2J":                `\x9b2J`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
