package expression

import (
	"fmt"
	"sync/atomic"
)

// Budget counts the expressions and templates one load compiles, so that
// a file cannot make a load take minutes or gigabytes however its
// thousands of expressions are spread over steps, includes, manifests and
// a matrix's instances. A nil Budget counts nothing.
type Budget struct {
	Limit int64
	used  atomic.Int64
}

// Used is how many were compiled.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// spend counts one compilation, and refuses it past the limit.
func (b *Budget) spend() error { return b.spendN(1) }

// spendN counts n compilations at once, before any is made: a value past
// the limit is refused without compiling the part that would fit.
func (b *Budget) spendN(n int64) error {
	if b == nil || b.Limit <= 0 {
		return nil
	}
	if used := b.used.Add(n); used > b.Limit {
		return fmt.Errorf("more than %d expressions and templates in one load (with the files it reads): a scenario this large is a mistake; split it, or move repeated objects into fewer manifests without templates", b.Limit)
	}
	return nil
}

// spend counts one compilation against the scope's budget, if it has one.
func (sc *Scope) spend() error {
	if sc == nil {
		return nil
	}
	return sc.Budget.spend()
}

// Fits says, without counting them, whether n more compilations would stay
// within the limit.
func (b *Budget) Fits(n int64) error {
	if b == nil || b.Limit <= 0 || b.used.Load()+n <= b.Limit {
		return nil
	}
	return fmt.Errorf("more than %d expressions and templates in one load (with the files it reads): a scenario this large is a mistake; split it, or move repeated objects into fewer manifests without templates", b.Limit)
}
