package slackapp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/secretbox"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/slackauth"
)

// TestMentionWordsWithPunctuation: "@itfit" followed by punctuation, with
// or without the mention's |label, reads the word after it; a greeting or a
// word itfit does not know starts (or resumes) the audit in the DM with a
// one-line note beside the mention, never the whole help. Each case is a
// signed Events API delivery through POST /slack/events, on real Redis.
func TestMentionWordsWithPunctuation(t *testing.T) {
	h := newHarness(t)
	for i, c := range []struct {
		text string
		// dm: the DM gets a question card; note: the note beside the
		// mention contains this; help: the note is the whole help.
		dm   bool
		note string
		help bool
	}{
		{text: "<@UBOT>: help", help: true},
		{text: "<@UBOT>, status", note: "You have no audit in progress"},
		{text: "<@UBOT|itfit> restart", dm: true, note: "Starting the audit again in your direct messages"},
		{text: "<@UBOT|itfit>:restart", dm: true, note: "Starting the audit again"},
		{text: "<@UBOT> hi", dm: true, note: "The audit continues in your direct messages"},
		{text: "hey <@UBOT|itfit> , HELP", note: "help"},
		{text: "<@UBOT>; frobnicate", dm: true, note: "I don't know “frobnicate”"},
		{text: "<@UBOT> <@U0OTHER|ann>: status", note: "You have no audit in progress"},
	} {
		t.Run(c.text, func(t *testing.T) {
			user := "UM" + strconv.Itoa(i)
			posts, notes := len(h.api.all("chat.postMessage")), len(h.api.all("chat.postEphemeral"))
			if code, _ := h.post("/slack/events", "application/json", mentionEvent("EvP"+strconv.Itoa(i), user, c.text, ""), nil); code != 200 {
				t.Fatalf("status %d", code)
			}
			h.wait()
			newPosts, newNotes := h.api.all("chat.postMessage")[posts:], h.api.all("chat.postEphemeral")[notes:]
			if c.dm != (len(newPosts) == 1) || len(newPosts) > 1 {
				t.Fatalf("DM posts %v, want a question: %v", newPosts, c.dm)
			}
			if c.dm && (newPosts[0].Form.Get("channel") != "D"+user || !strings.HasPrefix(newPosts[0].Form.Get("text"), "Question 1 of")) {
				t.Fatalf("DM post %v", newPosts[0].Form)
			}
			if len(newNotes) != 1 || newNotes[0].Form.Get("user") != user || newNotes[0].Form.Get("channel") != "C1" {
				t.Fatalf("notes beside the mention: %v", newNotes)
			}
			text, blocks := newNotes[0].Form.Get("text"), newNotes[0].Form.Get("blocks")
			isHelp := strings.Contains(blocks, "`/itfit restart`") && strings.Contains(blocks, "`/itfit forget`")
			if isHelp != (c.help || c.note == "help") {
				t.Errorf("help shown: %v, want %v (%s)", isHelp, c.help || c.note == "help", blocks)
			}
			if c.note != "" && c.note != "help" && !strings.Contains(text, c.note) {
				t.Errorf("note %q lacks %q", text, c.note)
			}
		})
	}
}

