package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/advisor"
)

// TestServeStoresOnlyWhatTheAuditNeeds runs a whole Slack audit through
// serve with payloads as full as Slack's (names, message text, team domain,
// channel name) and then reads back every key and value the workspace left
// in Redis: only IDs, option IDs, revisions and times, no free text.
func TestServeStoresOnlyWhatTheAuditNeeds(t *testing.T) {
	const team, user = "TPRIVACY", "UPRIVACY1"
	redisURL, rdb := serveRedis(t, team)
	api := newWebAPIFake(t)
	b := startServed(t, serveSlackCfg(t, redisURL, api))

	// Free text a real payload carries; none of it may be stored.
	planted := []string{"Ann Executive", "ann.exec", "acme-secret-corp", "board-room", "we have no backups at all", "Confidential Message"}
	form := url.Values{"team_id": {team}, "team_domain": {"acme-secret-corp"}, "user_id": {user}, "user_name": {"ann.exec"},
		"channel_id": {"C1"}, "channel_name": {"board-room"}, "command": {"/itfit"}, "text": {""}}
	if code, _ := postSigned(t, b.base, "/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), faultSecret); code != http.StatusOK {
		t.Fatal("/itfit")
	}
	m := api.next(t)
	for range 20 {
		if questionNo(m) == 0 {
			break
		}
		act, checked := pickFirstAnswer(t, m)
		sel := []map[string]any{}
		for _, c := range checked {
			sel = append(sel, map[string]any{"value": c, "text": map[string]any{"type": "plain_text", "text": "Confidential Message"}})
		}
		p := map[string]any{
			"type":      "block_actions",
			"user":      map[string]any{"id": user, "team_id": team, "username": "ann.exec", "name": "Ann Executive"},
			"team":      map[string]any{"id": team, "domain": "acme-secret-corp"},
			"container": map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel},
			"channel":   map[string]any{"id": m.Channel, "name": "board-room"},
			"message":   map[string]any{"text": "we have no backups at all", "ts": m.TS},
			"state":     map[string]any{"values": map[string]any{"itfit_choices": map[string]any{"itfit_check": map[string]any{"selected_options": sel}}}},
			"actions":   []any{act},
		}
		raw, _ := json.Marshal(p)
		if code, _ := postSigned(t, b.base, "/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), faultSecret); code != http.StatusOK {
			t.Fatal("click")
		}
		m = api.next(t)
	}
	if questionNo(m) != 0 {
		t.Fatalf("the audit did not finish: %q", m.Text)
	}
	b.stop() // every background write is done

	ks, err := rdb.Keys(context.Background(), "itfit:*"+team+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	dump := dumpRedis(t, rdb, ks)
	if len(dump) == 0 {
		t.Fatal("nothing stored: the audit did not use this Redis")
	}
	// Every word stored, in keys and values alike, is one of: a number (a
	// revision or a Unix time), the audit's version, a question or option
	// ID of the audit, a Slack ID of this user, or the structure's own
	// field names. Anything else would be free text.
	audit := advisor.Default()
	known := map[string]bool{audit.Version: true, team: true, user: true, "D" + user: true,
		"itfit": true, "slack": true, "session": true, "sessions": true, "history": true, "rev": true, "v": true,
		"st": true, "d": true, "a": true, "t0": true, "t1": true, "map": true,
		// The person's language: the hash's fields and BCP 47 tags.
		"lang": true, "seen": true, "chosen": true, "en": true, "fr-CA": true,
		// The account managers' desk: its sets, scored by times.
		"desk": true, "due": true, "changed": true, "w": true, "s": true, "client": true,
		// The person's claims: an answer's signature, as a hash, against
		// replays (signatureClaim).
		"claims": true, "once": true, "sig": true}
	for _, q := range audit.Questions {
		known[string(q.ID)] = true
		for _, o := range q.Options {
			known[string(o.ID)] = true
		}
	}
	// Integers, and the scores of sorted sets as the dump prints them
	// (-1.79612289e+09).
	number := regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?$`)
	words := regexp.MustCompile(`[^\[\]{}:;,|= ]+`)
	// A claimed signature is 16 bytes of SHA-256, base64url: not a word.
	signatureClaim := regexp.MustCompile(`once:sig:[A-Za-z0-9_-]{22}\b`)
	for k, v := range dump {
		t.Logf("%s = %.300s", k, v)
		for _, p := range planted {
			if strings.Contains(k, p) || strings.Contains(v, p) {
				t.Errorf("%s holds %q", k, p)
			}
		}
		for _, w := range words.FindAllString(k+" "+signatureClaim.ReplaceAllString(v, "once:sig"), -1) {
			if !known[w] && !number.MatchString(w) {
				t.Errorf("%s holds %q, which is not an ID, option or time", k, w)
			}
		}
	}
}
