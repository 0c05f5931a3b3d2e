package steps

import (
	"testing"

	"github.com/kdrill/kdrill/model"
)

// TestEveryOutputIsAKinds keeps model's list of outputs and the registry in
// step: each kind model says records an output is a registered kind.
func TestEveryOutputIsAKinds(t *testing.T) {
	for _, kind := range model.OutputKinds() {
		if !Registry.Has(kind) {
			t.Errorf("model records an output for %q, which is not a registered step kind", kind)
		}
	}
}