// TestSSLCheckAnsweredBeforeVerification: Slack's ssl_check=1 on the slash
// command URL, signed, unsigned, or badly signed, in the body or the query
// string, gets an empty 200, and nothing else happens: no Web API call, no
// response_url reply, no key in Redis (not even the replay guard's).
// Other small unsigned bodies are still refused.
func TestSSLCheckAnsweredBeforeVerification(t *testing.T) {
	h := newHarness(t)
	body := []byte("ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO")
	send := func(path string, body []byte, sign, bad bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			ts := strconv.FormatInt(h.now.Unix(), 10)
			sig := slackapi.Sign(testSecret, ts, body)
			if bad {
				sig = slackapi.Sign("another-secret", ts, body)
			}
			req.Header.Set(slackapi.HeaderTimestamp, ts)
			req.Header.Set(slackapi.HeaderSignature, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	for _, c := range []struct {
		name      string
		path      string
		body      []byte
		sign, bad bool
	}{
		{"signed", "/slack/commands", body, true, false},
		{"unsigned", "/slack/commands", body, false, false},
		{"badly signed", "/slack/commands", body, true, true},
		{"token first", "/slack/commands", []byte("token=x&ssl_check=1"), false, false},
		{"in the query", "/slack/commands?ssl_check=1", nil, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code, b := send(c.path, c.body, c.sign, c.bad); code != http.StatusOK || b != "" {
				t.Fatalf("%d %q, want an empty 200", code, b)
			}
		})
	}
	h.wait()
	if n := h.api.count(); n != 0 {
		t.Errorf("%d Web API calls", n)
	}
	if r := h.sink.texts(); len(r) != 0 {
		t.Errorf("response_url replies: %v", r)
	}
	if ks := keysUnder(t, h); len(ks) != 0 {
		t.Errorf("stored: %v", ks)
	}
	// Not an ssl_check: a small unsigned form is still refused.
	if code, _ := send("/slack/commands", []byte("ssl_check=0&token=x"), false, false); code != http.StatusUnauthorized {
		t.Errorf("unsigned non-check: %d, want 401", code)
	}
	if code, _ := send("/slack/commands", []byte(url.Values{"ssl_check": {"1"}, "text": {strings.Repeat("x", 300)}}.Encode()), false, false); code != http.StatusUnauthorized {
		t.Errorf("a large unsigned body naming ssl_check: %d, want 401 (only a small one is looked at)", code)
	}
}

// keysUnder lists the test's keys.
func keysUnder(t *testing.T, h *harness) []string {
	t.Helper()
	return redistest.Keys(t, h.rdb, h.prefix)
}

// dump is every key of the test's prefix with its value.
func dump(t *testing.T, h *harness) map[string]string {
	t.Helper()
	ctx := t.Context()
	out := map[string]string{}
	for _, k := range keysUnder(t, h) {
		var v any
		switch typ := h.rdb.Type(ctx, k).Val(); typ {
		case "hash":
			v = h.rdb.HGetAll(ctx, k).Val()
		case "list":
			v = h.rdb.LRange(ctx, k, 0, -1).Val()
		case "set":
			v = h.rdb.SMembers(ctx, k).Val()
		case "zset":
			v = h.rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "string":
			v = h.rdb.Get(ctx, k).Val()
		default:
			v = typ
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

// completeFor runs an audit to its end through the engine, first option
// every time, so that k has a result to be reminded of.
func completeFor(t *testing.T, e *conversation.Engine, k conversation.Key) {
	t.Helper()
	r, err := e.Start(t.Context(), k)
	for i := 0; err == nil && r.Question != nil; i++ {
		if i > 30 {
			t.Fatal("the audit never ended")
		}
		r, err = e.Answer(t.Context(), k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{r.Question.Options[0].ID}})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestOrgWideUninstall: on Enterprise Grid an org-wide install's
// app_uninstalled and tokens_revoked arrive with enterprise_id and no
// team_id. Each gets 200 (not 400, which Slack would retry for hours),
// deletes the org-wide installation and cancels the nudges of every
// workspace of that organisation, and leaves another organisation's
// installation and nudges alone. A redelivery is harmless.
func TestOrgWideUninstall(t *testing.T) {
	for _, c := range []struct{ name, event string }{
		{"app_uninstalled", `{"type":"app_uninstalled","event_ts":"1700000300.000300"}`},
		{"tokens_revoked", `{"type":"tokens_revoked","tokens":{"oauth":["UADMIN"],"bot":["UBOTE1"]},"event_ts":"1700000300.000300"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &rig{clock: &clock{t: testNow}}
			var store *slackauth.Store
			r.harness = newHarness(t, r.revisits(t, ""), func(o *Options) {
				box, err := secretbox.Parse("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
				if err != nil {
					t.Fatal(err)
				}
				store, err = slackauth.NewStore(slackauth.StoreOptions{Redis: o.Redis, Prefix: o.Prefix, Box: box})
				if err != nil {
					t.Fatal(err)
				}
				o.Tokens, o.Installations = store, store
			})
			r.register()
			ctx := t.Context()
			for _, in := range []slackauth.Installation{
				{Workspace: slackauth.Workspace{Enterprise: "E1"}, OrgWide: true, BotUserID: "UBOTE1", BotToken: "xoxb-e1", InstalledAt: testNow},
				{Workspace: slackauth.Workspace{Enterprise: "E2"}, OrgWide: true, BotUserID: "UBOTE2", BotToken: "xoxb-e2", InstalledAt: testNow},
			} {
				if err := store.Save(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			users := map[string]conversation.Key{}
			for _, ws := range []string{"E1:T1", "E1:T2", "E2:T5"} {
				k := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(ws), User: "U1"}, Conversation: "DU1"}
				completeFor(t, r.engine, k)
				if _, err := r.svc.Remind(ctx, k, ""); err != nil {
					t.Fatal(err)
				}
				users[ws] = k
			}
			body := []byte(`{"token":"x","enterprise_id":"E1","api_app_id":"A1","type":"event_callback","event_id":"EvOrg1","event_time":1700000300,` +
				`"is_ext_shared_channel":false,"authorizations":[{"enterprise_id":"E1","team_id":null,"user_id":"UBOTE1","is_bot":true,"is_enterprise_install":true}],` +
				`"is_enterprise_install":true,"event":` + c.event + `}`)
			for i := range 2 { // the second is a redelivery
				if code, b := r.post("/slack/events", "application/json", body, nil); code != http.StatusOK {
					t.Fatalf("delivery %d: %d %s", i, code, b)
				}
				r.wait()
			}
			if _, err := store.Get(ctx, "E1", "T1"); !errors.Is(err, slackauth.ErrNotInstalled) {
				t.Errorf("E1's org-wide installation after %s: %v", c.name, err)
			}
			if n := r.rdb.Exists(ctx, r.prefix.SlackInstallation("E1", "")).Val(); n != 0 {
				t.Error("E1's installation is still in Redis")
			}
			if _, err := store.Get(ctx, "E2", "T5"); err != nil {
				t.Errorf("E2's installation: %v", err)
			}
			for ws, k := range users {
				rs, err := r.svc.List(ctx, k.UserKey)
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.HasPrefix(ws, "E2:"); (len(rs) > 0) != want {
					t.Errorf("%s: reminders %v after E1's uninstall, want some: %v", ws, rs, want)
				}
			}
			if n := r.api.count(); n != 0 {
				t.Errorf("%d Web API calls for an uninstall", n)
			}
		})
	}
}
