package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
)

// wellKnownFields checks, in every step kind alike, the string fields
// whose meaning is Kubernetes': a namespace is a DNS label, a selector a
// label selector. A template is checked when it is expanded.
func (l *loader) wellKnownFields(v reflect.Value, path string, body *tree, st *Step) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range jsonfields.Of(v.Type()) {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil {
				continue
			}
			at := joinField(path, f.Name)
			if tag := f.Struct.Tag.Get(domainTag); tag != "" && fv.IsValid() && !fv.IsZero() {
				if msg := checkDomain(tag, fv); msg != "" {
					l.fail(body.find(at).lineOf(), st.Label(), joinField(st.Kind, at), "%s", msg)
					continue
				}
			}
			if text, ok := fv.Interface().(string); ok && text != "" && !strings.Contains(text, "${{") {
				if msg := wellKnownValue(f.Name, text); msg != "" {
					l.fail(body.find(at).lineOf(), st.Label(), joinField(st.Kind, at), "%s", msg)
				}
				continue
			}
			l.wellKnownFields(fv, at, body, st)
		}
	case reflect.Slice:
		for i := range v.Len() {
			l.wellKnownFields(v.Index(i), joinField(path, strconv.Itoa(i)), body, st)
		}
	}
}

// wellKnownValue checks a namespace or selector field's text.
func wellKnownValue(field, text string) string {
	switch field {
	case "namespace":
		return checkName(text)
	case "selector":
		if _, err := labels.Parse(text); err != nil {
			return fmt.Sprintf("%q is not a label selector: %v", text, err)
		}
	}
	return ""
}

// plainJSON is v as encoding/json sees it, in plain values.
func plainJSON(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

// explicitDefaults refuses a value written in the file that Default then
// replaced: set and unset are different, and an explicit value that is not
// allowed (mean: 0) never falls back to the default silently.
func (l *loader) explicitDefaults(t *tree, path string, before, after any, st *Step) {
	switch {
	case t.fields != nil:
		for k, c := range t.fields {
			l.explicitDefaults(c, joinField(path, k), before, after, st)
		}
	case t.items != nil:
		for i, c := range t.items {
			l.explicitDefaults(c, joinField(path, strconv.Itoa(i)), before, after, st)
		}
	default:
		was, now := valueAt(before, path), valueAt(after, path)
		if !reflect.DeepEqual(was, now) {
			l.fail(t.lineOf(), st.Label(), joinField(st.Kind, path), "%s is not a value this field takes (left out, it defaults to %s); write the value you mean, or leave the field out",
				expression.FormatValue(t.value), expression.FormatValue(now))
		}
	}
}

// valueAt reads a dotted path of keys and indices from plain values.
func valueAt(v any, path string) any {
	if path == "" {
		return v
	}
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// fieldErrors records err, locating each FieldError at its field's line.
func (l *loader) fieldErrors(err error, body *tree, st *Step) {
	if err == nil {
		return
	}
	var fes FieldErrors
	var fe *FieldError
	switch {
	case errors.As(err, &fes):
	case errors.As(err, &fe):
		fes = FieldErrors{fe}
	default:
		fes = FieldErrors{{Msg: err.Error()}}
	}
	for _, fe := range fes {
		field := st.Kind
		if fe.Field != "" {
			field += "." + fe.Field
		}
		node := body.find(fe.Field)
		line := node.lineOf()
		if fe.Line > 0 && node.fields == nil && node.items == nil {
			// A line within the field's text: a block starts after its
			// indicator, any other scalar on its own line.
			line = node.line + fe.Line - 1
			if node.block {
				line++
			}
		}
		l.fail(line, st.Label(), field, "%s", fe.Msg)
	}
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "." + b
}

// decode decodes the tree into v strictly (unknown fields are errors) and
// records any problem at the line it comes from. It reports success.
func (l *loader) decode(t *tree, v any, step, prefix string) bool {
	raw, err := json.Marshal(t.value)
	if err != nil {
		l.fail(t.lineOf(), step, prefix, "%s", err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		at := t.find(field)
		if k := mapEntryOfKind(at, typeErr.Value); k != "" {
			// A map's value of the wrong kind: its own key, not the map's.
			field, at = joinField(field, k), at.fields[k]
		}
		l.fail(at.lineOf(), step, joinField(prefix, field), "must be %s, not %s%s", describeType(typeErr.Type), describeJSON(typeErr.Value), yaml11Bool(typeErr.Type, at))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = strings.Trim(quoted, `"`)
		}
		path, line := t.findKeyPath(name)
		field := joinField(prefix, strings.Join(append(slices.Clone(path), name), "."))
		kind := ""
		if step != "" {
			kind = prefix
		}
		msg := unknownField(reflect.TypeOf(v), path, name, kind)
		if prefix == "spec" && len(path) == 0 && (slices.Contains(commonStepFields, name) || l.reg.Has(name)) {
			msg = fmt.Sprintf("unknown field; %s belongs to a step: put it in a step under spec.steps", name)
		}
		l.fail(line, step, field, "%s", msg)
	default:
		// A field's own decoder (a duration, an expression) failed: find the
		// value it quotes to name the field and its line.
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if path, node := locateDecodeError(t, reflect.TypeOf(v)); node != nil {
			l.fail(node.lineOf(), step, joinField(prefix, path), "%s", msg)
		} else if path, node := t.findValue(msg); node != nil {
			l.fail(node.lineOf(), step, joinField(prefix, path), "%s", msg)
		} else {
			l.fail(t.lineOf(), step, prefix, "%s", msg)
		}
	}
	return false
}

// locateDecodeError finds the field whose value, decoded on its own, fails
// as the whole did: a field's own decoder (a duration, an expression) does
// not say where it was.
func locateDecodeError(t *tree, typ reflect.Type) (string, *tree) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	fails := func(n *tree, ft reflect.Type) bool {
		raw, err := json.Marshal(n.value)
		return err != nil || json.Unmarshal(raw, reflect.New(ft).Interface()) != nil
	}
	switch {
	case typ.Kind() == reflect.Struct && t.fields != nil:
		for _, k := range sortedKeys(t.fields) {
			f, ok := jsonfields.Find(typ, k)
			if !ok || !fails(t.fields[k], f.Type) {
				continue
			}
			if p, n := locateDecodeError(t.fields[k], f.Type); n != nil {
				return joinField(k, p), n
			}
			return k, t.fields[k]
		}
	case typ.Kind() == reflect.Slice && t.items != nil:
		for i, c := range t.items {
			if !fails(c, typ.Elem()) {
				continue
			}
			if p, n := locateDecodeError(c, typ.Elem()); n != nil {
				return joinField(strconv.Itoa(i), p), n
			}
			return strconv.Itoa(i), c
		}
	}
	return "", nil
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	}
	return t.String()
}

func describeJSON(v string) string {
	switch v {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return v
}

// mapEntryOfKind is the first key (in order) of a mapping whose value is of
// the JSON kind a type error names (array, object, number, bool, string),
// or "" when t is not a mapping holding one.
func mapEntryOfKind(t *tree, kind string) string {
	if t == nil || t.fields == nil || kind == "object" {
		return ""
	}
	for _, k := range sortedKeys(t.fields) {
		c := t.fields[k]
		var got string
		switch v := c.value.(type) {
		case []any:
			got = "array"
		case map[string]any:
			got = "object"
		case bool:
			got = "bool"
		case string:
			got = "string"
		case nil:
			got = "null"
		default:
			_ = v
			got = "number"
		}
		if got == kind {
			return k
		}
	}
	return ""
}
