package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Tolerance is how much worse a metric may get than in the baseline.
type Tolerance struct {
	// Relative is the share of the baseline value allowed: 0.1 is 10 %.
	Relative *float64 `json:"relative,omitempty" minimum:"0"`
	// Slack is added for durations, for timing noise.
	Slack *Duration `json:"slack,omitempty"`
	// Ignore leaves the metric out of the comparison.
	Ignore bool `json:"ignore,omitempty"`
}

// DurationPattern is what a duration may look like: what time.ParseDuration
// accepts, without a sign. The loader and the JSON Schema both use it.
const DurationPattern = `^(0|([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+$`

var durationRE = regexp.MustCompile(DurationPattern)

// Duration is a time.Duration written as a Go duration string ("30s", "2m").
type Duration struct{ time.Duration }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration such as \"30s\" or \"2m\"")
	}
	v, err := time.ParseDuration(s)
	switch {
	case err == nil && strings.HasPrefix(s, "-"):
		return fmt.Errorf("duration %q must not be negative", s)
	case err != nil || !durationRE.MatchString(s):
		return fmt.Errorf("invalid duration %q: use a number with a unit such as 500ms, 30s, 2m", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// IsZero reports whether the duration was left unset.
func (d Duration) IsZero() bool { return d.Duration == 0 }
