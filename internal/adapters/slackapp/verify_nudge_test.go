package slackapp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/schedule"
)

// A scheduled nudge goes out tagged with its occurrence, and when Slack's
// answer is lost after it posted (a 500) the scheduler finds the tagged
// message in the conversation's history and does not post it again; when
// the history cannot be read (a workspace installed before the history
// scopes) it falls back to the counted resend; a 500 from a Slack that
// did not post finds nothing and posts once.
func TestAmbiguousNudgeIsVerifiedInTheHistory(t *testing.T) {
	for _, tc := range []struct {
		name, managers, channel string
		manager                 bool
		posted                  bool   // the 500 came after Slack posted
		history                 string // Slack's error for conversations.history
		want                    int    // nudges in the channel at the end
	}{
		{name: "user: 500 after posting, found", channel: "DU1", posted: true, want: 1},
		{name: "user: 500 before posting, sent once", channel: "DU1", want: 1},
		{name: "user: no im:history, resent once", channel: "DU1", posted: true, history: "missing_scope", want: 2},
		{name: "manager in a DM: 500 after posting, found", managers: "slack:T1=UMGR", channel: "DUMGR", manager: true, posted: true, want: 1},
		{name: "manager channel: 500 after posting, found", managers: "slack:T1=CACCT", channel: "CACCT", manager: true, posted: true, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.managers)
			r.remindFromCard("U1")
			nudges := func() []sent {
				var out []sent
				for _, s := range r.postsTo(tc.channel) {
					if tc.manager && isManagerNudge(s) || !tc.manager && isNudge(s) {
						out = append(out, s)
					}
				}
				return out
			}
			r.api.mu.Lock()
			if tc.posted {
				r.api.status["chat.postMessage"] = 500
			} else {
				r.api.refuse["chat.postMessage"] = 500
			}
			if tc.history != "" {
				r.api.failing["conversations.history"] = tc.history
			}
			r.api.mu.Unlock()
			r.clock.Add(revisitAfter + time.Second)
			r.deliver()
			ambiguous := 0
			for _, err := range r.deliveries() {
				if errors.Is(err, schedule.ErrAmbiguous) {
					ambiguous++
				}
			}
			if ambiguous == 0 {
				t.Fatalf("the 500 was not ambiguous: %v", r.deliveries())
			}
			r.api.mu.Lock()
			delete(r.api.status, "chat.postMessage")
			delete(r.api.refuse, "chat.postMessage")
			r.api.mu.Unlock()

			r.clock.Add(time.Minute + time.Second) // AmbiguousDelay
			r.deliver()
			r.clock.Add(time.Hour)
			r.deliver()

			got := nudges()
			if len(got) != tc.want {
				t.Fatalf("%d nudges in %s, want %d", len(got), tc.channel, tc.want)
			}
			for _, s := range got {
				md, _ := s.call.JSON["metadata"].(map[string]any)
				payload, _ := md["event_payload"].(map[string]any)
				occ, _ := payload["occurrence"].(string)
				if md["event_type"] != "itfit_nudge" || !strings.Contains(occ, "/slack/T1/U1@") {
					t.Errorf("nudge metadata = %v, want its occurrence", s.call.JSON["metadata"])
				}
			}
			for _, id := range []string{"user/slack/T1/U1", "manager/slack/T1/U1"} {
				if _, err := r.sched.Get(t.Context(), id); err == nil {
					t.Errorf("%s still scheduled", id)
				}
			}
			if n := len(r.api.all("conversations.history")); n == 0 && tc.history == "" {
				t.Error("the history was never read")
			}
		})
	}
}
