package portfolio_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func slack(ws, user string) conversation.UserKey {
	return conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(ws), User: conversation.UserID(user)}
}

func mgr(ws, user string) revisit.Manager {
	return revisit.Manager{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(ws), Target: user}
}

func dir(t *testing.T, s string) revisit.Directory {
	t.Helper()
	d, err := revisit.ParseDirectory(s, revisit.Platforms{conversation.Slack: {Manager: func(client conversation.WorkspaceID, target string) (revisit.Manager, error) {
		ws, user, ok := cutSlash(target)
		if !ok {
			return revisit.Manager{Workspace: client, Target: target}, nil
		}
		return revisit.Manager{Workspace: conversation.WorkspaceID(ws), Target: user}, nil
	}}, conversation.Teams: {}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func cutSlash(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

// TestSourcesNeverOverlap: a manager's own workspace assigned to them
// stands for the clients who shared with them there; other workspaces'
// sources are their own; a person with two IDs gets each ID's shares.
func TestSourcesNeverOverlap(t *testing.T) {
	d := dir(t, "slack:TA=TP/UM,slack:TB=TP/UM,slack:TP=UM,slack:TC=TP/UOTHER")
	got := portfolio.Sources([]revisit.Manager{mgr("TP", "UM")}, d)
	var names []string
	for _, s := range got {
		if s.Workspace != nil {
			names = append(names, "w:"+string(s.Workspace.Workspace))
		} else {
			names = append(names, "s:"+string(s.Manager.Workspace)+"/"+s.Manager.Target)
		}
	}
	if want := []string{"w:TA", "w:TB", "w:TP"}; !slices.Equal(names, want) {
		t.Fatalf("sources = %v, want %v (TP's shares are all in w:TP)", names, want)
	}
	got = portfolio.Sources([]revisit.Manager{mgr("TX", "U1"), mgr("TX", "U1"), mgr("TX", "U2")}, d)
	if len(got) != 2 || got[0].Manager.Target != "U1" || got[1].Manager.Target != "U2" {
		t.Fatalf("an unassigned person's sources = %+v, want their two IDs' shares", got)
	}
}

// TestPagesWalkTheMergedOrder: clients in three sources, many of them on
// the same second, read n at a time forwards and then backwards, come in
// exactly the order of the whole merged list, each once, in both orders.
func TestPagesWalkTheMergedOrder(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := portfolio.New(b.Client, b.Prefix)
			d := dir(t, "slack:TA=TP/UM,slack:TB=TP/UM")
			// 37 clients: TA and TB assigned, the rest shared with UM in TP;
			// every third on the same second as its neighbour.
			type row struct {
				u        conversation.UserKey
				due, chg time.Time
			}
			var rows []row
			for i := range 37 {
				ws := []string{"TA", "TB", "TQ"}[i%3]
				u := slack(ws, fmt.Sprintf("U%03d", i))
				at := t0.Add(time.Duration(i/3) * time.Hour)
				due := at.AddDate(1, 0, 0).Add(-time.Duration(i%5) * time.Minute)
				rows = append(rows, row{u, due, at})
				if ws == "TQ" {
					if err := s.Share(ctx, u, mgr("TQ", "UM2"), at, due); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := s.Record(ctx, u, at, due); err != nil {
					t.Fatal(err)
				}
			}
			src := portfolio.Sources([]revisit.Manager{mgr("TP", "UM"), mgr("TQ", "UM2")}, d)
			for _, o := range []portfolio.Order{portfolio.ByDue, portfolio.ByChanged} {
				var fwd []portfolio.Entry
				var at portfolio.Cursor
				var last portfolio.Page
				for pages := 0; ; pages++ {
					pg, err := s.Page(ctx, src, o, at, 5)
					if err != nil {
						t.Fatal(err)
					}
					if pg.Total != 37 || pg.Before != len(fwd) {
						t.Fatalf("%s page %d: total %d before %d, want 37 and %d", o, pages, pg.Total, pg.Before, len(fwd))
					}
					fwd = append(fwd, pg.Entries...)
					last = pg
					if pg.Next == "" {
						break
					}
					at = pg.Next
				}
				if len(fwd) != 37 {
					t.Fatalf("%s: walked %d entries, want 37", o, len(fwd))
				}
				seen := map[conversation.UserKey]bool{}
				for i, e := range fwd {
					if seen[e.Client] {
						t.Fatalf("%s: %v twice", o, e.Client)
					}
					seen[e.Client] = true
					if i == 0 {
						continue
					}
					p := fwd[i-1]
					if o == portfolio.ByDue && e.Due.Before(p.Due) || o == portfolio.ByChanged && e.Changed.After(p.Changed) {
						t.Fatalf("%s: entry %d (%v %v) out of order after %v %v", o, i, e.Due, e.Changed, p.Due, p.Changed)
					}
				}
				for _, r := range rows {
					var e portfolio.Entry
					for _, f := range fwd {
						if f.Client == r.u {
							e = f
						}
					}
					if !e.Due.Equal(r.due) || !e.Changed.Equal(r.chg) {
						t.Fatalf("%s: %v due %v changed %v, want %v %v", o, r.u, e.Due, e.Changed, r.due, r.chg)
					}
				}
				// Backwards from the last page gives the same entries.
				var back []portfolio.Entry
				pg := last
				for pg.Prev != "" {
					if pg, err := s.Page(ctx, src, o, pg.Prev, 5); err != nil {
						t.Fatal(err)
					} else {
						back = append(pg.Entries, back...)
						last = pg
					}
					pg = last
				}
				back = append(back, fwd[len(fwd)-len(lastPage(fwd, 5)):]...)
				if !slices.EqualFunc(back, fwd, func(a, b portfolio.Entry) bool { return a.Client == b.Client }) {
					t.Fatalf("%s: backwards %d entries differ from forwards %d", o, len(back), len(fwd))
				}
			}
		})
	}
}

func lastPage(es []portfolio.Entry, n int) []portfolio.Entry {
	k := len(es) % n
	if k == 0 {
		k = n
	}
	return es[len(es)-k:]
}

// TestShareMovesEraseRemovesSnoozeMoves: a client who shares again leaves
// the first manager's desk; snooze moves their due date everywhere; forget
// takes them off every desk and leaves no desk key.
func TestShareMovesEraseRemovesSnoozeMoves(t *testing.T) {
	b := redistest.Real(t)
	ctx := context.Background()
	s := portfolio.New(b.Client, b.Prefix)
	d := dir(t, "slack:TA=TP/UM")
	ana := slack("TA", "UANA")
	if err := s.Record(ctx, ana, t0, t0.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Share(ctx, ana, mgr("TA", "U1"), t0, t0.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Share(ctx, ana, mgr("TA", "U2"), t0, t0.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	sees := func(who revisit.Manager) bool {
		ok, err := s.Sees(ctx, portfolio.Sources([]revisit.Manager{who}, d), ana)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if sees(mgr("TA", "U1")) || !sees(mgr("TA", "U2")) || !sees(mgr("TP", "UM")) || sees(mgr("TP", "UOTHER")) {
		t.Fatalf("after sharing again: U1 %v U2 %v UM %v UOTHER %v; want only U2 and the assigned UM",
			sees(mgr("TA", "U1")), sees(mgr("TA", "U2")), sees(mgr("TP", "UM")), sees(mgr("TP", "UOTHER")))
	}
	later := t0.AddDate(1, 2, 0)
	if err := s.Snooze(ctx, ana, later); err != nil {
		t.Fatal(err)
	}
	for _, who := range []revisit.Manager{mgr("TA", "U2"), mgr("TP", "UM")} {
		pg, err := s.Page(ctx, portfolio.Sources([]revisit.Manager{who}, d), portfolio.ByDue, "", 10)
		if err != nil || len(pg.Entries) != 1 || !pg.Entries[0].Due.Equal(later) {
			t.Fatalf("%v after snooze: %+v %v", who, pg, err)
		}
	}
	n, err := s.Erase(ctx, ana)
	if err != nil || n != 1 {
		t.Fatalf("erase = %d, %v", n, err)
	}
	if sees(mgr("TA", "U2")) || sees(mgr("TP", "UM")) {
		t.Fatal("forgotten client still on a desk")
	}
	if left := redistest.Keys(t, b.Client, b.Prefix); len(left) != 0 {
		t.Fatalf("keys left after forget: %v", left)
	}
	if n, err := s.Erase(ctx, ana); err != nil || n != 0 {
		t.Fatalf("second erase = %d, %v", n, err)
	}
}

func TestBadCursorsAreRefused(t *testing.T) {
	b := redistest.Real(t)
	s := portfolio.New(b.Client, b.Prefix)
	src := portfolio.Sources([]revisit.Manager{mgr("TA", "U1")}, nil)
	for _, c := range []portfolio.Cursor{"x", "n|1|1", "n|a|1|slack:T:U", "n|1|9|slack:T:U", "n|1|1|nope", "q|1|1|slack:T:U"} {
		if _, err := s.Page(context.Background(), src, portfolio.ByDue, c, 5); err == nil {
			t.Errorf("cursor %q accepted", c)
		}
	}
}
