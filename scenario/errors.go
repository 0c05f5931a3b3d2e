package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kdrill/kdrill/kube"
)

// FieldError says what is wrong with one field of a step's spec. Field is a
// dotted path relative to the action, such as "resource.name".
type FieldError struct {
	Field string
	Msg   string
	// Line, when set, is the line within the field's text (a manifest
	// written as a block) that the problem is at.
	Line int
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// FieldErrors collects the problems Validate found in one spec.
type FieldErrors []*FieldError

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// Add records a problem with a field.
func (e *FieldErrors) Add(field, format string, args ...any) {
	*e = append(*e, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was added, so Validate can end with it.
func (e FieldErrors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// LoadError is a problem found while loading a scenario, located in its file:
// scenario.yaml:14: steps[3] "kill web": killPoisson.rate: must be > 0.
type LoadError struct {
	File string
	Line int
	// Via are the include steps that led to File, outermost first:
	// quota-lab.yaml:12 → checks/quota.yaml:7.
	Via   []Position
	Step  string // steps[3] "kill web", or empty for the envelope
	Field string
	Msg   string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	for _, v := range e.Via {
		b.WriteString(v.String() + " → ")
	}
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Step != "" {
		b.WriteString(e.Step + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Position is a line of a file.
type Position struct {
	File string
	Line int
}

// String writes it as FILE:LINE.
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// LoadErrors is every problem found in one or more scenario files.
type LoadErrors []*LoadError

func (e LoadErrors) Error() string {
	msgs := make([]string, len(e))
	for i, le := range e {
		msgs[i] = le.Error()
	}
	return strings.Join(msgs, "\n")
}

// IsInvalidInput reports whether err means the input (a scenario, a file,
// a kubeconfig) was wrong, as opposed to the cluster or the run.
func IsInvalidInput(err error) bool {
	var le LoadErrors
	var one *LoadError
	var kc *kube.KubeconfigError
	return errors.As(err, &le) || errors.As(err, &one) || errors.As(err, &kc)
}
