package steps

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryOutputTypeIsDocumented keeps the registry's outputs complete: every
// exported type named ...Output is the output of some kind.
func TestEveryOutputTypeIsDocumented(t *testing.T) {
	listed := OutputTypeNames()
	for key := range docComments {
		if !strings.Contains(key, ".") && strings.HasSuffix(key, "Output") && !slices.Contains(listed, key) {
			t.Errorf("%s is no kind's Output in the registry, so the reference docs leave it out", key)
		}
	}
}
