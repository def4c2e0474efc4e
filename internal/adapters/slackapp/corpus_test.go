package slackapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/testkit"
)

// corpusExpect is what one corpus delivery must do, kept next to it as
// NAME.expect.json.
type corpusExpect struct {
	// Via is how it arrives: "events" (the JSON body of POST
	// /slack/events), "interactions" (the payload of POST
	// /slack/interactions), "commands" (the fields of POST /slack/commands,
	// as Socket Mode carries them) or "socket" (a whole Socket Mode
	// envelope on the WebSocket). HTTP deliveries are signed, unless
	// Unsigned.
	Via      string `json:"via"`
	Unsigned bool   `json:"unsigned"`
	// Setup "started": before it, the user has run /itfit, and {{MSG_TS}}
	// and {{DM}} name the question card posted in their DM.
	Setup string `json:"setup"`
	// Status is the HTTP status (default 200); Body a substring of the
	// HTTP response, or of the Socket Mode ack's payload.
	Status int    `json:"status"`
	Body   string `json:"body"`
	// Calls counts the Web API calls by method; every other method is
	// zero. Contains must each appear in one of them; Response in a reply
	// through the response_url.
	Calls    map[string]int `json:"calls"`
	Contains []string       `json:"contains"`
	Response []string       `json:"response"`
	// Store "nothing": Redis holds what it held before, key by key and value
	// by value, but for Guard replay-guard keys (the signature of an HTTP
	// delivery, kept for the 5-minute window; default 1 for a signed
	// delivery, 0 otherwise, and 0 for an interaction the bot ignores, a
	// checkbox tick or a shortcut or view it does not define: nothing a
	// replay could repeat); "changed": every one of Keys is a substring of
	// some key added or changed.
	Store string   `json:"store"`
	Keys  []string `json:"keys"`
	Guard *int     `json:"guard"`
}

const corpusUser = "U0CORPUSANA"

