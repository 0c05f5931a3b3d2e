package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ExpectFailure is a step's expected failure: expectFailure: true, or
// expectFailure: {message: TEXT}.
type ExpectFailure struct {
	// Message must be part of the step's error, when given.
	Message string `json:"message,omitempty"`
}

// UnmarshalJSON takes true (any failure), false (none expected: the field
// is as good as absent, and refused to say so) or {message}.
func (e *ExpectFailure) UnmarshalJSON(data []byte) error {
	switch strings.TrimSpace(string(data)) {
	case "true":
		*e = ExpectFailure{}
		return nil
	case "false":
		return errors.New("false expects nothing: leave expectFailure out, or give true or {message: TEXT}")
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("want true or {message: TEXT}, not %s", describeJSONText(t))
	}
	type plain ExpectFailure
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		// Not wrapped: the loader names this field, not one inside it.
		return fmt.Errorf("want true or {message: TEXT}: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	*e = ExpectFailure(p)
	return nil
}
