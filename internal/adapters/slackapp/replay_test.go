package slackapp

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/slackapi"
)

// captured is one signed request as it crossed the wire: all that someone
// who copied it (a proxy's log, a compromised hop) can send again.
type captured struct {
	path, ctype string
	hdr         http.Header
	body        []byte
}

// capture signs body as Slack would at the harness's present moment.
func (h *harness) capture(path, ctype string, body []byte) captured {
	ts := strconv.FormatInt(h.now.Unix(), 10)
	hdr := http.Header{}
	hdr.Set("Content-Type", ctype)
	hdr.Set(slackapi.HeaderTimestamp, ts)
	hdr.Set(slackapi.HeaderSignature, slackapi.Sign(testSecret, ts, body))
	return captured{path: path, ctype: ctype, hdr: hdr, body: body}
}

// send posts the captured request byte for byte, plus extra headers
// (which Slack does not sign).
func (h *harness) send(c captured, extra http.Header) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+c.path, strings.NewReader(string(c.body)))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header = c.hdr.Clone()
	maps.Copy(req.Header, extra)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) commandBody(user, text string) []byte {
	return []byte(url.Values{
		"team_id": {"T1"}, "team_domain": {"acme"}, "channel_id": {"C1"}, "user_id": {user},
		"command": {"/itfit"}, "text": {text}, "api_app_id": {"A1"},
		"response_url": {h.sink.srv.URL + "/commands/T1/1/x"}, "trigger_id": {"7.7.7"},
	}.Encode())
}

// TestReplayedRequestsHaveNoEffect replays, through the real endpoints on
// real Redis, a captured "/itfit restart", "Yes, erase everything", an
// answer and Share four minutes after each was first handled (inside the 5-minute
// window, so the signature and timestamp are still good) and after the user
// moved on: Redis is unchanged key by key and nothing is sent to anyone.
func TestReplayedRequestsHaveNoEffect(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name string
		// act does the real thing once and returns the request it sent;
		// then moves the user on, so that a replay would show.
		act func(t *testing.T, r *rig) captured
	}{
		{"/itfit restart", func(t *testing.T, r *rig) captured {
			r.command("U1", "")
			r.wait()
			r.answerCurrent("U1", 0)
			r.wait()
			c := r.capture("/slack/commands", form, r.commandBody("U1", "restart"))
			if code, _ := r.send(c, nil); code != http.StatusOK {
				t.Fatalf("restart: %d", code)
			}
			r.wait()
			if st, _ := r.engine.Status(t.Context(), dmKey("U1")); st.Position != 1 {
				t.Fatalf("after restart: question %d", st.Position)
			}
			// Answered again since: the replay would throw it away.
			r.answerCurrent("U1", len(r.api.all("chat.postMessage"))-1)
			r.wait()
			return c
		}},
		{"Yes, erase everything", func(t *testing.T, r *rig) captured {
			r.remindFromCard("U1")
			code, body := r.command("U1", "forget")
			var ack struct {
				Blocks []map[string]any `json:"blocks"`
			}
			if err := json.Unmarshal([]byte(body), &ack); code != http.StatusOK || err != nil {
				t.Fatalf("forget: %d %s", code, body)
			}
			msg := apiCall{Form: url.Values{"channel": {"C1"}, "blocks": {body}}, Ephemeral: true}
			c := r.capture("/slack/interactions", form,
				[]byte(r.clickBody("U1", msg, "1700000000.999998", btn(t, ack.Blocks, actForget), nil)))
			if code, _ := r.send(c, nil); code != http.StatusOK {
				t.Fatalf("erase: %d", code)
			}
			r.wait()
			if n := r.lastNote(); !strings.Contains(n, "erased") {
				t.Fatalf("erase note = %q", n)
			}
			// A new audit, one answer in: what a replay would erase.
			r.command("U1", "")
			r.wait()
			r.answerCurrent("U1", len(r.api.all("chat.postMessage"))-1)
			r.wait()
			if st, _ := r.engine.Status(t.Context(), dmKey("U1")); st.Position != 2 {
				t.Fatalf("the new audit is at question %d", st.Position)
			}
			return c
		}},
		{"an answer", func(t *testing.T, r *rig) captured {
			// The answer's signature is claimed by the script that records
			// it, not before the acknowledgement: its replay must be as
			// inert as any other, with no "already answered" note either.
			r.command("U1", "")
			r.wait()
			msg, ts := r.posted(0)
			blocks := msg.blocks(t)
			if element(t, blocks, actCheck) != nil {
				t.Fatal("the first question is a multi-select; this case needs single choice")
			}
			c := r.capture("/slack/interactions", form, []byte(r.clickBody("U1", msg, ts, btn(t, blocks, actAnswer), nil)))
			if code, _ := r.send(c, nil); code != http.StatusOK {
				t.Fatalf("answer: %d", code)
			}
			r.wait()
			if st, _ := r.engine.Status(t.Context(), dmKey("U1")); st.Position != 2 {
				t.Fatalf("after the answer: question %d", st.Position)
			}
			// Answered again since: a replay counted as a press would say
			// the first question was already answered.
			r.answerCurrent("U1", len(r.api.all("chat.postMessage"))-1)
			r.wait()
			return c
		}},
		{"Share", func(t *testing.T, r *rig) captured {
			card, ts := finish(t, r.harness, "U1")
			share := map[string]any{"action_id": actShare, "type": "users_select", "selected_user": "U9"}
			c := r.capture("/slack/interactions", form, []byte(r.clickBody("U1", card, ts, share, nil)))
			if code, _ := r.send(c, nil); code != http.StatusOK {
				t.Fatalf("share: %d", code)
			}
			r.wait()
			if n := len(r.postsTo("DU9")); n != 1 {
				t.Fatalf("%d cards reached the manager, want 1", n)
			}
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "")
			c := tc.act(t, r)
			before, calls, replies := snapshot(t, r.harness), r.api.count(), len(r.sink.texts())

			r.now = r.now.Add(4 * time.Minute)
			for _, upper := range []bool{false, true} {
				replay := c
				if upper { // the same signature in upper-case hex, which Verify accepts
					replay.hdr = c.hdr.Clone()
					replay.hdr.Set(slackapi.HeaderSignature, "v0="+strings.ToUpper(c.hdr.Get(slackapi.HeaderSignature)[3:]))
				}
				code, body := r.send(replay, nil)
				if code != http.StatusOK || body != "" {
					t.Errorf("replay (upper-case %v): %d %q, want an empty 200", upper, code, body)
				}
			}
			r.wait()

			after := snapshot(t, r.harness)
			for k, v := range after {
				if before[k] != v {
					t.Errorf("%s changed: %q -> %q", k, before[k], v)
				}
			}
			for k := range before {
				if _, ok := after[k]; !ok {
					t.Errorf("%s was deleted", k)
				}
			}
			if n := r.api.count(); n != calls {
				t.Errorf("%d Web API calls after the replay", n-calls)
			}
			if n := len(r.sink.texts()); n != replies {
				t.Errorf("%d response_url replies after the replay: %q", n-replies, r.sink.texts()[replies:])
			}
		})
	}
}