// TestCorpusReplay sends every delivery of testdata/corpus, written from
// Slack's published payload documentation and the shapes of its SDKs' test
// fixtures (Events API callbacks with Enterprise Grid, org-wide and
// channel-thread variants, uninstalls and revocations with no team_id,
// edits, deletes, reactions, files, bots' messages, App Home, slash
// commands and ssl_check, block_actions, view_submission, shortcuts, and
// Socket Mode envelopes of each type), through the real signed endpoints
// (or the Socket Mode WebSocket) on real Redis, and checks what the bot
// sent at the fake Web API and what Redis holds.
func TestCorpusReplay(t *testing.T) {
	testkit.Corpus(t, "testdata/corpus", 20, func(t *testing.T, name string, raw []byte, want *corpusExpect) {
		if want.Status == 0 {
			want.Status = http.StatusOK
		}
		guard := 0
		if want.Via != "socket" && !want.Unsigned {
			guard = 1
		}
		if want.Guard != nil {
			guard = *want.Guard
		}
		var (
			h   *harness
			run *socketRun
		)
		if want.Via == "socket" {
			run = newSocketRun(t)
			run.conn = run.slack.next()
			run.conn.hello()
			h = run.harness
		} else {
			h = newHarness(t)
		}
		body := strings.NewReplacer("{{TEAM}}", "T0CORPUS1", "{{RESPONSE_URL}}", h.sink.srv.URL+"/corpus/"+name).Replace(string(raw))
		if want.Setup == "started" {
			form := url.Values{"team_id": {"T0CORPUS1"}, "user_id": {corpusUser}, "channel_id": {"C0CORPUSGEN"}, "command": {"/itfit"},
				"text": {""}, "response_url": {h.sink.srv.URL + "/corpus/setup"}, "trigger_id": {"1.2.3"}}
			if code, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), nil); code != 200 {
				t.Fatalf("setup /itfit: %d", code)
			}
			h.wait()
			msg, ts := h.posted(-1)
			body = strings.NewReplacer("{{MSG_TS}}", ts, "{{DM}}", msg.Form.Get("channel")).Replace(body)
		}
		if strings.Contains(body, "{{") {
			t.Fatalf("a placeholder is left: %s", body)
		}
		before := dump(t, h)
		callsBefore := h.api.count()
		repliesBefore := len(h.sink.texts())

		var code int
		var resp string
		switch want.Via {
		case "events":
			code, resp = h.corpusPost("/slack/events", "application/json", []byte(body), want.Unsigned)
		case "interactions":
			code, resp = h.corpusPost("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {body}}.Encode()), want.Unsigned)
		case "commands":
			var fields map[string]string
			if err := json.Unmarshal([]byte(body), &fields); err != nil {
				t.Fatal(err)
			}
			form := url.Values{}
			for k, v := range fields {
				form.Set(k, v)
			}
			code, resp = h.corpusPost("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), want.Unsigned)
		case "socket":
			var env map[string]any
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatal(err)
			}
			run.conn.send(env)
			ack := run.conn.ack(env["envelope_id"].(string))
			code, resp = http.StatusOK, string(ack.Payload)
			run.settle()
		default:
			t.Fatalf("via %q", want.Via)
		}
		h.wait()
		if code != want.Status {
			t.Errorf("status %d, want %d (%s)", code, want.Status, resp)
		}
		if want.Body != "" && !strings.Contains(unescaper.Replace(resp), want.Body) {
			t.Errorf("response %q lacks %q", resp, want.Body)
		}

		h.api.mu.Lock()
		calls := append([]apiCall(nil), h.api.calls[callsBefore:]...)
		h.api.mu.Unlock()
		got := map[string]int{}
		var all strings.Builder
		for _, c := range calls {
			got[c.Method]++
			fmt.Fprintf(&all, "%s %v\n", c.Method, c.Form)
		}
		for _, m := range union(got, want.Calls) {
			if got[m] != want.Calls[m] {
				t.Errorf("%d %s, want %d:\n%s", got[m], m, want.Calls[m], all.String())
			}
		}
		for _, c := range want.Contains {
			if !strings.Contains(unescaper.Replace(all.String()), c) {
				t.Errorf("no call contains %q:\n%s", c, all.String())
			}
		}
		replies := strings.Join(h.sink.texts()[repliesBefore:], "\n")
		for _, c := range want.Response {
			if !strings.Contains(replies, c) {
				t.Errorf("no response_url reply contains %q: %q", c, replies)
			}
		}

		after := dump(t, h)
		var added, guards []string // added or changed
		for k, v := range after {
			if b, ok := before[k]; !ok || b != v {
				// A signature's guard: its own key, or (an answer's, taken
				// by the answer script) a member of the person's claims.
				if strings.Contains(k, ":slack:sig:") || strings.HasSuffix(k, ":claims") && strings.Contains(v, "once:sig:") && !strings.Contains(b, "once:sig:") {
					guards = append(guards, k)
					continue
				}
				added = append(added, k)
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				t.Errorf("%s deleted", k)
			}
		}
		if len(guards) != guard {
			t.Errorf("%d replay-guard keys added, want %d: %v", len(guards), guard, guards)
		}
		for _, k := range guards {
			if ttl := h.rdb.PTTL(t.Context(), k).Val(); ttl <= 0 || ttl > 6*60*1000*1e6 {
				t.Errorf("replay guard %s TTL %v", k, ttl)
			}
		}
		switch want.Store {
		case "nothing":
			if len(added) > 0 {
				sort.Strings(added)
				t.Errorf("stored: %v", added)
			}
		case "changed":
			for _, w := range want.Keys {
				if !slices.ContainsFunc(added, func(k string) bool { return strings.Contains(k, w) }) {
					t.Errorf("no key added contains %q: %v", w, added)
				}
			}
		default:
			t.Fatalf("store %q: want nothing or changed", want.Store)
		}
	})
}

// corpusPost posts a delivery as Slack does, signed unless unsigned.
func (h *harness) corpusPost(path, ctype string, body []byte, unsigned bool) (int, string) {
	h.t.Helper()
	if !unsigned {
		return h.post(path, ctype, body, nil)
	}
	resp, err := http.Post(h.srv.URL+path, ctype, strings.NewReader(string(body)))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

func union(a, b map[string]int) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
