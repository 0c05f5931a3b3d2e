package steps

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryOutputTypeIsDocumented keeps outputTypes complete: every
// exported type named ...Output is the output of some kind.
func TestEveryOutputTypeIsDocumented(t *testing.T) {
	listed := OutputTypeNames()
	for key := range docComments {
		if !strings.Contains(key, ".") && strings.HasSuffix(key, "Output") && !slices.Contains(listed, key) {
			t.Errorf("%s is not in outputTypes, so the reference docs leave it out", key)
		}
	}
	for kind := range outputTypes {
		if Registry[kind] == nil {
			t.Errorf("outputTypes names %q, which is not a step kind", kind)
		}
	}
}
