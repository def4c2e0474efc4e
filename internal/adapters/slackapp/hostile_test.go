package slackapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/redistest"
)

// TestHostileInputChangesNothing sends, through the signed endpoints on
// real Redis, input no Slack client would: invalid UTF-8 in every text
// field, 100k-deep JSON, another workspace's IDs, unknown event and action
// types, forged values. Each gets 200, 400 or 413 (a handler panic would drop
// the connection and fail the post), and Redis holds exactly what it held
// before, apart from the short-lived delivery claims and seen signatures.
func TestHostileInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	msg, ts := h.posted(0)
	before := snapshot(t, h)

	const bad = "\xff\xfe\xc0\xaf\xed\xa0\x80"
	form := "application/x-www-form-urlencoded"
	nested := strings.Repeat("[", 100000)
	cases := []struct{ path, ctype, body string }{
		{"/slack/commands", form, url.Values{"team_id": {"T1" + bad}, "user_id": {"U1" + bad}, "channel_id": {bad}, "text": {bad}, "response_url": {bad}}.Encode()},
		{"/slack/commands", form, url.Values{"team_id": {"T1"}, "user_id": {"U1"}, "text": {"help " + bad + strings.Repeat("x", 5000)}}.Encode()},
		{"/slack/interactions", form, "payload=" + url.QueryEscape(nested)},
		{"/slack/interactions", form, "payload=" + url.QueryEscape(`{"type":"block_actions","user":{"id":"U1"},"team":{"id":"T1"},"actions":[{"action_id":"`+bad+`","value":"`+bad+`"}]}`)},
		{"/slack/interactions", form, "payload=" + url.QueryEscape(`{"type":"view_submission","user":{"id":"U1"},"team":{"id":"T1"}}`)},
		{"/slack/interactions", form, "payload=" + url.QueryEscape(`{"type":"block_actions","user":{"id":"U1"},"team":{"id":"T1"},"container":{"message_ts":"`+ts+`","channel_id":"DU1"},"actions":[{"action_id":"itfit_unknown","value":"1:it_staff:none"}]}`)},
		{"/slack/events", "application/json", nested},
		{"/slack/events", "application/json", `{"type":"event_callback","team_id":"T1","event_id":"EvH1","event":{"type":"message","user":"U1","text":"` + bad + `"}}`},
		{"/slack/events", "application/json", `{"type":"event_callback","team_id":"T1","event_id":"EvH2","event":{"type":"reaction_added","user":"U1"}}`},
		{"/slack/events", "application/json", `{"type":"app_rate_limited","team_id":"T1"}`},
		{"/slack/events", "application/json", `{"type":"event_callback","team_id":"T1","event_id":"EvH3","event":{"type":"app_home_opened","user":"U1","tab":"` + bad + `"}}`},
	}
	for _, c := range cases {
		code, _ := h.post(c.path, c.ctype, []byte(c.body), nil)
		if code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %.60q: %d", c.path, c.body, code)
		}
	}
	// Another workspace's user with U1's ID, clicking U1's real button in
	// U1's DM: a different person, whose click cannot touch U1's audit.
	b := btn(t, msg.blocks(t), actAnswer)
	body := h.clickBody("U1", msg, ts, b, nil)
	body = strings.ReplaceAll(body, url.QueryEscape(`"team_id":"T1"`), url.QueryEscape(`"team_id":"TOTHER"`))
	body = strings.ReplaceAll(body, url.QueryEscape(`{"domain":"acme","id":"T1"}`), url.QueryEscape(`{"domain":"evil","id":"TOTHER"}`))
	if !strings.Contains(body, "TOTHER") {
		t.Fatal("the forged payload was not rewritten")
	}
	h.post("/slack/interactions", form, []byte(body), nil)
	// A stale revision and a nonexistent option, on U1's own audit.
	for _, v := range []string{"0:it_staff:none", "2:it_staff:none", "1:it_staff:no_such_option", "1:no_such_question:none"} {
		h.click("U1", msg, ts, map[string]any{"action_id": actAnswer + "x", "value": v, "type": "button"}, nil)
	}
	h.wait()

	after := snapshot(t, h)
	for k, v := range after {
		if strings.Contains(k, "TOTHER") && strings.Contains(k, ":session:") {
			// The other workspace's user may have no audit here at all: the
			// click answered nothing, so no session may have been made.
			t.Errorf("a session was created for the other workspace: %s = %s", k, v)
		}
		// The one note about a stale button is claimed once per message.
		if before[k] != v && !strings.HasSuffix(k, ":claims") && !strings.Contains(k, ":slack:event:") && !strings.Contains(k, ":slack:sig:") {
			t.Errorf("%s changed: %q -> %q", k, before[k], v)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("%s was deleted", k)
		}
	}
	if r, _ := h.engine.Status(context.Background(), dmKey("U1")); r.Rev != 1 || r.Position != 1 {
		t.Errorf("U1's audit moved: rev %d, question %d", r.Rev, r.Position)
	}
}

// snapshot reads every key of the test's prefix with its value.
func snapshot(t *testing.T, h *harness) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range redistest.Keys(t, h.rdb, h.prefix) {
		typ := h.rdb.Type(ctx, k).Val()
		var v any
		switch typ {
		case "hash":
			v = h.rdb.HGetAll(ctx, k).Val()
		case "list":
			v = h.rdb.LRange(ctx, k, 0, -1).Val()
		case "set":
			v = h.rdb.SMembers(ctx, k).Val()
		case "zset":
			v = h.rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		default:
			v = h.rdb.Get(ctx, k).Val()
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}
