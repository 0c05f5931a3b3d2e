package scenario_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
)

func TestDurationJSON(t *testing.T) {
	var d model.Duration
	if err := d.UnmarshalJSON([]byte(`"1m30s"`)); err != nil || d.Duration != 90*time.Second {
		t.Errorf("got %v, %v", d, err)
	}
	for _, bad := range []string{`"soon"`, `30`, `"-5s"`} {
		if err := d.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestSetVarsAreTypedByTheScenario(t *testing.T) {
	got := scenario.MergeVars(
		map[string]any{"version": "1.0", "replicas": int64(2), "debug": false},
		map[string]string{"version": "2.0", "replicas": "5", "debug": "true", "extra": "x: y"},
	)
	want := map[string]any{"version": "2.0", "replicas": int64(5), "debug": true, "extra": "x: y"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
