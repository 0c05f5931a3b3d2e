package steps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// shownHeaders are the response headers a failure message shows: those
// that say what came back and where to look, never cookies or credentials.
var shownHeaders = []string{"content-type", "content-length", "location", "retry-after"}

// maxShownBody bounds the body a failure message shows.
const maxShownBody = 1024

// responseDetail is what a failed expectation shows of the response after
// its first line: the headers that matter and the start of the body, JSON
// pretty-printed with fields that look like credentials redacted.
func responseDetail(headers map[string]any, body string) string {
	var b strings.Builder
	for _, h := range shownHeaders {
		if v, ok := headers[h]; ok {
			fmt.Fprintf(&b, "\n  %s: %v", h, v)
		}
	}
	if shown := shownBody(body); shown != "" {
		b.WriteString("\n  body: " + strings.ReplaceAll(shown, "\n", "\n  "))
	}
	return b.String()
}

// shownBody is the body's start: JSON indented, other text as it is.
func shownBody(body string) string {
	body = strings.TrimSpace(body)
	if body == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(body), &v) == nil {
		var pretty bytes.Buffer
		enc := json.NewEncoder(&pretty)
		enc.SetEscapeHTML(false) // reports escape for their own format
		enc.SetIndent("", "  ")
		if enc.Encode(redactJSON(v)) == nil {
			body = strings.TrimSpace(pretty.String())
		}
	} else {
		body = credentialText.ReplaceAllString(body, "$1<redacted>")
	}
	if len(body) > maxShownBody {
		body = body[:maxShownBody] + fmt.Sprintf("\n… (%d bytes more)", len(body)-maxShownBody)
	}
	return body
}

// credentialKey matches the names of fields that hold credentials.
var credentialKey = regexp.MustCompile(`(?i)(pass(word|wd)?|secret|token|api[-_]?key|credential|authorization|cookie|private[-_]?key)`)

// credentialText matches "name=value" and "name: value" pairs of such
// fields in text that is not JSON.
var credentialText = regexp.MustCompile(`(?i)((?:pass(?:word|wd)?|secret|token|api[-_]?key|authorization)\s*[:=]\s*)[^\s&,;]+`)

// redactJSON replaces the values of credential-like fields.
func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if credentialKey.MatchString(k) {
				out[k] = "<redacted>"
				continue
			}
			out[k] = redactJSON(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = redactJSON(val)
		}
		return out
	}
	return v
}
