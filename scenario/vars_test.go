package scenario_test

import (
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
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
