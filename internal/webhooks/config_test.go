package webhooks_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/webhooks"
)

func TestParse(t *testing.T) {
	const sec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="
	good := `[{"name":"crm","url":"https://crm.example.com/hooks/itfit?token=t0ps3cret","secrets":["` + sec + `"],"events":["audit.completed","user.forgotten"]},
	          {"name":"psa-2","url":"https://10.0.0.5:8443/in","secrets":["` + sec + `","` + secretNew + `"],"events":["revisit.due"],"timeout":"30s","max_attempts":3,"allow_private":true}]`
	eps, err := webhooks.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Timeout != webhooks.DefaultTimeout || eps[0].MaxAttempts != webhooks.DefaultMaxAttempts || eps[0].AllowPrivate ||
		!slices.Equal(eps[0].Events, []webhooks.Type{webhooks.AuditCompleted, webhooks.UserForgotten}) ||
		eps[1].Timeout != 30*time.Second || eps[1].MaxAttempts != 3 || !eps[1].AllowPrivate || len(eps[1].Secrets) != 2 {
		t.Errorf("parsed %+v", eps)
	}
	if eps, err := webhooks.Parse("  "); err != nil || eps != nil {
		t.Errorf("empty: %v %v", eps, err)
	}

	one := func(fields string) string {
		return `[{"name":"crm","url":"https://crm.example.com/x","secrets":["` + sec + `"],"events":["audit.completed"]` + fields + `}]`
	}
	for _, c := range []struct{ in, want string }{
		{`{"name":"crm"}`, "want a JSON array of endpoints"},
		{`[{"name":"crm",}]`, "not valid JSON at byte"},
		{`[] []`, "found more after it"},
		{one(`,"secret":"x"`), `unknown field "secret"`},
		{one(`,"max_attempts":"3"`), "max_attempts: want int"},
		{strings.Replace(one(""), `"crm"`, `"CRM!"`, 1), "endpoint 1: name: want 1 to 32 lower-case"},
		{strings.Replace(one(""), "https://crm.example.com/x", "http://crm.example.com/x?token=t0ps3cret", 1), `endpoint 1 ("crm"): url: got scheme "http", want https`},
		{strings.Replace(one(""), "https://crm.example.com/x", "", 1), "url: missing"},
		{strings.Replace(one(""), "https://crm.example.com/x", "https:///x", 1), "url: no host"},
		{strings.Replace(one(""), `["`+sec+`"]`, `[]`, 1), "secrets: want at least one"},
		{strings.Replace(one(""), sec, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1), `secrets[0]: want "whsec_"`},
		{strings.Replace(one(""), sec, "whsec_not*base64", 1), "secrets[0]: the part after \"whsec_\" is not base64"},
		{strings.Replace(one(""), sec, "whsec_c2hvcnQ=", 1), "secrets[0]: decodes to 5 bytes, want 24 to 64"},
		{strings.Replace(one(""), sec, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1), "is one byte repeated"},
		{strings.Replace(one(""), `["audit.completed"]`, `[]`, 1), "events: want at least one of audit.completed, result.shared"},
		{strings.Replace(one(""), `["audit.completed"]`, `["audit.done"]`, 1), `events: "audit.done" is not an event`},
		{strings.Replace(one(""), `["audit.completed"]`, `["audit.completed","audit.completed"]`, 1), "listed twice"},
		{one(`,"timeout":"2m"`), `timeout: got "2m", want a duration from 1s to 1m0s`},
		{one(`,"timeout":"10"`), `timeout: got "10"`},
		{one(`,"max_attempts":0`), "max_attempts: got 0, want 1 to 50"},
		{"[" + one("")[1:len(one(""))-1] + "," + one("")[1:], `endpoint 2: the name "crm" is used twice`},
	} {
		_, err := webhooks.Parse(c.in)
		if err == nil || !errors.Is(err, webhooks.ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s)\n  = %v\n  want an error containing %q", c.in, err, c.want)
			continue
		}
		// A message never repeats a secret or what follows a URL's host.
		for _, leak := range []string{sec[6:16], "t0ps3cret", "/x"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("Parse error repeats %q: %v", leak, err)
			}
		}
		if !strings.HasPrefix(err.Error(), "ITFIT_WEBHOOKS: ") {
			t.Errorf("error does not name the variable: %v", err)
		}
	}
}

// FuzzParse: whatever ITFIT_WEBHOOKS holds, Parse does not panic, accepts
// only https endpoints with valid secrets, and an error never repeats a
// secret from the input.
func FuzzParse(f *testing.F) {
	f.Add(`[{"name":"crm","url":"https://crm.example.com/x","secrets":["` + secretOld + `"],"events":["audit.completed"]}]`)
	f.Add(`[{"name":"crm","url":"http://h/x","secrets":["whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"],"events":["user.forgotten"],"timeout":"5s"}]`)
	f.Add(`[{"name":"a","url":"https://h","secrets":["whsec_!!"],"events":[]}]`)
	// What every shape error says whatever the input: a "secret" that is
	// a piece of it (the fuzzer found "whsec_ompleted") is not repeated
	// from the input.
	const example = `want a JSON array of endpoints such as [{"name":"crm","url":"https://…","secrets":["whsec_…"],"events":["audit.completed"]}]`
	f.Fuzz(func(t *testing.T, s string) {
		eps, err := webhooks.Parse(s)
		if err != nil {
			said := strings.ReplaceAll(err.Error(), example, "")
			for _, sec := range strings.FieldsFunc(s, func(r rune) bool { return r == '"' || r == ',' || r == '[' || r == ']' }) {
				if raw, ok := strings.CutPrefix(sec, "whsec_"); ok && len(raw) >= 8 && strings.Contains(said, raw) {
					t.Fatalf("error repeats a secret: %v", err)
				}
			}
			return
		}
		for _, ep := range eps {
			if !strings.HasPrefix(strings.ToLower(ep.URL), "https://") || len(ep.Secrets) == 0 || len(ep.Events) == 0 || ep.Timeout < time.Second {
				t.Fatalf("accepted %+v", ep)
			}
		}
	})
}