// TestEventRetriesStillWork: Slack signs each delivery when it sends it, a
// retry too (X-Slack-Request-Timestamp is the time of that attempt, and
// the third retry comes about six minutes after the first attempt, past a
// window the first signature could pass; only X-Slack-Retry-Num and
// X-Slack-Retry-Reason mark it). Such a retry is a new signature and goes
// through, and the event_id claim gives it one effect. A copy of the very
// same signature is answered 200, so Slack would stop retrying, and has
// none. And a delivery refused before its signature was checked (503 while
// too many bodies were being read) has not spent its signature: the same
// bytes sent again are handled.
func TestEventRetriesStillWork(t *testing.T) {
	event := func(id string) []byte {
		return fmt.Appendf(nil, `{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":%q,"event_time":1700000000,`+
			`"event":{"type":"app_home_opened","user":"U1","channel":"DU1","tab":"home","event_ts":"1700000000.000100"}}`, id)
	}
	retry := func(n int) http.Header {
		return http.Header{"X-Slack-Retry-Num": {strconv.Itoa(n)}, "X-Slack-Retry-Reason": {"http_timeout"}}
	}
	published := func(h *harness) int { return len(h.api.all("views.publish")) }

	t.Run("first attempt lost, the retry is handled", func(t *testing.T) {
		h := newHarness(t)
		h.now = h.now.Add(time.Minute) // the retry is signed a minute later
		if code, _ := h.send(h.capture("/slack/events", "application/json", event("Ev1")), retry(2)); code != http.StatusOK {
			t.Fatalf("retry: %d", code)
		}
		h.wait()
		if n := published(h); n != 1 {
			t.Fatalf("%d home views published, want 1", n)
		}
	})

	t.Run("re-signed retries of a handled event, and copies, have one effect", func(t *testing.T) {
		h := newHarness(t)
		first := h.capture("/slack/events", "application/json", event("Ev2"))
		h.send(first, nil)
		for i := 1; i <= 3; i++ {
			h.now = h.now.Add(time.Minute)
			if code, _ := h.send(h.capture("/slack/events", "application/json", event("Ev2")), retry(i)); code != http.StatusOK {
				t.Fatalf("retry %d: %d", i, code)
			}
		}
		if code, body := h.send(first, retry(1)); code != http.StatusOK || body != "" {
			t.Fatalf("a copy of the first attempt: %d %q", code, body)
		}
		h.wait()
		if n := published(h); n != 1 {
			t.Fatalf("%d home views published, want 1", n)
		}
	})

	t.Run("refused while busy, then sent again", func(t *testing.T) {
		h := newHarness(t)
		addr := h.srv.Listener.Addr().String()
		ts := strconv.FormatInt(h.now.Unix(), 10)
		var slow []net.Conn
		defer func() {
			for _, c := range slow {
				c.Close()
			}
		}()
		for i := range slackapi.MaxUnverifiedReads {
			slow = append(slow, slowPost(t, addr, "/slack/events", map[string]string{
				slackapi.HeaderSignature: fmt.Sprintf("v0=%064x", i), slackapi.HeaderTimestamp: ts,
			}, 1000, "{"))
		}
		waitUntil(t, "the slow bodies hold every read", func() bool { return h.app.verifier.Reading() == slackapi.MaxUnverifiedReads })
		c := h.capture("/slack/events", "application/json", event("Ev3"))
		if code, _ := h.send(c, nil); code != http.StatusServiceUnavailable {
			t.Fatalf("while busy: %d, want 503", code)
		}
		for _, conn := range slow {
			conn.Close()
		}
		waitUntil(t, "the slow bodies let go", func() bool { return h.app.verifier.Reading() == 0 })
		if code, _ := h.send(c, retry(1)); code != http.StatusOK {
			t.Fatalf("sent again: %d", code)
		}
		h.wait()
		if n := published(h); n != 1 {
			t.Fatalf("%d home views published, want 1", n)
		}
	})
}
