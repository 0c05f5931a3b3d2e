package steps

import (
	"strings"
	"testing"
)

func TestHTTPFailureShowsTheResponse(t *testing.T) {
	got := responseDetail(map[string]any{"content-type": "application/json", "set-cookie": "session=abc"},
		`{"version":"1.0","user":{"name":"ana","password":"hunter2","apiKey":"k-123"}}`)
	for _, want := range []string{"\n  content-type: application/json", "\n  body: {", `"version": "1.0"`, `"password": "<redacted>"`, `"apiKey": "<redacted>"`, `"name": "ana"`} {
		if !strings.Contains(got, want) {
			t.Errorf("detail lacks %q:\n%s", want, got)
		}
	}
	for _, leak := range []string{"hunter2", "k-123", "session=abc"} {
		if strings.Contains(got, leak) {
			t.Errorf("detail shows %q:\n%s", leak, got)
		}
	}
	text := responseDetail(nil, "error: bad token=s3cr3t for user\n"+strings.Repeat("x", 2000))
	if strings.Contains(text, "s3cr3t") || !strings.Contains(text, "token=<redacted>") || !strings.Contains(text, "bytes more)") {
		t.Errorf("text body:\n%s", text)
	}
}
