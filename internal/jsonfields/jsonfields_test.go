package jsonfields

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type inner struct {
	Shared string `json:"shared"`
}

type Named struct {
	Deep int `json:"deep"`
}

type outer struct {
	inner
	*Named `json:"named,omitempty"`
	Plain  string `json:"plain,omitempty"`
	Bare   int
	Skip   string `json:"-"`
	hidden string //nolint:unused // a field encoding/json does not see
}

func TestOf(t *testing.T) {
	var got []string
	for _, f := range Of(reflect.TypeFor[*outer]()) {
		got = append(got, f.Name)
		if f.Name == "plain" && !f.OmitEmpty {
			t.Error("plain is omitempty")
		}
		if f.Name == "shared" && (f.Owner != reflect.TypeFor[inner]() || !reflect.DeepEqual(f.Index, []int{0, 0})) {
			t.Errorf("shared: owner %v index %v, want inner [0 0]", f.Owner, f.Index)
		}
	}
	want := []string{"shared", "named", "plain", "Bare"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if _, ok := Find(reflect.TypeFor[outer](), "hidden"); ok {
		t.Error("an unexported field is not a JSON field")
	}
	if Of(reflect.TypeFor[int]()) != nil {
		t.Error("an int has no fields")
	}
}
