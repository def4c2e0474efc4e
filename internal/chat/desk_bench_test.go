package chat

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
)

// roundTrips counts what a client sends: a command or a pipeline is one
// round trip (per node, on a Cluster).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// BenchmarkDeskPage builds a page of a manager's desk among 10,000
// clients in three sources (two assigned workspaces and the clients who
// shared with them), first and last pages, in both orders: the page's IDs
// (one script) and its clients' two latest results (one pipeline).
//
//	ITFIT_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench DeskPage -benchtime=200x ./internal/chat/
func BenchmarkDeskPage(b *testing.B) {
	rb := redistest.Real(b)
	ctx := context.Background()
	a := advisor.Default()
	e := conversation.New(rb.Client, a, conversation.Options{Prefix: rb.Prefix})
	desk := portfolio.New(rb.Client, rb.Prefix)
	dir, err := revisit.ParseDirectory("slack:TA=TP/UM,slack:TB=TP/UM", revisit.Platforms{conversation.Slack: {Manager: func(_ conversation.WorkspaceID, target string) (revisit.Manager, error) {
		return revisit.Manager{Platform: conversation.Slack, Workspace: "TP", Target: target[len("TP/"):]}, nil
	}}})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Engine: e, Eraser: &erasure.Registry{}, Claims: conversation.NewClaims(rb.Client, rb.Prefix, 0, nil), Desk: desk, Managers: dir})
	if err != nil {
		b.Fatal(err)
	}
	// One real audit, its history copied to every client (COPY, pipelined).
	seed := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "TS", User: "USEED"}, Conversation: "D"}
	r, err := e.Start(ctx, seed)
	if err != nil {
		b.Fatal(err)
	}
	for q, ok := a.Next(nil); ok; q, ok = a.Next(r.Answers) {
		if r, err = e.Answer(ctx, seed, conversation.Answer{Rev: r.Rev, Question: q.ID, Options: []advisor.OptionID{q.Options[0].ID}}); err != nil {
			b.Fatal(err)
		}
	}
	src := rb.Prefix.History("slack", "TS", "USEED")
	const n = 10000
	clients := make([]conversation.UserKey, n)
	for i := range clients {
		ws := "TA"
		switch {
		case i%100 == 0:
			ws = "TP" // shared with UM
		case i%10 == 0:
			ws = "TB"
		}
		clients[i] = conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(ws), User: conversation.UserID(fmt.Sprintf("U%05d", i))}
	}
	if _, err := rb.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range clients {
			p.Copy(ctx, src, rb.Prefix.History(string(c.Platform), string(c.Workspace), string(c.User)), 0, true)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	done := time.Now()
	for i, c := range clients {
		at := done.Add(-time.Duration(i) * time.Minute)
		if c.Workspace == "TP" {
			err = desk.Share(ctx, c, revisit.Manager{Platform: conversation.Slack, Workspace: "TP", Target: "UM"}, at, advisor.AddMonths(at, 12))
		} else {
			err = desk.Record(ctx, c, at, advisor.AddMonths(at, 12))
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	who := Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "TP", User: "UM"}}}
	if got := len(s.sources(who)); got != 3 {
		b.Fatalf("%d sources", got)
	}
	count := &roundTrips{}
	rb.Client.AddHook(count)
	for _, o := range []portfolio.Order{portfolio.ByDue, portfolio.ByChanged} {
		// The last page's cursor.
		var last portfolio.Cursor
		for at := portfolio.Cursor(""); ; {
			pg, err := desk.Page(ctx, s.sources(who), o, at, portfolio.MaxPage)
			if err != nil {
				b.Fatal(err)
			}
			if pg.Next == "" {
				last = portfolio.Cursor("n|" + string(pg.Prev)[2:])
				break
			}
			at = pg.Next
		}
		for name, at := range map[string]portfolio.Cursor{"first": "", "deep": last} {
			b.Run(string(o)+"/"+name, func(b *testing.B) {
				count.n.Store(0)
				for b.Loop() {
					d, ok, err := s.deskPage(ctx, who, o, at)
					if err != nil || !ok || len(d.Clients) == 0 || d.Page.Total != n {
						b.Fatalf("page: %d clients of %d, %v %v", len(d.Clients), d.Page.Total, ok, err)
					}
				}
				b.ReportMetric(float64(count.n.Load())/float64(b.N), "roundtrips/op")
			})
		}
	}
}
