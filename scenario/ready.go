package scenario

import (
	"reflect"

	"github.com/kdrill/kdrill/expression"
)

// Loading is what a step's Prepare works with: its scenario (the directory
// its files are read from) and the scope its templates compile in: the
// scenario's vars, the steps before it and the names its kind adds.
type Loading struct {
	*Scenario
	Scope *expression.Scope
}

// CompileValue compiles every template in v in the step's scope, so a
// template's field paths are checked as expressions' are.
func (l *Loading) CompileValue(v any) (*expression.ValueTemplate, error) {
	return l.Scope.CompileValue(v)
}

// stage is a stage of making a decoded action ready to run.
type stage int

const (
	validated stage = iota
	compiled
	prepared
)

// ready makes a decoded action ready to run, the one way for both callers:
// the loader, and a step whose fields are templates, built again at run
// with their values (Step.Instantiate). Defaults, the action's own
// validation, each expression compiled in the step's scope (field names
// where), then Prepare. problem gets what each stage found and says
// whether to go on: the loader goes on to report everything, a run stops
// at the first.
func ready(a Action, in *Loading, problem func(at stage, field string, err error) bool) {
	a.Default()
	if err := a.Validate(); err != nil && !problem(validated, "", err) {
		return
	}
	goOn := true
	walkExprs(reflect.ValueOf(a), "", func(path string, e *expression.Expr) {
		if err := e.CompileIn(in.Scope); err != nil && goOn {
			goOn = problem(compiled, path, err)
		}
	})
	if !goOn {
		return
	}
	if p, ok := a.(Preparer); ok {
		if err := p.Prepare(in); err != nil {
			problem(prepared, "", err)
		}
	}
}
