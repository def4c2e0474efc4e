package conversation_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
)

// roundTrips counts what the client sends: one per command, one per
// pipeline.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// BenchmarkAnswer answers one question through the engine against the real
// Redis and reports Redis round trips per answered question.
func BenchmarkAnswer(b *testing.B) {
	be := redistest.Real(b)
	hook := &roundTrips{}
	be.Client.AddHook(hook)
	e := conversation.New(be.Client, advisor.Default(), conversation.Options{Prefix: be.Prefix, Now: time.Now})
	k := key("bench")
	r, err := e.Start(context.Background(), k)
	if err != nil {
		b.Fatal(err)
	}
	// Load the scripts before timing, as a running server has.
	r = answerFor(b, e, k, r)
	r, _ = e.Restart(context.Background(), k)

	var answers, trips int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r.Question == nil {
			if r, err = e.Restart(context.Background(), k); err != nil {
				b.Fatal(err)
			}
		}
		before := hook.n.Load()
		r = answerFor(b, e, k, r)
		trips += hook.n.Load() - before
		answers++
	}
	b.ReportMetric(float64(trips)/float64(answers), "roundtrips/answer")
}

func answerFor(b *testing.B, e *conversation.Engine, k conversation.Key, r conversation.Reply) conversation.Reply {
	next, err := e.Answer(context.Background(), k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID]})
	if err != nil || (next.Event != conversation.Advanced && next.Event != conversation.Completed) {
		b.Fatalf("answer %s: %s %v", r.Question.ID, next.Event, err)
	}
	return next
}
