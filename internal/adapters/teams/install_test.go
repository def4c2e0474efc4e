package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	team      = "19:team@thread.tacv2" // a team's General channel, as conversationUpdate names it
	groupChat = "19:0a1b2c3d4e5f@thread.v2"
)

// install is the activity Teams sends when someone adds itfit to conv:
// conversationUpdate with the bot in membersAdded, or installationUpdate
// with action add (or add-upgrade, remove).
func (f *fixture) install(from person, conv, kind, action string) map[string]any {
	a := f.activity(from, personal, "")
	delete(a, "localTimezone")
	switch conv {
	case personal:
	case groupChat:
		a["conversation"] = map[string]any{"isGroup": true, "conversationType": "groupChat", "tenantId": tenant, "id": groupChat}
		a["channelData"] = map[string]any{"tenant": map[string]any{"id": tenant}}
	default:
		a["conversation"] = map[string]any{"isGroup": true, "conversationType": "channel", "tenantId": tenant, "id": conv}
		a["channelData"] = map[string]any{"team": map[string]any{"id": conv, "name": "Finance"}, "tenant": map[string]any{"id": tenant}}
	}
	a["type"] = kind
	switch kind {
	case "conversationUpdate":
		a["membersAdded"] = []any{map[string]any{"id": botID}}
		if conv != personal && conv != groupChat {
			a["channelData"].(map[string]any)["eventType"] = "teamMemberAdded"
		}
	case "installationUpdate":
		a["action"] = action
	}
	return a
}

// TestWelcomeOncePerConversation: itfit added to a team or a group chat
// says one short hello (a new message, not a reply) with how to start;
// the conversationUpdate and installationUpdate of one install, and
// redeliveries of either, bring that one message; an upgrade of an app
// already greeted says nothing; removed and added back, it greets again. A
// personal install gets the help once.
func TestWelcomeOncePerConversation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		name, conv string
	}{{"team", team}, {"group chat", groupChat}} {
		t.Run(c.name, func(t *testing.T) {
			added := f.install(bob, c.conv, "conversationUpdate", "")
			if code := f.post(added); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			out := f.take()
			if len(out) != 1 || out[0].Method != http.MethodPost || out[0].Path != "v3/conversations/"+c.conv+"/activities" ||
				!strings.Contains(out[0].Text, "Mention me to start your own") || !strings.Contains(out[0].Text, "**help** lists") {
				t.Fatalf("welcome: %v", out)
			}
			snap := fullSnapshot(t, f)
			welcomes := 0
			for k := range snap {
				if strings.Contains(k, ":teams:welcome:") {
					welcomes++
					if ttl := f.rb.Client.PTTL(ctx, k).Val(); ttl < 29*24*time.Hour || ttl > 30*24*time.Hour {
						t.Errorf("welcome mark TTL %v", ttl)
					}
				}
			}
			if welcomes == 0 {
				t.Fatal("no welcome mark")
			}
			// The same event again, the installationUpdate of the same
			// install, and an upgrade: nothing sent, nothing stored.
			for _, again := range []map[string]any{added, f.install(bob, c.conv, "installationUpdate", "add"), f.install(ana, c.conv, "installationUpdate", "add-upgrade")} {
				if code := f.post(again); code != http.StatusOK {
					t.Fatalf("status %d", code)
				}
				if out := f.take(); len(out) != 0 {
					t.Fatalf("greeted twice: %v", out)
				}
				assertSame(t, snap, fullSnapshot(t, f))
			}
			// Removed, then added back: greeted again.
			f.post(f.install(bob, c.conv, "installationUpdate", "remove"))
			if out := f.take(); len(out) != 0 {
				t.Fatalf("remove sent %v", out)
			}
			f.post(f.install(ana, c.conv, "installationUpdate", "add"))
			if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "Mention me") {
				t.Fatalf("welcome after re-adding: %v", out)
			}
		})
	}
	t.Run("personal", func(t *testing.T) {
		added := f.install(ana, personal, "conversationUpdate", "")
		f.post(added)
		out := f.take()
		if len(out) != 1 || out[0].Path != "v3/conversations/"+personal+"/activities" || !strings.Contains(out[0].Text, "Send me any message to start") {
			t.Fatalf("personal hello: %v", out)
		}
		f.post(added)
		f.post(f.install(ana, personal, "installationUpdate", "add"))
		if out := f.take(); len(out) != 0 {
			t.Fatalf("personal hello twice: %v", out)
		}
	})
}

// assertSame fails for every key added, changed or deleted between two
// snapshots.
func assertSame(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range after {
		if b, ok := before[k]; !ok {
			t.Errorf("%s added: %q", k, v)
		} else if b != v {
			t.Errorf("%s changed: %q -> %q", k, b, v)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("%s deleted", k)
		}
	}
}
