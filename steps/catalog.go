package steps

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kdrill/kdrill/runner"
)

// KindDoc describes a step kind for people: what it does, its fields and an
// example. It is built from the spec structs and their doc comments, so it
// cannot drift from the code.
type KindDoc struct {
	Kind    string
	Summary string
	Example string
	Fields  []FieldDoc
}

// FieldDoc describes one field of a step kind.
type FieldDoc struct {
	Name string // dotted path: resource.kind
	Type string
	Doc  string
}

// Describe returns the documentation of a registered step kind.
func Describe(kind string) KindDoc {
	ctor := Registry[kind]
	if ctor == nil {
		return KindDoc{Kind: kind}
	}
	t := reflect.TypeOf(ctor()).Elem()
	summary, example, _ := strings.Cut(docComments[t.Name()], "Example:")
	kd := KindDoc{Kind: kind, Summary: strings.TrimSpace(summary), Example: dedent(example)}
	kd.Fields = fieldDocs(t, "")
	return kd
}

var (
	durationType    = reflect.TypeFor[runner.Duration]()
	exprType        = reflect.TypeFor[runner.Expr]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

func fieldDocs(t reflect.Type, prefix string) []FieldDoc {
	var out []FieldDoc
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" {
			out = append(out, fieldDocs(ft, prefix)...)
			continue
		}
		path := prefix + name
		out = append(out, FieldDoc{Name: path, Type: typeName(ft), Doc: docComments[t.Name()+"."+f.Name]})
		if ft.Kind() == reflect.Struct && ft != durationType && ft != exprType && ft != intOrStringType {
			out = append(out, fieldDocs(ft, path+".")...)
		}
	}
	return out
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t == exprType:
		return "expression"
	case t == intOrStringType:
		return "integer or string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Struct, reflect.Map:
		return "mapping"
	case reflect.Slice:
		return "list"
	case reflect.Interface:
		return "any"
	}
	return t.String()
}

// Text renders the documentation for a terminal.
func (d KindDoc) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", d.Kind)
	for _, line := range strings.Split(wrap(d.Summary, 76), "\n") {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	if len(d.Fields) > 0 {
		b.WriteString("\n  Fields:\n")
		for _, f := range d.Fields {
			fmt.Fprintf(&b, "    %s (%s)\n", f.Name, f.Type)
			for _, line := range strings.Split(wrap(f.Doc, 70), "\n") {
				if line != "" {
					fmt.Fprintf(&b, "        %s\n", line)
				}
			}
		}
	}
	if d.Example != "" {
		b.WriteString("\n  Example:\n")
		for _, line := range strings.Split(d.Example, "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	return b.String()
}

// dedent removes the indentation doc comments give code blocks.
func dedent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 {
			lines[i] = l[indent:]
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func wrap(s string, width int) string {
	var b strings.Builder
	for pi, para := range strings.Split(s, "\n\n") {
		if pi > 0 {
			b.WriteString("\n\n")
		}
		n := 0
		for i, w := range strings.Fields(para) {
			if i > 0 && n+1+len(w) > width {
				b.WriteString("\n")
				n = 0
			} else if i > 0 {
				b.WriteString(" ")
				n++
			}
			b.WriteString(w)
			n += len(w)
		}
	}
	return b.String()
}

// DocComment returns the doc comment of a type ("Apply") or a field
// ("Apply.File") of this package, for the schema and the reference docs.
func DocComment(key string) string { return docComments[key] }
