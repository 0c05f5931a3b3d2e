package kube

import (
	"encoding/base64"
	"reflect"
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
