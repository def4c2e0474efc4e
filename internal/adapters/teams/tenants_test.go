package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/adapters/teams"
)

// TestTenantsNotServedAreRefused: with an allow-list (a single-tenant bot's
// own tenant, or ITFIT_TEAMS_TENANTS), an authentic activity of any other
// tenant, or of none, gets 403: nothing is sent, Redis is unchanged key by
// key (a full dump of every key and value before and after), and the log
// names the tenant by its first 8 characters only. The tenants served work
// as before.
func TestTenantsNotServedAreRefused(t *testing.T) {
	const second = "11111111-2222-4333-8444-555555555555"
	f := newFixtureWith(t, fixtureOptions{tenants: []string{strings.ToUpper(tenant), second}})
	ctx := context.Background()

	// A served tenant: Ana's audit starts, and is there to be left alone.
	f.post(f.activity(ana, personal, "hi"))
	if out := f.take(); len(out) != 1 || out[0].Card == nil {
		t.Fatalf("served tenant: %v", out)
	}
	other := func(a map[string]any) map[string]any {
		a["channelData"].(map[string]any)["tenant"] = map[string]any{"id": otherTenant}
		a["conversation"].(map[string]any)["tenantId"] = otherTenant
		return a
	}
	cases := []struct {
		name string
		a    map[string]any
	}{
		{"message", other(f.activity(ana, personal, "hi"))},
		{"channel mention", other(f.mention(bob, channel+";messageid=1700000000400", "start"))},
		{"card submit", other(f.submit(ana, personal, "sent-1", map[string]any{"itfit": "restart", "user": ana.aad}))},
		{"install", other(f.install(bob, team, "conversationUpdate", ""))},
		{"installationUpdate", other(f.install(bob, groupChat, "installationUpdate", "add"))},
		{"invoke", other(func() map[string]any {
			a := f.activity(ana, personal, "")
			a["type"], a["name"] = "invoke", "adaptiveCard/action"
			a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "data": map[string]any{"itfit": "restart", "user": ana.aad}}}
			return a
		}())},
		{"other tenant in channelData only", func() map[string]any {
			a := f.activity(ana, personal, "hi")
			a["channelData"].(map[string]any)["tenant"] = map[string]any{"id": otherTenant}
			delete(a["conversation"].(map[string]any), "tenantId")
			return a
		}()},
		{"no tenant at all", func() map[string]any {
			a := f.activity(ana, personal, "hi")
			delete(a, "channelData")
			delete(a["conversation"].(map[string]any), "tenantId")
			return a
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := fullSnapshot(t, f)
			if code := f.post(c.a); code != http.StatusForbidden {
				t.Errorf("status %d, want 403", code)
			}
			if out := f.take(); len(out) != 0 {
				t.Errorf("sent %v", out)
			}
			assertSame(t, before, fullSnapshot(t, f))
		})
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "tenant this bot does not serve") || !strings.Contains(logs, otherTenant[:8]+"…") || strings.Contains(logs, otherTenant) {
		t.Errorf("refusals not logged with the tenant truncated:\n%s", logs)
	}
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 1 {
		t.Errorf("Ana's audit: %+v", st)
	}

	// The second tenant on the list is served.
	b := f.activity(bob, personal, "hi")
	b["channelData"].(map[string]any)["tenant"] = map[string]any{"id": second}
	b["conversation"] = map[string]any{"conversationType": "personal", "tenantId": second, "id": bobChat}
	if code := f.post(b); code != http.StatusOK {
		t.Fatalf("second tenant: %d", code)
	}
	if out := f.take(); len(out) != 1 || out[0].Card == nil {
		t.Fatalf("second tenant: %v", out)
	}
}

func TestParseTenants(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{" , ", nil, false},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", []string{tenant}, false},
		{tenant + ", 11111111-2222-4333-8444-555555555555", []string{tenant, "11111111-2222-4333-8444-555555555555"}, false},
		{"contoso.onmicrosoft.com", nil, true},
		{tenant + ";x", nil, true},
	} {
		got, err := teams.ParseTenants(c.in)
		if (err != nil) != c.err || strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("ParseTenants(%q) = %v, %v", c.in, got, err)
		}
	}
}
