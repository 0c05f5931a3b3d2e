package scenario

import (
	"maps"
	"slices"
)

// Effect says what a step kind does to the cluster. The zero value is
// Disrupts, so a kind that declares nothing is held to the strictest rules.
type Effect int

// The effects a step kind can declare, from the most to the least harmful.
const (
	// Disrupts: deletes, evicts or otherwise takes away what runs (kill,
	// delete). Such steps pass the safety policy: no system namespace
	// without allowUnsafe, and only allowed kubeconfig contexts.
	Disrupts Effect = iota
	// Writes: creates or changes objects (apply, scale, patch).
	Writes
	// Reads: never changes the cluster (assert, monitor, wait).
	Reads
)

func (e Effect) String() string {
	switch e {
	case Writes:
		return "writes"
	case Reads:
		return "reads"
	}
	return "disrupts"
}

// KindInfo describes one step kind: everything the engine, the docs and the
// schema need to know of it besides its spec struct.
type KindInfo struct {
	// New returns an empty spec of the kind, to decode a step into.
	New func() Action
	// Effect is what the kind does to the cluster; left unset, it disrupts.
	Effect Effect
	// Continuous kinds run until stopped (a monitor): in the background
	// they end with a stop step or the end of the steps, and a step timeout
	// does not bound them.
	Continuous bool
	// Control kinds only order other steps (wait, stop, sleep); a lab does
	// not score them.
	Control bool
	// Local kinds run programs on this machine (exec): a lab takes them
	// only as setup, never as checks, whatever they say of themselves.
	Local bool
}

// Registry maps a step kind's YAML key to its description.
type Registry map[string]KindInfo

// Kinds lists the registered step kinds in order.
func (r Registry) Kinds() []string {
	return slices.Sorted(maps.Keys(r))
}

// Has reports whether kind is registered.
func (r Registry) Has(kind string) bool {
	_, ok := r[kind]
	return ok && r[kind].New != nil
}

// Bounded is implemented by continuous kinds that may also end on their
// own (a load with a duration): such a step may run in the foreground.
type Bounded interface {
	EndsOnItsOwn() bool
}

func endsOnItsOwn(a Action) bool {
	b, ok := a.(Bounded)
	return ok && b.EndsOnItsOwn()
}

// OutputAbsence is implemented by kinds whose spec can leave fields of
// their output null: AbsentOutputs names each, with why and the fix, so an
// expression reading one is a load error.
type OutputAbsence interface {
	AbsentOutputs() map[string]string
}
