package wirejson

import (
	"bytes"
	"errors"
)

// Members is the JSON object data with only the members named (and, to be
// safe, any whose name is escaped or not ASCII, which encoding/json might
// match to a field in ways a byte comparison would not), in their order, so
// that json.Unmarshal of the result into a struct that reads only those
// members sets exactly what json.Unmarshal of data would, and fails where
// it fails. The members left out are checked (they must be valid JSON, as
// encoding/json requires) but not decoded: a block_actions payload echoes
// the whole message clicked, which is most of its bytes and none of what
// the adapter reads. Names match as encoding/json matches them,
// ASCII-case-insensitively.
//
// When data is not an object, it is returned as it is, for json.Unmarshal
// to accept or refuse.
func Members(data []byte, names ...string) ([]byte, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return data, nil
	}
	out := make([]byte, 0, 1024)
	out = append(out, '{')
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1, append(out, '}'))
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, errSyntax
		}
		kstart := i
		end, plain, err := scanString(data, i)
		if err != nil {
			return nil, err
		}
		key := data[kstart+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errSyntax
		}
		i = skipSpace(data, i+1)
		vstart := i
		if i, err = skipValue(data, i, 1); err != nil {
			return nil, err
		}
		if !plain || wanted(key, names) {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, data[kstart:end]...)
			out = append(out, ':')
			out = append(out, data[vstart:i]...)
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, errSyntax
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return trailing(data, i+1, append(out, '}'))
		default:
			return nil, errSyntax
		}
	}
}

var errSyntax = errors.New("malformed JSON")

// maxDepth is encoding/json's bound on nesting.
const maxDepth = 10000

func wanted(key []byte, names []string) bool {
	for _, n := range names {
		if len(n) == len(key) && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// trailing allows only white space after the top-level value.
func trailing(data []byte, i int, out []byte) ([]byte, error) {
	if skipSpace(data, i) != len(data) {
		return nil, errSyntax
	}
	return out, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString checks the string that starts at b[i] == '"' and returns the
// index after it, and whether it is plain: ASCII without escapes.
func scanString(b []byte, i int) (int, bool, error) {
	plain := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, plain, nil
		case c == '\\':
			plain = false
			if j+1 >= len(b) {
				return 0, false, errSyntax
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+5 >= len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return 0, false, errSyntax
				}
				j += 5
			default:
				return 0, false, errSyntax
			}
		case c < 0x20:
			return 0, false, errSyntax
		case c >= 0x80:
			plain = false
		}
	}
	return 0, false, errSyntax
}

// skipValue checks the value that starts at b[i] and returns the index
// after it; depth is the nesting of the value's container.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{' || c == '[':
		if depth+1 > maxDepth {
			return 0, errSyntax
		}
		return skipContainer(b, i, depth+1)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return number(b, i)
	}
	return 0, errSyntax
}

func skipContainer(b []byte, i, depth int) (int, error) {
	object := b[i] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, nil
	}
	for {
		var err error
		if object {
			if i >= len(b) || b[i] != '"' {
				return 0, errSyntax
			}
			if i, _, err = scanString(b, i); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, errSyntax
			}
			i = skipSpace(b, i+1)
		}
		if i, err = skipValue(b, i, depth); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closing:
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func number(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, errSyntax
		}
	}
	return i, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
