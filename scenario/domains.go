package scenario

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Domains: a step kind's spec field may say what values it takes beyond
// its type with a domain tag, checked at load for every kind by one
// mechanism with the API server's own rules (apimachinery's validation):
//
//	Port      intstr.IntOrString `json:"port" domain:"port"`
//	Container string             `json:"container" domain:"dns1123Label"`
//	Names     []string           `json:"names" domain:"dns1123Subdomain,unique"`
//	Selector  map[string]string  `json:"selector" domain:"labels"`
//	Headers   map[string]string  `json:"headers" domain:"headers"`
//
// A list tagged unique may not name a value twice.
const domainTag = "domain"

// checkDomain returns what is wrong with a field's value under its domain
// tag, or "".
func checkDomain(tag string, v reflect.Value) string {
	rules := strings.Split(tag, ",")
	if v.Kind() == reflect.Slice {
		seen := map[string]bool{}
		for i := range v.Len() {
			e := fmt.Sprint(v.Index(i).Interface())
			if slices.Contains(rules, "unique") && seen[e] {
				return fmt.Sprintf("%q is listed twice", e)
			}
			seen[e] = true
			if msg := checkDomain(rules[0], v.Index(i)); msg != "" {
				return fmt.Sprintf("[%d]: %s", i, msg)
			}
		}
		return ""
	}
	switch x := v.Interface().(type) {
	case string:
		return checkText(rules[0], x)
	case int, int32, int64:
		if rules[0] == "port" {
			return checkPort(v.Int())
		}
	case intstr.IntOrString:
		if rules[0] != "port" {
			return ""
		}
		if x.Type == intstr.Int {
			return checkPort(int64(x.IntVal))
		}
		if x.StrVal == "" || strings.Contains(x.StrVal, "${{") {
			return ""
		}
		return joinErrs(validation.IsValidPortName(x.StrVal))
	case map[string]string:
		for _, k := range sortedMapKeys(x) {
			if msg := checkPair(rules[0], k, x[k]); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func checkText(rule, s string) string {
	if s == "" || strings.Contains(s, "${{") {
		return ""
	}
	switch rule {
	case "dns1123Label":
		return joinErrs(validation.IsDNS1123Label(s))
	case "dns1123Subdomain":
		return joinErrs(validation.IsDNS1123Subdomain(s))
	case "qualifiedName":
		return joinErrs(validation.IsQualifiedName(s))
	case "labelValue":
		return joinErrs(validation.IsValidLabelValue(s))
	}
	return ""
}

func checkPair(rule, k, v string) string {
	switch rule {
	case "labels":
		if msg := joinErrs(validation.IsQualifiedName(k)); msg != "" {
			return fmt.Sprintf("key %q: %s", k, msg)
		}
		if strings.Contains(v, "${{") {
			return ""
		}
		if msg := joinErrs(validation.IsValidLabelValue(v)); msg != "" {
			return fmt.Sprintf("%s: value %q: %s", k, v, msg)
		}
	case "headers":
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return fmt.Sprintf("header name %q is not a token", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Sprintf("%s: a header value may not hold a line break (it would add headers of its own)", k)
		}
	}
	return ""
}

func checkPort(p int64) string {
	if p < 1 || p > 65535 {
		return fmt.Sprintf("%d is not a port: ports are 1 to 65535", p)
	}
	return ""
}

func joinErrs(errs []string) string { return strings.Join(errs, "; ") }

func sortedMapKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
