package steps

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// KindDoc describes a step kind for people: what it does, its fields and an
// example. It is built from the spec structs and their doc comments, so it
// cannot drift from the code.
type KindDoc struct {
	Kind    string
	Summary string
	// Effect is what the kind does to the cluster: reads, writes, disrupts.
	Effect  string
	Example string
	Fields  []FieldDoc
	// Outputs are what expressions of later steps see as steps.NAME.
	Outputs []FieldDoc
}

// FieldDoc describes one field of a step kind, or of its output.
type FieldDoc struct {
	Name    string // dotted path: resource.kind; rounds[].killed in a list
	Type    string
	Doc     string
	Default string // as Default fills it in; empty when it does not
	Enum    []string
}

// Describe returns the documentation of a registered step kind.
func Describe(kind string) KindDoc {
	info, ok := Registry[kind]
	if !ok {
		return KindDoc{Kind: kind}
	}
	ctor := info.New
	t := reflect.TypeOf(ctor()).Elem()
	summary, example, _ := strings.Cut(docComments[t.Name()], "Example:")
	kd := KindDoc{Kind: kind, Summary: strings.TrimSpace(summary), Example: dedent(example), Effect: info.Effect.String()}
	defaults := reflect.ValueOf(ctor()).Elem()
	defaults.Addr().Interface().(step.Action).Default()
	kd.Fields = fieldDocs(t, "", defaults)
	if ot := model.OutputType(kind); ot != nil {
		kd.Outputs = fieldDocs(ot, "", reflect.Value{})
	}
	return kd
}

var (
	durationType    = reflect.TypeFor[model.Duration]()
	exprType        = reflect.TypeFor[expression.Expr]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// fieldDocs documents t's fields; defaults, when valid, is a value of t
// that Default filled in.
func fieldDocs(t reflect.Type, prefix string, defaults reflect.Value) []FieldDoc {
	var out []FieldDoc
	for _, jf := range jsonfields.Of(t) {
		f := jf.Struct
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		var dv reflect.Value
		if defaults.IsValid() {
			dv, _ = defaults.FieldByIndexErr(jf.Index)
		}
		name := jf.Name
		path := prefix + name
		fd := FieldDoc{Name: path, Type: typeName(ft), Doc: TypeDoc(jf.Owner, f.Name)}
		if v, ok := scenario.DefaultValue(dv); ok {
			fd.Default = fmt.Sprint(v)
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			fd.Enum = strings.Split(enum, ",")
		}
		out = append(out, fd)
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType && ft != exprType && ft != intOrStringType && ft.PkgPath() == jf.Owner.PkgPath():
			out = append(out, fieldDocs(ft, path+".", reflect.Value{})...)
		case (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map) && ft.Elem().Kind() == reflect.Struct && ft.Elem().PkgPath() == jf.Owner.PkgPath():
			sep := "[]."
			if ft.Kind() == reflect.Map {
				sep = "[NAME]."
			}
			out = append(out, fieldDocs(ft.Elem(), path+sep, reflect.Value{})...)
		}
	}
	return out
}

func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case exprType:
		return "expression"
	case intOrStringType:
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

// TypeNote is the field's type with its default and allowed values:
// "string, default GET" or "string, one of merge|strategic|json".
func (f FieldDoc) TypeNote() string {
	note := f.Type
	if f.Default != "" {
		note += ", default " + f.Default
	}
	if len(f.Enum) > 0 {
		note += ", one of " + strings.Join(f.Enum, "|")
	}
	return note
}

// Text renders the documentation for a terminal.
func (d KindDoc) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", d.Kind, d.Effect)
	for _, line := range strings.Split(wrap(d.Summary, 76), "\n") {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	if len(d.Fields) > 0 {
		b.WriteString("\n  Fields:\n")
		for _, f := range d.Fields {
			fmt.Fprintf(&b, "    %s (%s)\n", f.Name, f.TypeNote())
			for _, line := range strings.Split(wrap(f.Doc, 70), "\n") {
				if line != "" {
					fmt.Fprintf(&b, "        %s\n", line)
				}
			}
		}
	}
	if len(d.Outputs) > 0 {
		b.WriteString("\n  Output (steps.NAME in later expressions):\n")
		for _, f := range d.Outputs {
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

// TypeDoc returns the doc comment of a type of this package, runner or
// model, or of one of its fields when field is not empty.
func TypeDoc(t reflect.Type, field string) string {
	if !strings.HasSuffix(t.PkgPath(), "/steps") {
		return scenario.TypeDoc(t, field)
	}
	key := t.Name()
	if field != "" {
		key += "." + field
	}
	return docComments[key]
}
