package expression

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/kdrill/kdrill/internal/jsonfields"
	"github.com/kdrill/kdrill/model"
)

// Plain turns a step's output into what expressions see: maps keyed by
// the output's JSON field names, lists, strings, numbers, booleans, times,
// and durations (so steps.m.recovery.p95 < duration("30s") works).
func Plain(v any) any {
	return plainValue(reflect.ValueOf(v))
}

var (
	durationType = reflect.TypeFor[model.Duration]()
	stdDuration  = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

func plainValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Type() {
	case durationType:
		return v.Interface().(model.Duration).Duration
	case stdDuration, timeType:
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plainValue(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		plainStruct(v, out)
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = plainValue(v.MapIndex(k))
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = plainValue(v.Index(i))
		}
		return out
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if u := v.Uint(); u <= math.MaxInt64 {
			return int(int64(u))
		}
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return v.Interface()
}

func plainStruct(v reflect.Value, out map[string]any) {
	for _, f := range jsonfields.Of(v.Type()) {
		fv, err := v.FieldByIndexErr(f.Index)
		if err != nil || (f.OmitEmpty && fv.IsZero()) {
			continue // an embedded nil pointer, or an empty field left out
		}
		out[f.Name] = plainValue(fv)
	}
}
