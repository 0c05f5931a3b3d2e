package kube

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	r := NewRedactor()
	r.AddSecret(map[string]any{"kind": "ConfigMap", "data": map[string]any{"a": "not-a-secret-value"}})
	r.AddSecret(map[string]any{
		"kind":       "Secret",
		"data":       map[string]any{"token": base64.StdEncoding.EncodeToString([]byte("tok-123456"))},
		"stringData": map[string]any{"pin": "42", "password": "hunter2-long"},
	})
	for in, want := range map[string]string{
		"not-a-secret-value":        "not-a-secret-value",
		"tok-123456":                Redacted,
		"saw tok-123456 in the log": "saw " + Redacted + " in the log",
		base64.StdEncoding.EncodeToString([]byte("tok-123456")):   Redacted,
		"password is hunter2-long":                                "password is " + Redacted,
		base64.StdEncoding.EncodeToString([]byte("hunter2-long")): Redacted,
		"42":           Redacted, // a whole short value
		"replicas: 42": "replicas: 42",
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	v := r.Value(map[string]any{"object.data.pin": "42", "list": []any{"tok-123456", 3}})
	want := map[string]any{"object.data.pin": Redacted, "list": []any{Redacted, 3}}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("Value = %v", v)
	}
	var none *Redactor
	if none.String("tok-123456") != "tok-123456" {
		t.Error("a nil Redactor changed text")
	}
}

// The forms a Secret's value takes in text are hidden too: with the
// trailing newline "echo x | base64" leaves, base64 without padding, and
// values of four characters; so are the connection's own credentials.
func TestRedactorHidesEveryFormAndTheCredentials(t *testing.T) {
	r := NewRedactor()
	r.AddSecret(map[string]any{"kind": "Secret", "data": map[string]any{
		"a": base64.StdEncoding.EncodeToString([]byte("hunter2\n")),
		"b": base64.StdEncoding.EncodeToString([]byte("abcd")),
	}})
	r.AddCredentials("tok-0123456789", "", []byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKeyBodyLineThatIsLong\n-----END EC PRIVATE KEY-----\n"), nil)
	for _, leak := range []string{
		"password is hunter2 here",
		"b64 " + base64.RawStdEncoding.EncodeToString([]byte("hunter2")),
		"short abcd!",
		"Authorization: Bearer tok-0123456789",
		"client-key-data: " + base64.StdEncoding.EncodeToString([]byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKeyBodyLineThatIsLong\n-----END EC PRIVATE KEY-----\n")),
		"key line MHcCAQEEIKeyBodyLineThatIsLong",
	} {
		got := r.String(leak)
		if !strings.Contains(got, Redacted) || strings.Contains(got, "hunter2") || strings.Contains(got, "abcd") || strings.Contains(got, "tok-0123456789") || strings.Contains(got, "KeyBody") {
			t.Errorf("String(%q) = %q", leak, got)
		}
	}
}
