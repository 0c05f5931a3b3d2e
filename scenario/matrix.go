package scenario

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
)

// MaxInstances bounds the combinations a matrix may have.
const MaxInstances = 256

// matrix checks spec.matrix: each key a declared var, each list of values
// non-empty and typed as the var is declared, and not too many
// combinations.
func (l *loader) matrix(spec *tree, s *Scenario) {
	m := spec.child("matrix")
	if m == nil {
		return
	}
	s.matrixLine = m.lineOf()
	if m.fields == nil {
		l.fail(m.lineOf(), "", "spec.matrix", "must be a mapping of var names to lists of values: {replicas: [3, 300]}")
		return
	}
	n := 1
	for _, k := range sortedKeys(m.fields) {
		f := m.fields[k]
		declared, ok := s.Spec.Vars[k]
		if !ok {
			l.fail(f.keyLine, "", "spec.matrix."+k, "no var named %q in spec.vars%s%s; a matrix varies declared vars", k,
				message.Suggest(k, slices.Sorted(maps.Keys(s.Spec.Vars))), message.Declared("vars", slices.Sorted(maps.Keys(s.Spec.Vars))))
			continue
		}
		if len(f.items) == 0 {
			l.fail(f.lineOf(), "", "spec.matrix."+k, "must be a list of at least one value")
			continue
		}
		seen := map[string]int{}
		for i, item := range f.items {
			if _, err := withValue(declared, item.value); err != nil {
				l.fail(item.lineOf(), "", fmt.Sprintf("spec.matrix.%s.%d", k, i), "%s", err)
			}
			text := fmt.Sprint(item.value)
			if first, dup := seen[text]; dup {
				l.fail(item.lineOf(), "", fmt.Sprintf("spec.matrix.%s.%d", k, i), "%s is listed twice (also at line %d): two instances would have the same name", text, first)
			}
			seen[text] = item.lineOf()
		}
		if _, pinned := l.opts.Set[k]; !pinned {
			n *= len(f.items)
		}
	}
	if n > MaxInstances {
		l.fail(m.lineOf(), "", "spec.matrix", "%d combinations; a matrix may have at most %d (pin a dimension with --set)", n, MaxInstances)
	}
}

// Instances returns the scenario once per combination of its matrix's
// values, each built again from the documents its load parsed, with that
// combination's vars (typed, as --set would type them) and named
// name[var=value,...]; a dimension --set pins is not varied. A scenario
// without a matrix comes back alone.
func Instances(s *Scenario, reg Registry, opts LoadOptions) ([]*Scenario, error) {
	if len(s.Spec.Matrix) == 0 {
		return []*Scenario{s}, nil
	}
	keys := slices.Sorted(maps.Keys(s.Spec.Matrix))
	combos := []map[string]any{{}}
	for _, k := range keys {
		if _, pinned := opts.Set[k]; pinned {
			continue
		}
		var next []map[string]any
		for _, c := range combos {
			for _, v := range s.Spec.Matrix[k] {
				nc := maps.Clone(c)
				nc[k] = v
				next = append(next, nc)
			}
		}
		combos = next
	}
	// Every instance compiles what one did: refused before any is loaded
	// when all of them would be past the budget.
	if n := int64(len(combos)) * s.compiled; n > MaxCompiled {
		return nil, LoadErrors{{File: s.File, Line: s.matrixLine, Field: "spec.matrix", Msg: fmt.Sprintf(
			"%d instances × %d expressions and templates each (in the file and the files it reads) is %d, more than the %d kdrill compiles in one load: vary fewer values, or pin a dimension with --set",
			len(combos), s.compiled, n, MaxCompiled)}}
	}
	budget := opts.Budget
	if budget == nil {
		budget = &expression.Budget{Limit: MaxCompiled}
	}
	var out []*Scenario
	var errs LoadErrors
	for _, c := range combos {
		o := opts
		o.Budget, o.values, o.parsed = budget, c, s.parsed
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(c)) {
			text, err := varText(c[k])
			if err != nil {
				return nil, err
			}
			parts = append(parts, k+"="+text)
		}
		inst, err := parse(s.File, nil, reg, o)
		if err != nil {
			var le LoadErrors
			if errors.As(err, &le) {
				for _, e := range le {
					e.Msg = fmt.Sprintf("[%s] %s", strings.Join(parts, ","), e.Msg)
				}
				errs = append(errs, le...)
				continue
			}
			return nil, err
		}
		inst.Instance = strings.Join(parts, ",")
		inst.InstanceVars = c
		out = append(out, inst)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// varText writes a value as --set reads it, for an instance's name and a
// var declared as a string: a string as it is, anything else as flow YAML.
func varText(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	data, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// DisplayName is the scenario's name in results: metadata.name, and for a
// matrix's instance its vars: scale[replicas=3].
func (s *Scenario) DisplayName() string {
	name := s.Metadata.Name
	if s.Instance != "" {
		name += "[" + s.Instance + "]"
	}
	if s.TargetName != "" {
		name += "@" + s.TargetName
	}
	return name
}
