package slackapi

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
)

// PayloadField is url.ParseQuery(body).Get("payload"), refusals included.
func FuzzPayloadField(f *testing.F) {
	for _, s := range []string{"payload=%7B%22a%22%3A1%7D", "payload=a+b", "payload=%", "payload=%4", "payload=%zz", "payload=%41",
		"payload=", "x=1", "payload=a&x=1", "payload=a;b", "payload=caf%C3%A9+%2B+%25", "",
		"payload=" + url.QueryEscape(strings.Repeat(`{"type":"block_actions","message":{"text":"a b+c"}}`, 20))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		form, werr := url.ParseQuery(string(body))
		got, gerr := PayloadField(bytes.Clone(body))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: url.ParseQuery says %v, PayloadField %v", body, werr, gerr)
		}
		if werr == nil && string(got) != form.Get("payload") {
			t.Fatalf("%q: %q, want %q", body, got, form.Get("payload"))
		}
	})
}

// go test -run '^$' -bench PayloadField -benchmem ./internal/slackapi
func BenchmarkPayloadField(b *testing.B) {
	body := []byte("payload=" + url.QueryEscape(strings.Repeat(`{"type":"block_actions","message":{"text":"How many people work on IT?"}},`, 40)))
	buf := make([]byte, len(body))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		copy(buf, body)
		if _, err := PayloadField(buf); err != nil {
			b.Fatal(err)
		}
	}
}
