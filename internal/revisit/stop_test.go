package revisit_test

import (
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
)

func keyIn(ws, user string) conversation.Key {
	return conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(ws), User: conversation.UserID(user)}, Conversation: "D1"}
}

// TestStopWorkspace: an uninstalled workspace's user and manager nudges go,
// another workspace's (and one whose ID merely starts alike) stay; an
// org-wide ID ("E1:") stops every workspace of that organisation.
func TestStopWorkspace(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b, 30*time.Second, "slack:TA=TP/UMGR,slack:TAB=UMGR2,slack:E1:T2=TP/CACCT")
			users := []conversation.Key{keyIn("TA", "U1"), keyIn("TA", "U2"), keyIn("TAB", "U1"), keyIn("TB", "U1"), keyIn("E1:T2", "U1"), keyIn("E1:T3", "U1"), keyIn("E2:T2", "U1")}
			for _, k := range users {
				f.complete(t, k)
				if _, err := f.svc.Remind(ctx, k, ""); err != nil {
					t.Fatal(err)
				}
			}
			scheduled := func(k conversation.Key) int {
				rs, err := f.svc.List(ctx, k.UserKey)
				if err != nil {
					t.Fatal(err)
				}
				return len(rs)
			}
			if n, err := f.svc.StopWorkspace(ctx, conversation.Slack, "TA"); err != nil || n != 4 {
				t.Fatalf("StopWorkspace(TA) = %d, %v; want 2 user and 2 manager nudges", n, err)
			}
			if n, err := f.svc.StopWorkspace(ctx, conversation.Slack, "E1:"); err != nil || n != 3 {
				t.Fatalf("StopWorkspace(E1:) = %d, %v; want 2 user and 1 manager nudges", n, err)
			}
			want := map[string]int{"TA/U1": 0, "TA/U2": 0, "TAB/U1": 2, "TB/U1": 1, "E1:T2/U1": 0, "E1:T3/U1": 0, "E2:T2/U1": 1}
			for _, k := range users {
				if got := scheduled(k); got != want[string(k.Workspace)+"/"+string(k.User)] {
					t.Errorf("%s/%s has %d nudges left", k.Workspace, k.User, got)
				}
			}
			if _, err := f.svc.StopWorkspace(ctx, conversation.Slack, ""); err == nil {
				t.Error("StopWorkspace with no workspace would stop every workspace")
			}
		})
	}
}
