package kube

import (
	"context"
	"encoding/base64"
	"os"
	"sort"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// Redacted replaces Secret values in everything kdrill records.
const Redacted = "<redacted>"

// minSubstring is the shortest Secret value also hidden inside longer text;
// shorter ones are hidden only where they are a whole value, or every "1"
// in a report would go.
const minSubstring = 4

// Redactor remembers the values of every Secret kdrill reads or writes, in
// plain and base64 form, and blanks them out of results, console output,
// logs and reports. Expressions still see the real values.
type Redactor struct {
	mu      sync.RWMutex
	secrets map[string]bool
	long    []string // the ones hidden inside text, longest first
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor { return &Redactor{secrets: map[string]bool{}} }

// AddSecret remembers a Secret's data and stringData values; other kinds
// are ignored.
func (r *Redactor) AddSecret(obj map[string]any) {
	if r == nil || obj == nil || obj["kind"] != "Secret" {
		return
	}
	var values []string
	if data, ok := obj["data"].(map[string]any); ok {
		for _, v := range data {
			if s, ok := v.(string); ok {
				values = append(values, s)
				if plain, err := base64.StdEncoding.DecodeString(s); err == nil {
					values = append(values, forms(string(plain))...)
				}
			}
		}
	}
	if data, ok := obj["stringData"].(map[string]any); ok {
		for _, v := range data {
			if s, ok := v.(string); ok {
				values = append(values, forms(s)...)
			}
		}
	}
	r.add(values...)
}

// AddCredentials remembers what the connection authenticates with (a
// bearer token, a password, a client key and certificate, in the forms a
// kubeconfig or a program printing it shows them), so a step that prints
// its KUBECONFIG cannot put them in a report.
func (r *Redactor) AddCredentials(token, password string, keyData, certData []byte, files ...string) {
	if r == nil {
		return
	}
	values := append(forms(token), forms(password)...)
	for _, pem := range [][]byte{keyData, certData} {
		values = append(values, forms(string(pem))...)
		for _, line := range strings.Split(string(pem), "\n") {
			if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
				values = append(values, line) // the PEM body, line by line
			}
		}
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		if data, err := os.ReadFile(f); err == nil && len(data) < 1<<20 {
			values = append(values, forms(string(data))...)
		}
	}
	r.add(values...)
}

// forms are the ways a secret value shows in text: as it is, without the
// trailing newline "echo x | base64" leaves, and base64 with and without
// padding.
func forms(v string) []string {
	if v == "" {
		return nil
	}
	out := []string{v}
	if t := strings.TrimSpace(v); t != v && t != "" {
		out = append(out, t)
	}
	for _, p := range append([]string{}, out...) {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(p)), base64.RawStdEncoding.EncodeToString([]byte(p)))
	}
	return out
}

func (r *Redactor) add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		if v == "" || r.secrets[v] {
			continue
		}
		r.secrets[v] = true
		if len(v) >= minSubstring {
			r.long = append(r.long, v)
			changed = true
		}
	}
	if changed {
		sort.Slice(r.long, func(i, j int) bool { return len(r.long[i]) > len(r.long[j]) })
	}
}

// Empty says no Secret has been seen, so there is nothing to hide.
func (r *Redactor) Empty() bool {
	if r == nil {
		return true
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets) == 0
}

// String hides Secret values in text.
func (r *Redactor) String(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.secrets[s] {
		return Redacted
	}
	for _, v := range r.long {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// Value returns a copy of a plain value (maps, lists, strings) with Secret
// values hidden; other values are returned as they are, and everything is
// when no Secret has been seen.
func (r *Redactor) Value(v any) any {
	if r.Empty() {
		return v
	}
	return r.value(v)
}

func (r *Redactor) value(v any) any {
	switch x := v.(type) {
	case string:
		return r.String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.value(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.value(e)
		}
		return out
	}
	return v
}

// secretsClient remembers the Secrets that pass through a dynamic client
// for secrets, in both directions.
type secretsClient struct {
	dynamic.ResourceInterface
	r *Redactor
}

func (c secretsClient) seen(u *unstructured.Unstructured, err error) (*unstructured.Unstructured, error) {
	if u != nil {
		c.r.AddSecret(u.Object)
	}
	return u, err
}

func (c secretsClient) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error) {
	return c.seen(c.ResourceInterface.Get(ctx, name, opts, sub...))
}

func (c secretsClient) List(ctx context.Context, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	l, err := c.ResourceInterface.List(ctx, opts)
	if l != nil {
		for i := range l.Items {
			c.r.AddSecret(l.Items[i].Object)
		}
	}
	return l, err
}

func (c secretsClient) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := c.ResourceInterface.Watch(ctx, opts)
	if err != nil {
		return w, err
	}
	return watch.Filter(w, func(ev watch.Event) (watch.Event, bool) {
		if u, ok := ev.Object.(*unstructured.Unstructured); ok {
			c.r.AddSecret(u.Object)
		}
		return ev, true
	}), nil
}

func (c secretsClient) Create(ctx context.Context, obj *unstructured.Unstructured, opts metav1.CreateOptions, sub ...string) (*unstructured.Unstructured, error) {
	c.r.AddSecret(obj.Object)
	return c.seen(c.ResourceInterface.Create(ctx, obj, opts, sub...))
}

func (c secretsClient) Update(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions, sub ...string) (*unstructured.Unstructured, error) {
	c.r.AddSecret(obj.Object)
	return c.seen(c.ResourceInterface.Update(ctx, obj, opts, sub...))
}

func (c secretsClient) Apply(ctx context.Context, name string, obj *unstructured.Unstructured, opts metav1.ApplyOptions, sub ...string) (*unstructured.Unstructured, error) {
	c.r.AddSecret(obj.Object)
	return c.seen(c.ResourceInterface.Apply(ctx, name, obj, opts, sub...))
}

func (c secretsClient) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*unstructured.Unstructured, error) {
	return c.seen(c.ResourceInterface.Patch(ctx, name, pt, data, opts, sub...))
}
