package slackapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify gives the verifier arbitrary signature and timestamp headers
// and body: it must never panic, and it must accept only the signature
// Slack would compute for that body and time.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1531420618, 0)
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
	f.Add("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "1531420618", body)
	f.Add(Sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", []byte(body)), "1531420618", body)
	f.Add("v0=", "1531420618", "")
	f.Add("v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "-9223372036854775808", "x")
	f.Add("v0=zz", "99999999999999999999", "")
	f.Fuzz(func(t *testing.T, sig, ts, body string) {
		v := NewVerifier("8f742231b10e8888abcd99yyyzzz85a5", func() time.Time { return now })
		h := http.Header{}
		h.Set(HeaderSignature, sig)
		h.Set(HeaderTimestamp, ts)
		err := v.Verify(h, []byte(body))
		if err != nil {
			return
		}
		sec, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || sec < now.Unix()-300 || sec > now.Unix()+300 {
			t.Fatalf("accepted timestamp %q", ts)
		}
		if want := Sign("8f742231b10e8888abcd99yyyzzz85a5", ts, []byte(body)); !strings.EqualFold(sig, want) || !strings.HasPrefix(sig, "v0=") {
			t.Fatalf("accepted signature %q for body %q, want %q", sig, body, want)
		}
	})
}
