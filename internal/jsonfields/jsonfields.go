// Package jsonfields is kdrill's one json-tag walker: the fields of a
// struct as encoding/json sees them, for the loader, expressions, the
// schema and the reference docs.
package jsonfields

import (
	"reflect"
	"strings"
)

// Field is one field of a struct as encoding/json sees it: the fields
// of an embedded struct without a name of its own are the outer struct's.
type Field struct {
	// Name is the field's JSON name.
	Name      string
	OmitEmpty bool
	// Index is the path to the field for reflect.Value.FieldByIndex.
	Index []int
	// Type is the field's type; Struct is the field itself.
	Type   reflect.Type
	Struct reflect.StructField
	// Owner is the struct type that declares the field (an embedded one's
	// for a promoted field), which names its doc comment.
	Owner reflect.Type
}

// Of lists the JSON fields of a struct type (or pointer to one), in
// declaration order, embedded structs' fields in place. It is the one
// json-tag walker: the loader, Plain, the schema and the docs all use it.
func Of(t reflect.Type) []Field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for _, inner := range Of(ft) {
					inner.Index = append([]int{i}, inner.Index...)
					out = append(out, inner)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, Field{
			Name: name, OmitEmpty: strings.Contains(opts, "omitempty"),
			Index: []int{i}, Type: f.Type, Struct: f, Owner: t,
		})
	}
	return out
}

// Names lists the JSON names of a struct type's fields.
func Names(t reflect.Type) []string {
	var names []string
	for _, f := range Of(t) {
		names = append(names, f.Name)
	}
	return names
}

// Find finds a struct type's field by JSON name.
func Find(t reflect.Type, name string) (Field, bool) {
	for _, f := range Of(t) {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}
