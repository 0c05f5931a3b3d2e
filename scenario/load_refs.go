package scenario

import (
	"maps"
	"slices"
	"strings"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// What a step means for the steps around it: the steps it names, whether
// later expressions may read it yet, and where its fields are written.

// checkRefs checks the steps an action names: each must come earlier and
// be what the reference needs.
func (l *loader) checkRefs(st *Step, seen map[string]*Step) {
	ref, ok := st.Action.(StepReferrer)
	if !ok {
		return
	}
	for _, r := range ref.StepRefs() {
		field := joinField(st.Kind, r.Field)
		line := st.fieldLine(field, r.Name)
		target, ok := seen[st.Prefix+r.Name]
		switch {
		case !ok && l.index.Label(st.Prefix+r.Name) != "":
			l.fail(line, st.Label(), field, "%s comes later; a step can name only earlier steps", l.index.Label(st.Prefix+r.Name))
		case !ok && includedAs(seen, st.Prefix, r.Name) != "":
			full := includedAs(seen, st.Prefix, r.Name)
			l.fail(line, st.Label(), field, "no earlier step is named %q; the included step is named %q (an include's steps are named INCLUDE/STEP): write %q", r.Name, full, full)
		case !ok:
			l.fail(line, st.Label(), field, "no earlier step is named %q%s", r.Name, message.Suggest(r.Name, l.index.Within(st.Prefix, slices.Collect(maps.Keys(seen)))))
		case r.Kind != "" && target.Kind != r.Kind:
			l.fail(line, st.Label(), field, "%s is a %s step, not a %s", target.Label(), target.Kind, r.Kind)
		case r.Background && !target.Background:
			l.fail(line, st.Label(), field, "%s does not run in the background (add background: true to it)", target.Label())
		}
	}
}

// includedAs returns the full name of an earlier step an include brought
// in whose own name is name (a reference written without the include's
// prefix), or "".
func includedAs(seen map[string]*Step, prefix, name string) string {
	for _, full := range slices.Sorted(maps.Keys(seen)) {
		if rest, ok := strings.CutPrefix(full, prefix); ok && strings.HasSuffix(rest, "/"+name) {
			return rest
		}
	}
	return ""
}

// stepState tells the expression index what the step means for later
// expressions: a background step is not whole until a wait or stop names
// it, and a spec may leave output fields null.
func (l *loader) stepState(st *Step) {
	if st.Background {
		l.index.Background(st.Name, strings.TrimPrefix(st.Name, st.Prefix))
	}
	if ref, ok := st.Action.(StepReferrer); ok {
		for _, r := range ref.StepRefs() {
			if r.Background {
				l.index.Ended(st.Prefix + r.Name)
			}
		}
	}
	if a, ok := st.Action.(OutputAbsence); ok {
		l.index.Absent(st.Name, a.AbsentOutputs())
	}
}

// fieldLine is the line of the step's field at path: of the list item
// whose value is value, when the field is a list; the step's own line when
// the field is not written (a default).
func (st *Step) fieldLine(path, value string) int {
	if st.node == nil {
		return st.Line
	}
	n := st.node.find(path)
	for _, item := range n.items {
		if v, ok := item.value.(string); ok && v == value {
			return item.lineOf()
		}
	}
	if n == st.node {
		return st.Line
	}
	return n.lineOf()
}

// checkAcrossSteps checks what one step alone cannot show: unique names,
// references to other steps, a lab's rules, and where background goes.
func (l *loader) checkAcrossSteps(s *Scenario) {
	seen := map[string]*Step{}
	defer func() { l.cur = nil }()
	for _, st := range slices.Concat(s.Spec.Steps, s.Spec.Finally) {
		// An included step's problems are in its file, reached through its
		// includes.
		l.cur = nil
		if st.File != "" {
			l.cur = &stepItem{file: st.File, via: st.Via}
		}
		if prev, dup := seen[st.Name]; dup {
			l.fail(st.Line, st.Label(), "name", "duplicate step name (also %s at line %d); names must be unique so steps.NAME is clear", prev.Label(), prev.Line)
		}
		l.checkRefs(st, seen)
		l.checkLab(s, st)
		if _, ok := s.Spec.Clusters[st.Cluster]; st.Cluster != "" && !ok {
			names := slices.Sorted(maps.Keys(s.Spec.Clusters))
			l.fail(st.Line, st.Label(), "cluster", "no cluster named %q in spec.clusters%s%s", st.Cluster, message.Suggest(st.Cluster, names), message.Declared("clusters", names))
		}
		if st.Info.Continuous && !st.Background && st.Action != nil && !endsOnItsOwn(st.Action) {
			l.fail(st.Line, st.Label(), "background", "a %s runs until it is stopped, so it needs background: true (a stop step, or the end of the steps, ends it)", st.Kind)
		}
		if st.Background && st.Phase == model.PhaseFinally {
			l.fail(st.Line, st.Label(), "background", "finally steps run one after another; background is for steps")
		}
		seen[st.Name] = st
	}
}
