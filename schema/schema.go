// Package schema builds the JSON Schema of kdrill's scenario format from the
// scenario types, the step registry and their doc comments, and embeds the
// generated copy committed beside it (kdrill.schema.json), which editors
// read through a "# yaml-language-server: $schema=" line and kdrill schema
// prints. go generate ./schema rewrites the file; a test fails when it is
// stale.
package schema

//go:generate go run gen.go

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// JSON is the committed schema, as generated.
//
//go:embed kdrill.schema.json
var JSON []byte

// ID is where the schema says it lives.
const ID = "https://kdrill.dev/schema/v1alpha1/scenario.json"

var (
	durationType    = reflect.TypeFor[model.Duration]()
	exprType        = reflect.TypeFor[expression.Expr]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	expectFailType  = reflect.TypeFor[scenario.ExpectFailure]()
)

// node is one schema object; a map keeps the generator simple and the
// output's keys sorted.
type node = map[string]any

// Generate builds the schema for a registry of step kinds.
func Generate(registry scenario.Registry) ([]byte, error) {
	kinds := slices.Sorted(maps.Keys(registry))

	defs := node{}
	step := object(reflect.TypeFor[scenario.Step](), nil, defs)
	props := step["properties"].(node)
	var oneOf []any
	for _, kind := range kinds {
		action := registry[kind].New()
		t := reflect.TypeOf(action).Elem()
		defaults := reflect.ValueOf(registry[kind].New()).Elem()
		defaults.Addr().Interface().(scenario.Action).Default()
		def := object(t, &defaults, defs)
		summary, _, _ := strings.Cut(doc(t, ""), "Example:")
		def["description"] = strings.TrimSpace(summary)
		defs[kind] = def
		props[kind] = node{"$ref": "#/$defs/" + kind}
		oneOf = append(oneOf, node{"required": []string{kind}, "title": kind})
	}
	include := object(reflect.TypeFor[scenario.IncludeSpec](), nil, defs)
	include["description"] = scenario.DocComment("IncludeSpec")
	defs["include"] = include
	props["include"] = node{"$ref": "#/$defs/include"}
	oneOf = append(oneOf, node{"required": []string{"include"}, "title": "include"})
	step["oneOf"] = oneOf
	step["required"] = []string{"name"}
	defs["step"] = step

	spec := object(reflect.TypeFor[scenario.Spec](), nil, defs)
	specProps := spec["properties"].(node)
	specProps["steps"] = node{
		"description": scenario.DocComment("Spec.Steps"),
		"type":        "array", "minItems": 1,
		"items": node{"$ref": "#/$defs/step"},
	}
	specProps["finally"] = node{
		"description": scenario.DocComment("Spec.Finally"),
		"type":        "array",
		"items":       node{"$ref": "#/$defs/step"},
	}
	spec["required"] = []string{"steps"}
	defs["spec"] = spec

	root := object(reflect.TypeFor[scenario.Scenario](), nil, defs)
	rp := root["properties"].(node)
	rp["apiVersion"] = node{"const": model.APIVersion}
	rp["kind"] = node{"enum": []string{scenario.Kind, scenario.StepsKind}}
	rp["spec"] = node{"$ref": "#/$defs/spec"}
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = ID
	root["title"] = "kdrill scenario"
	root["description"] = "A kdrill scenario: steps run against a Kubernetes cluster. Generated from kdrill's Go types; do not edit."
	root["$defs"] = defs
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// object describes a struct: its JSON fields, their doc comments, and, when
// defaults holds a value the step's Default filled in, the defaults.
func object(t reflect.Type, defaults *reflect.Value, defs node) node {
	props := node{}
	var required []string
	fields(t, defaults, defs, props, &required)
	o := node{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		o["required"] = required
	}
	if d := doc(t, ""); d != "" {
		o["description"] = d
	}
	return o
}

func fields(t reflect.Type, defaults *reflect.Value, defs, props node, required *[]string) {
	for _, jf := range jsonfields.Of(t) {
		f, name := jf.Struct, jf.Name
		var dv *reflect.Value
		if defaults != nil {
			if v, err := defaults.FieldByIndexErr(jf.Index); err == nil {
				dv = &v
			}
		}
		s := typeSchema(f.Type, defs)
		if d := doc(jf.Owner, f.Name); d != "" {
			s["description"] = d
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			s["enum"] = strings.Split(enum, ",")
		}
		for _, bound := range []string{"minimum", "exclusiveMinimum", "maximum"} {
			if v := f.Tag.Get(bound); v != "" {
				s[bound] = json.Number(v)
			}
		}
		if pattern := f.Tag.Get("pattern"); pattern != "" {
			s["pattern"] = pattern
		}
		if dv != nil {
			if v, ok := scenario.DefaultValue(*dv); ok {
				s["default"] = v
			}
		}
		if f.Tag.Get("kdrill") != "template" && jf.Owner.PkgPath() == reflect.TypeFor[steps.Apply]().PkgPath() {
			s = allowTemplate(s)
		}
		props[name] = s
		if !jf.OmitEmpty {
			*required = append(*required, name)
		}
	}
}

// templatePattern is a string that is one ${{ expression }}.
const templatePattern = `^\s*\$\{\{.*\}\}\s*$`

// allowTemplate lets a step field whose values are constrained (a number,
// a boolean, an enum, a pattern) hold a ${{ }} template instead, which
// kdrill evaluates when it loads or runs the step.
func allowTemplate(s node) node {
	_, enum := s["enum"]
	_, pattern := s["pattern"]
	switch s["type"] {
	case "integer", "number", "boolean":
	case "string":
		if !enum && !pattern {
			return s
		}
	default:
		return s
	}
	value := node{}
	out := node{}
	for k, v := range s {
		switch k {
		case "description", "default":
			out[k] = v
		default:
			value[k] = v
		}
	}
	out["anyOf"] = []any{value, node{"type": "string", "pattern": templatePattern, "description": "a ${{ expression }} giving the value"}}
	return out
}

// typeSchema describes a field's type; named structs become $defs entries.
func typeSchema(t reflect.Type, defs node) node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType:
		return node{"type": "string", "pattern": model.DurationPattern, "examples": []string{"30s", "2m", "1h30m"}}
	case intOrStringType:
		return node{"type": []string{"integer", "string"}}
	case exprType:
		return node{"type": "string", "minLength": 1, "x-kdrill-type": "expression"}
	case expectFailType:
		return node{"anyOf": []any{
			node{"const": true, "description": "any failure"},
			node{"type": "object", "additionalProperties": false, "required": []string{"message"}, "properties": node{
				"message": node{"type": "string", "minLength": 1, "description": "text the step's error must contain"},
			}},
		}}
	}
	switch t.Kind() {
	case reflect.String:
		return node{"type": "string"}
	case reflect.Bool:
		return node{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return node{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return node{"type": "number"}
	case reflect.Slice:
		return node{"type": "array", "items": typeSchema(t.Elem(), defs)}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return node{"type": "object"}
		}
		return node{"type": "object", "additionalProperties": typeSchema(t.Elem(), defs)}
	case reflect.Struct:
		name := defName(t)
		if _, ok := defs[name]; !ok {
			defs[name] = node{} // guards against recursion
			defs[name] = object(t, nil, defs)
		}
		return node{"$ref": "#/$defs/" + name}
	case reflect.Interface:
		return node{}
	}
	panic(fmt.Sprintf("schema: no JSON Schema for %s", t))
}

// defName names a shared struct's definition: ObjectRef, runner.Lab.
func defName(t reflect.Type) string {
	// The scenario model's and model's types keep the prefix they had when
	// they lived in runner, so $refs editors cached stay valid.
	if strings.HasSuffix(t.PkgPath(), "/scenario") || strings.HasSuffix(t.PkgPath(), "/model") {
		return "runner." + t.Name()
	}
	return t.Name()
}

// doc returns the doc comment of a type (field "") or one of its fields.
func doc(t reflect.Type, field string) string { return steps.TypeDoc(t, field) }
