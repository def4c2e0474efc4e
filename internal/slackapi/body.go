package slackapi

import (
	"bytes"
	"errors"
	"io"
	"net/url"
)

// readAll is io.ReadAll into a buffer that starts at what was announced
// (Content-Length; -1 when unknown), up to a few KiB, and grows only as
// bytes arrive: a client can announce 128 KiB and send two bytes, and the
// body is read before its signature can be checked. A payload is a few
// KiB, so most are read with no growing at all.
func readAll(r io.Reader, n int64) ([]byte, error) {
	const first = 8 << 10
	buf := bytes.NewBuffer(make([]byte, 0, min(max(n, 0), first)+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// PayloadField is url.ParseQuery(string(body)).Get("payload") without the
// copies: Slack's form is the single field "payload=…", which is unescaped
// in place (body is the handler's own, and verified already). Any other form
// goes through url.ParseQuery, so what is refused stays the same.
func PayloadField(body []byte) ([]byte, error) {
	v, ok := bytes.CutPrefix(body, []byte("payload="))
	if !ok || bytes.IndexByte(v, '&') >= 0 || bytes.IndexByte(v, ';') >= 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		return []byte(form.Get("payload")), nil
	}
	return unescapeQuery(v)
}

// unescapeQuery is url.QueryUnescape in place: '+' is a space, "%XX" a byte.
// Each byte is looked up rather than compared: a payload is mostly escapes,
// and this runs over every byte of every interaction (BenchmarkPayloadField).
func unescapeQuery(s []byte) ([]byte, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			s[n] = plus[c]
			n++
			continue
		}
		if i+2 >= len(s) {
			return nil, errors.New("invalid URL escape")
		}
		hi, lo := hexVal[s[i+1]], hexVal[s[i+2]]
		if hi|lo > 0x0f {
			return nil, errors.New("invalid URL escape")
		}
		s[n] = hi<<4 | lo
		n++
		i += 2
	}
	return s[:n], nil
}

// plus maps each byte to itself but '+' to a space; hexVal maps a hex
// digit to its value and any other byte to 0xff.
var plus, hexVal = func() (p, h [256]byte) {
	for c := range 256 {
		p[c], h[c] = byte(c), 0xff
		if isHex(byte(c)) {
			h[c] = unhex(byte(c))
		}
	}
	p['+'] = ' '
	return p, h
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
