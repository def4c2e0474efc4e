package slackapi

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The worked example in Slack's "Verifying requests from Slack".
const (
	docSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	docTS     = "1531420618"
	docBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerify(t *testing.T) {
	sent := time.Unix(1531420618, 0)
	hdr := func(sig, ts string) http.Header {
		h := http.Header{}
		if sig != "" {
			h.Set(HeaderSignature, sig)
		}
		if ts != "" {
			h.Set(HeaderTimestamp, ts)
		}
		return h
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		h    http.Header
		body string
		want error
	}{
		{"Slack's documented example", sent.Add(time.Minute), hdr(docSig, docTS), docBody, nil},
		{"at the edge of the window, late", sent.Add(MaxSkew), hdr(docSig, docTS), docBody, nil},
		{"at the edge of the window, early", sent.Add(-MaxSkew), hdr(docSig, docTS), docBody, nil},
		{"tampered body", sent, hdr(docSig, docTS), strings.Replace(docBody, "roadrunner", "coyote", 1), ErrBadSignature},
		{"one byte more", sent, hdr(docSig, docTS), docBody + "&", ErrBadSignature},
		{"stale", sent.Add(MaxSkew + time.Second), hdr(docSig, docTS), docBody, ErrStale},
		{"from the future", sent.Add(-MaxSkew - time.Second), hdr(docSig, docTS), docBody, ErrStale},
		{"timestamp changed", sent, hdr(docSig, "1531420619"), docBody, ErrBadSignature},
		{"no signature", sent, hdr("", docTS), docBody, ErrMissingSignature},
		{"no timestamp", sent, hdr(docSig, ""), docBody, ErrMissingSignature},
		{"no headers", sent, http.Header{}, docBody, ErrMissingSignature},
		{"wrong version prefix", sent, hdr("v1="+docSig[3:], docTS), docBody, ErrBadSignature},
		{"no version prefix", sent, hdr(docSig[3:], docTS), docBody, ErrBadSignature},
		{"upper-case hex", sent, hdr("v0="+strings.ToUpper(docSig[3:]), docTS), docBody, nil},
		{"not hex", sent, hdr("v0="+strings.Repeat("z", 64), docTS), docBody, ErrBadSignature},
		{"truncated", sent, hdr(docSig[:40], docTS), docBody, ErrBadSignature},
		{"timestamp not a number", sent, hdr(docSig, "15314206l8"), docBody, ErrBadTimestamp},
		{"absurd timestamp", sent, hdr(docSig, "-9223372036854775808"), docBody, ErrStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(docSecret, func() time.Time { return tc.now })
			if err := v.Verify(tc.h, []byte(tc.body)); err != tc.want {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	if got := Sign(docSecret, docTS, []byte(docBody)); got != docSig {
		t.Fatalf("Sign = %s, want %s", got, docSig)
	}
}

func BenchmarkVerify(b *testing.B) {
	v := NewVerifier(docSecret, func() time.Time { return time.Unix(1531420618, 0) })
	h := http.Header{}
	h.Set(HeaderSignature, docSig)
	h.Set(HeaderTimestamp, docTS)
	body := []byte(docBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}
