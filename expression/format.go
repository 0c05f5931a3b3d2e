package expression

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kdrill/kdrill/internal/message"
)

// Trim shortens a value for a message: long strings are clipped and large
// maps and lists summarised, so one failure cannot flood the console.
func Trim(v any) any {
	switch x := v.(type) {
	case time.Duration:
		// Durations read as durations, not as counts of nanoseconds.
		if x >= time.Millisecond || x <= -time.Millisecond {
			x = x.Round(time.Millisecond)
		}
		return x.String()
	case string:
		return message.Clip(x, 200)
	case map[string]any:
		b, _ := json.Marshal(x)
		if len(b) <= 300 {
			return x
		}
		return fmt.Sprintf("<object with %d fields>", len(x))
	case []any:
		b, _ := json.Marshal(x)
		if len(b) <= 300 {
			return x
		}
		return fmt.Sprintf("<list of %d>", len(x))
	}
	return v
}

// FormatValues shows the values an expression saw, sorted by field path:
// "object.status.replicas = 3, vars.replicas = 5".
func FormatValues(values map[string]any) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " = " + FormatValue(values[k])
	}
	return strings.Join(parts, ", ")
}

// FormatValue writes a value as compact JSON, as messages and reports show
// the values an expression saw; a value JSON cannot hold is printed with fmt.
func FormatValue(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // reports escape for their own format
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(buf.String())
}

// Seen ends a message about an expression that did not hold: the values
// its field paths last had ("; last seen: object.status.replicas = 3") and
// the error evaluating it met, each only when there is one.
func Seen(values map[string]any, evalErr error) string {
	var b strings.Builder
	if len(values) > 0 {
		b.WriteString("; last seen: " + FormatValues(values))
	}
	if evalErr != nil {
		fmt.Fprintf(&b, " (evaluation error: %v)", evalErr)
	}
	return b.String()
}
