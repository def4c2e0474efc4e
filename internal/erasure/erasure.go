// Package erasure is "forget me" as a concern of its own: every store that
// keeps something about a person registers an Eraser, and Forget runs them
// all. Each eraser deletes keys it can name (a user's keys share a hash tag
// and are known by name), so a forget costs commands in proportion to what
// the user has, never a scan of the keyspace.
package erasure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
)

// ErrTooSoon is Forget refusing to run again for a person whose forget is
// running, or finished moments ago (see Registry.Guard).
var ErrTooSoon = errors.New("erasure: a forget of this person ran moments ago")

// Counts says what was erased, in the groups a person is told about.
type Counts struct {
	Sessions  int // audits in progress or just finished
	Results   int // completed results
	Reminders int // scheduled nudges
	Other     int // everything else: where to reach them, their manager, button records
}

// Add sums two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{Sessions: c.Sessions + o.Sessions, Results: c.Results + o.Results, Reminders: c.Reminders + o.Reminders, Other: c.Other + o.Other}
}

// Total is everything erased.
func (c Counts) Total() int { return c.Sessions + c.Results + c.Reminders + c.Other }

// Eraser deletes everything one store holds about a person.
type Eraser interface {
	Erase(ctx context.Context, u conversation.UserKey) (Counts, error)
}

// Func is an Eraser written as a function.
type Func func(ctx context.Context, u conversation.UserKey) (Counts, error)

// Erase calls f.
func (f Func) Erase(ctx context.Context, u conversation.UserKey) (Counts, error) { return f(ctx, u) }

// Registry runs every registered eraser, in the order registered: the
// scheduler first, so that no nudge goes out about data being erased.
type Registry struct {
	erasers []named
	guard   *guard
}

type guard struct {
	rdb    redis.UniversalClient
	p      keys.Prefix
	window time.Duration
}

// Guard limits forget to once per window per person, on every replica
// sharing rdb: a burst of forgets (a double press, a script) runs the
// erasers once, and the others get ErrTooSoon. The guard key lives under
// the person's own hash tag, holds nothing but "1" and expires after
// window; a forget that fails removes it, so a retry runs at once.
func (r *Registry) Guard(rdb redis.UniversalClient, p keys.Prefix, window time.Duration) {
	r.guard = &guard{rdb: rdb, p: p, window: window}
}

type named struct {
	name string
	e    Eraser
}

// Register adds a store's eraser. Call it while wiring, before serving.
func (r *Registry) Register(name string, e Eraser) {
	r.erasers = append(r.erasers, named{name, e})
}

// Forget erases the person from every store. It stops at the first
// failure and says which store failed; running it again finishes the job,
// since each eraser only deletes.
func (r *Registry) Forget(ctx context.Context, u conversation.UserKey) (Counts, error) {
	var key string
	if g := r.guard; g != nil {
		key = g.p.ForgetGuard(string(u.Platform), string(u.Workspace), string(u.User))
		first, err := g.rdb.SetNX(ctx, key, "1", g.window).Result()
		if err != nil {
			return Counts{}, fmt.Errorf("forget (guard): %w", err)
		}
		if !first {
			return Counts{}, ErrTooSoon
		}
	}
	var total Counts
	for _, n := range r.erasers {
		c, err := n.e.Erase(ctx, u)
		total = total.Add(c)
		if err != nil {
			if key != "" {
				// Let the person try again now rather than after the window;
				// the context may be the failure, so use a fresh one.
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				r.guard.rdb.Del(dctx, key)
				cancel()
			}
			return total, fmt.Errorf("forget (%s): %w", n.name, err)
		}
	}
	return total, nil
}

// Sessions is the conversation engine's part: a person's audits and
// results (*conversation.Engine).
func Sessions(e interface {
	Forget(ctx context.Context, u conversation.UserKey) (conversation.Erased, error)
}) Eraser {
	return Func(func(ctx context.Context, u conversation.UserKey) (Counts, error) {
		er, err := e.Forget(ctx, u)
		return Counts{Sessions: er.Sessions, Results: er.Results}, err
	})
}

// Other is a store whose keys about a person are counted as "other
// records" (claims, conversation references).
func Other(e interface {
	Erase(ctx context.Context, u conversation.UserKey) (int, error)
}) Eraser {
	return Func(func(ctx context.Context, u conversation.UserKey) (Counts, error) {
		n, err := e.Erase(ctx, u)
		return Counts{Other: n}, err
	})
}
