// Package wirejson decodes the platforms' JSON on the hot path: Members
// picks an object's members without decoding the rest, and Unmarshal
// decodes as encoding/json does, several times faster.
//
// Unmarshal is for bytes an authenticated sender wrote (a Teams activity
// once its token has passed, a Slack payload once its signature has, the
// platforms' answers to the bot's own calls). Bytes anyone could have sent
// go through Members and encoding/json, which are memory-safe Go; the fast
// decoder uses unsafe, and it is kept behind the check.
package wirejson

import (
	"encoding/json"
	"reflect"

	gojson "github.com/goccy/go-json"
)

// Unmarshal is json.Unmarshal(data, v) for a v that points to a zero
// value, with github.com/goccy/go-json doing the work (BenchmarkUnmarshal,
// a Teams card submit: 3.8 against 21.6 µs, 19 against 27 allocations,
// 2026-12-01). Where that decoder refuses data, *v is zeroed again and
// encoding/json decodes it, so what encoding/json accepts is never refused
// here, and its errors are the ones returned. FuzzUnmarshal holds the two
// to the same result.
func Unmarshal(data []byte, v any) error {
	if gojson.Unmarshal(data, v) == nil {
		return nil
	}
	if p := reflect.ValueOf(v); p.Kind() == reflect.Pointer && !p.IsNil() {
		p.Elem().SetZero()
	}
	return json.Unmarshal(data, v)
}

// Marshal is json.Marshal(v), the same bytes, with github.com/goccy/go-json
// doing the work (BenchmarkAnsweredCard in internal/adapters/teams, an
// answered question's Adaptive Card: 0.84-1.0 against 2.9-3.5 µs,
// 2026-12-02). Where that encoder fails, encoding/json encodes v, so its
// errors are the ones returned. FuzzMarshal holds the two to the same
// bytes.
func Marshal(v any) ([]byte, error) {
	if b, err := gojson.Marshal(v); err == nil {
		return b, nil
	}
	return json.Marshal(v)
}
