package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/internal/message"
)

// unknownField explains a key that the type at its place does not have:
// a character that is invisible or only looks Latin, a field that belongs
// one level up (a step field inside an action, an action's field in its
// own sub-mapping), or the closest name. root is the decoded type, path
// the key's parents as JSON names, kind the step kind when root is one.
func unknownField(root reflect.Type, path []string, name, kind string) string {
	if odd := oddRunes(name); odd != "" {
		clean := cleanName(name)
		return fmt.Sprintf("unknown field: the name has %s%s", odd, message.Suggest(clean, fieldsAt(root, path)))
	}
	if len(path) == 0 && kind != "" && slices.Contains(commonStepFields, name) {
		return fmt.Sprintf("unknown field; %s is a step field: put it beside %s, not inside it", name, kind)
	}
	for i := len(path) - 1; i >= 0; i-- {
		if slices.Contains(fieldsAt(root, path[:i]), name) {
			where := kind
			if i > 0 {
				where = strings.Join(append([]string{kind}, path[:i]...), ".")
			}
			if where == "" {
				where = "the level above"
			}
			return fmt.Sprintf("unknown field; %s is a field of %s: put it beside %s, not inside it", name, where, path[i])
		}
	}
	fields := fieldsAt(root, path)
	switch under := ownersBelow(root, path, fields, name); len(under) {
	case 0:
	case 1:
		where := slices.DeleteFunc(append(append([]string{kind}, path...), under[0]), func(s string) bool { return s == "" })
		return fmt.Sprintf("unknown field; %s is a field of %s: put it under %s", name, strings.Join(where, "."), under[0])
	default:
		return fmt.Sprintf("unknown field; %s is a field of %s: put it under the one you use", name, strings.Join(under, " and "))
	}
	if k, ok := workloadKinds[strings.ToLower(name)]; ok {
		switch {
		case slices.Contains(fields, "kind") && slices.Contains(fields, "name"):
			return fmt.Sprintf("unknown field; name the object with kind and name: kind: %s, name: NAME", k)
		case slices.Contains(fields, "workload"):
			return fmt.Sprintf("unknown field; name the workload as workload: {kind: %s, name: NAME}", k)
		}
	}
	return "unknown field" + message.Suggest(name, fields)
}

// ownersBelow lists the fields at path whose own fields include name: a
// key written one level too high (http: {service: web, path: /x} for
// service: {name: web, path: /x}).
func ownersBelow(root reflect.Type, path, fields []string, name string) []string {
	var owners []string
	for _, f := range fields {
		if slices.Contains(fieldsAt(root, append(slices.Clone(path), f)), name) {
			owners = append(owners, f)
		}
	}
	return owners
}

// workloadKinds are the kinds a step names most often, by the key a
// newcomer writes for them (deployment: web instead of kind and name).
var workloadKinds = map[string]string{
	"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet", "replicaset": "ReplicaSet",
	"service": "Service", "pod": "Pod", "configmap": "ConfigMap", "secret": "Secret", "job": "Job",
	"cronjob": "CronJob", "node": "Node", "namespace": "Namespace", "ingress": "Ingress",
}

// yaml11Bool hints, for a boolean field given text, at the YAML 1.1
// spellings that YAML 1.2 (which kdrill reads) takes as text.
func yaml11Bool(want reflect.Type, at *tree) string {
	s, ok := at.stringValue()
	if !ok || want.Kind() != reflect.Bool {
		return ""
	}
	switch strings.ToLower(s) {
	case "yes", "y", "on":
		return fmt.Sprintf(" (%q is text in YAML 1.2: write true)", s)
	case "no", "n", "off":
		return fmt.Sprintf(" (%q is text in YAML 1.2: write false)", s)
	}
	return ""
}

// fieldsAt lists the JSON field names of the struct at a path below root.
func fieldsAt(root reflect.Type, path []string) []string {
	t := root
	for _, seg := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		f, ok := jsonfields.Find(t, seg)
		if !ok {
			return nil
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return jsonfields.Names(t)
}

// lookAlikes are letters of other scripts that pass for Latin ones.
var lookAlikes = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'Х': 'X',
	'α': 'a', 'ο': 'o', 'ν': 'v', 'ρ': 'p', 'τ': 't', 'ι': 'i', 'κ': 'k', 'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T',
}

// oddRunes describes the characters of a key that are invisible or only
// look like Latin letters, or returns "".
func oddRunes(s string) string {
	var parts []string
	for i, r := range []rune(s) {
		switch {
		case lookAlikes[r] != 0:
			script := "Cyrillic"
			if unicode.Is(unicode.Greek, r) {
				script = "Greek"
			}
			parts = append(parts, fmt.Sprintf("a %s %q (U+%04X) at character %d, which looks like the Latin %q", script, r, r, i+1, lookAlikes[r]))
		case unicode.Is(unicode.Cf, r) || (r > unicode.MaxASCII && unicode.IsSpace(r)):
			parts = append(parts, fmt.Sprintf("an invisible character U+%04X at character %d", r, i+1))
		}
	}
	return strings.Join(parts, " and ")
}

// cleanName is s with invisible characters dropped and look-alikes made
// Latin: what the person meant to type.
func cleanName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case lookAlikes[r] != 0:
			b.WriteRune(lookAlikes[r])
		case unicode.Is(unicode.Cf, r) || (r > unicode.MaxASCII && unicode.IsSpace(r)):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// textProblem says what is wrong with a name, description or hint that
// the console, JUnit and report.html will show: a control character
// (an escape sequence, a carriage return, a line break that could fake a
// "✓ PASSED" line) or nothing but spaces. Multi-line text is allowed
// where allowLines says so.
func textProblem(s string, allowLines bool) string {
	if s != "" && strings.TrimSpace(s) == "" {
		return "is only spaces: write a name a reader can tell apart"
	}
	for i, r := range []rune(s) {
		if r == '\n' && allowLines || r == '\t' && allowLines {
			continue
		}
		if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return fmt.Sprintf("has a control character U+%04X at character %d; it would act on the terminal or the report instead of showing: remove it", r, i+1)
		}
	}
	return ""
}
