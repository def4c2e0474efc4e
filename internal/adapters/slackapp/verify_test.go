package slackapp

import (
	"io"
	"net/http"
	"strconv"
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

// Every refused request is refused before any work and says nothing about
// the signature it expected.
func TestEndpointsRefuseUnverifiedRequests(t *testing.T) {
	h := newHarness(t)
	body := []byte("team_id=T1&user_id=U1&text=&response_url=x")
	good := Sign(testSecret, strconv.FormatInt(h.now.Unix(), 10), body)
	ts := strconv.FormatInt(h.now.Unix(), 10)
	for _, tc := range []struct {
		name     string
		sig, ts  string
		body     []byte
		wantCode int
	}{
		{"tampered", good, ts, []byte("team_id=T1&user_id=U2&text=&response_url=x"), http.StatusUnauthorized},
		{"stale", Sign(testSecret, strconv.FormatInt(h.now.Unix()-301, 10), body), strconv.FormatInt(h.now.Unix()-301, 10), body, http.StatusUnauthorized},
		{"future", Sign(testSecret, strconv.FormatInt(h.now.Unix()+301, 10), body), strconv.FormatInt(h.now.Unix()+301, 10), body, http.StatusUnauthorized},
		{"missing signature", "", ts, body, http.StatusUnauthorized},
		{"missing timestamp", good, "", body, http.StatusUnauthorized},
		{"wrong version", "v1=" + good[3:], ts, body, http.StatusUnauthorized},
		{"wrong secret", Sign("other", ts, body), ts, body, http.StatusUnauthorized},
	} {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			t.Run(tc.name+path, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(string(tc.body)))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tc.sig != "" {
					req.Header.Set(HeaderSignature, tc.sig)
				}
				if tc.ts != "" {
					req.Header.Set(HeaderTimestamp, tc.ts)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var b strings.Builder
				_, _ = io.Copy(&b, resp.Body)
				if resp.StatusCode != tc.wantCode {
					t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantCode)
				}
				correct := Sign(testSecret, tc.ts, tc.body)
				if strings.Contains(b.String(), correct[3:]) || strings.Contains(b.String(), "v0=") {
					t.Fatalf("the refusal echoes a signature: %q", b.String())
				}
			})
		}
	}
	h.wait()
	if n := h.api.count(); n != 0 {
		t.Fatalf("%d Web API calls after refused requests", n)
	}
}

func TestOversizedAndMalformedBodies(t *testing.T) {
	h := newHarness(t)
	big := []byte("text=" + strings.Repeat("a", DefaultMaxBody))
	if code, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", big, nil); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized = %d, want 413", code)
	}
	for _, tc := range []struct{ path, ctype, body string }{
		{"/slack/commands", "application/x-www-form-urlencoded", "team_id=%zz"},
		{"/slack/commands", "application/x-www-form-urlencoded", "text=hi"},
		{"/slack/interactions", "application/x-www-form-urlencoded", "payload=%7Bnot+json"},
		{"/slack/interactions", "application/x-www-form-urlencoded", "nopayload=1"},
		{"/slack/interactions", "application/x-www-form-urlencoded", `payload={"type":"block_actions","user":{"id":"U1"},"team":{"id":"T1"},"actions":[]}`},
		{"/slack/events", "application/json", `{"type":"event_callback",`},
		{"/slack/events", "application/json", `{"type":"event_callback","team_id":"T1","event":{"type":"app_home_opened"}}`},
		{"/slack/events", "application/json", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`},
	} {
		if code, body := h.post(tc.path, tc.ctype, []byte(tc.body), nil); code != http.StatusBadRequest {
			t.Errorf("%s %q = %d %s, want 400", tc.path, tc.body, code, body)
		}
	}
	h.wait()
	if n := h.api.count(); n != 0 {
		t.Fatalf("%d Web API calls after bad requests", n)
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
