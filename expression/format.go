package expression

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
		if name := objectName(x); name != "" {
			return "<" + name + ">"
		}
		keys := slices.Sorted(maps.Keys(x))
		return fmt.Sprintf("<object with %d fields: %s>", len(x), firstFew(keys, len(keys)))
	case []any:
		b, _ := json.Marshal(x)
		if len(b) <= 300 {
			return x
		}
		items := make([]string, 0, min(len(x), shownItems))
		for _, item := range x[:min(len(x), shownItems)] {
			items = append(items, itemText(item))
		}
		return fmt.Sprintf("<list of %d: %s>", len(x), firstFew(items, len(x)))
	}
	// Whatever is shown must be writable into results.json.
	if _, err := json.Marshal(v); err != nil {
		return message.Clip(fmt.Sprint(v), 200)
	}
	return v
}

// shownItems is how many items of a long list a message shows.
const shownItems = 5

// firstFew joins items, saying how many more there were.
func firstFew(items []string, total int) string {
	if len(items) > shownItems {
		items = items[:shownItems]
	}
	out := strings.Join(items, ", ")
	if total > len(items) {
		out += fmt.Sprintf(", … %d more", total-len(items))
	}
	return out
}

// itemText is one item of a long list: an object by its kind and name, a
// scalar as JSON, anything else summarised.
func itemText(v any) string {
	if m, ok := v.(map[string]any); ok {
		if name := objectName(m); name != "" {
			return name
		}
	}
	return message.Clip(FormatValue(Trim(v)), 60)
}

// objectName is a Kubernetes object's Kind/name (or its name alone), ""
// for a map that is not one.
func objectName(m map[string]any) string {
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if name == "" {
		return ""
	}
	if kind, _ := m["kind"].(string); kind != "" {
		return kind + "/" + name
	}
	return name
}

// FormatValues shows the values an expression saw, sorted by field path:
// "object.status.replicas = 3, vars.replicas = 5".
func FormatValues(values map[string]any) string {
	keys := slices.Sorted(maps.Keys(values))
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
