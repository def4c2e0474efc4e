package redisconn

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pipelined is a client whose hot-path commands (EVALSHA, and SET NX with a
// TTL) are written to Redis together with those of other callers in flight
// at the same moment, as one pipeline: Redis then reads and answers many
// commands per system call instead of one, and so does the bot. Every other
// command, transactions and pipelines included, goes to the client as it is.
//
// Nothing waits to fill a batch. A command goes out at once, alone, while
// fewer than the profile's Pipelines batches are in flight; otherwise it
// joins the next batch, which leaves as soon as one in flight returns. So a
// quiet bot sends each command as before (on its caller's context), and a
// busy one sends them in batches as large as the load makes them.
//
// Each command keeps its caller's limits: a caller whose context ends stops
// waiting at once (its command is not sent if it has not been yet), and a
// batch gives up within the budget a single command has (the profile's
// timeouts and retries) counted from when its oldest command was issued, so
// a command fails within about a second however Redis fails, as one sent
// alone does.
type Pipelined struct {
	redis.UniversalClient
	b *batcher
}

var _ redis.UniversalClient = (*Pipelined)(nil)

// NewPipelined batches c's hot-path commands, at most batches pipelines in
// flight at once; budget bounds a batch's time from its oldest command.
func NewPipelined(c redis.UniversalClient, batches int, budget time.Duration) *Pipelined {
	return &Pipelined{UniversalClient: c, b: &batcher{rdb: c, slots: max(batches, 1), budget: budget}}
}

// Unwrap is the client the commands go through.
func (p *Pipelined) Unwrap() redis.UniversalClient { return p.UniversalClient }

// EvalSha is the client's, batched (redis.Script.Run calls it; a NOSCRIPT
// reply makes Run fall back to Eval, which is not batched).
func (p *Pipelined) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, "evalsha", sha1, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	if len(args) == 1 && !scalar(args[0]) {
		// go-redis spreads a lone slice, map or struct argument; keep its
		// encoding.
		return p.UniversalClient.EvalSha(ctx, sha1, keys, args...)
	}
	a = append(a, args...)
	cmd := redis.NewCmd(ctx, a...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	return batched(ctx, p.b, cmd, func() *redis.Cmd { return redis.NewCmd(ctx, a...) })
}

// scalar reports whether go-redis sends v as one argument even when it is
// a command's only one.
func scalar(v any) bool {
	switch v.(type) {
	case string, []byte, int, int64, int32, uint, uint64, uint32, float64, bool:
		return true
	}
	return false
}

// SetNX is the client's, batched when it sets a TTL in milliseconds or
// seconds (the deduplication claims); any other form goes as it is.
func (p *Pipelined) SetNX(ctx context.Context, key string, value any, expiration time.Duration) *redis.BoolCmd {
	var a []any
	switch {
	case expiration <= 0:
		return p.UniversalClient.SetNX(ctx, key, value, expiration)
	case expiration < time.Second || expiration%time.Second != 0:
		a = []any{"set", key, value, "px", int64(expiration / time.Millisecond), "nx"}
	default:
		a = []any{"set", key, value, "ex", int64(expiration / time.Second), "nx"}
	}
	return batched(ctx, p.b, redis.NewBoolCmd(ctx, a...), func() *redis.BoolCmd { return redis.NewBoolCmd(ctx, a...) })
}

// batched runs cmd through b and returns it, or, when ctx ended first, a
// fresh command (made by fresh) holding ctx's error: cmd itself may still be
// written by the batch, so the caller must never see it then.
func batched[C redis.Cmder](ctx context.Context, b *batcher, cmd C, fresh func() C) C {
	if b.do(ctx, cmd) {
		return cmd
	}
	out := fresh()
	out.SetErr(ctx.Err())
	return out
}

// maxBatch bounds the commands of one pipeline; the rest wait for the next.
const maxBatch = 256

type batcher struct {
	rdb    redis.UniversalClient
	slots  int
	budget time.Duration

	mu      sync.Mutex
	queue   []*call
	running int // batches in flight
}

type call struct {
	ctx  context.Context
	cmd  redis.Cmder
	at   time.Time
	done chan struct{}
}

// do sends cmd and waits for its reply: true when cmd holds it, false when
// ctx ended first.
func (b *batcher) do(ctx context.Context, cmd redis.Cmder) bool {
	if ctx.Err() != nil {
		return false
	}
	c := &call{ctx: ctx, cmd: cmd, at: time.Now(), done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := b.running < b.slots
	if lead {
		b.running++
	}
	b.mu.Unlock()
	if lead {
		// A free slot: this caller sends what is queued (its own command at
		// least) itself, and hands any later batch to a goroutine rather
		// than wait for it.
		b.exec(b.take())
		b.mu.Lock()
		more := len(b.queue) > 0
		if !more {
			b.running--
		}
		b.mu.Unlock()
		if more {
			go b.drain()
		}
	}
	select {
	case <-c.done:
		return true
	case <-ctx.Done():
		select {
		case <-c.done: // both ready: the reply is there
			return true
		default:
			return false
		}
	}
}

// take removes the next batch from the queue.
func (b *batcher) take() []*call {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.queue), maxBatch)
	batch := make([]*call, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	return batch
}

// drain sends batches, holding a slot, until the queue is empty.
func (b *batcher) drain() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.exec(b.take())
	}
}

// exec sends a batch: alone, a command goes on its caller's context as it
// would unbatched; together, on a context that ends budget after the
// oldest was issued. Commands whose caller has stopped waiting are not sent.
func (b *batcher) exec(batch []*call) {
	live := batch[:0]
	var oldest time.Time
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			// Its caller has stopped waiting, or is about to: it reads the
			// command only if it sees done, and then finds this error.
			c.cmd.SetErr(err)
			close(c.done)
			continue
		}
		if len(live) == 0 || c.at.Before(oldest) {
			oldest = c.at
		}
		live = append(live, c)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		_ = b.rdb.Process(live[0].ctx, live[0].cmd)
	default:
		ctx, cancel := context.WithDeadline(context.Background(), oldest.Add(b.budget))
		pipe := b.rdb.Pipeline()
		for _, c := range live {
			_ = pipe.Process(ctx, c.cmd)
		}
		_, _ = pipe.Exec(ctx)
		cancel()
	}
	for _, c := range live {
		close(c.done)
	}
}
