package redistest

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// RoundTrips is a client hook (AddHook) counting what the client sends
// Redis while it is on: a command alone or a pipeline, one round trip each.
type RoundTrips struct {
	mu   sync.Mutex
	on   bool
	n    int
	cmds []string
}

func (c *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (c *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		name := "pipeline"
		for _, cmd := range cmds {
			name += " " + cmd.Name()
		}
		c.add(name)
		return next(ctx, cmds)
	}
}

func (c *RoundTrips) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.n++
		c.cmds = append(c.cmds, name)
	}
}

// Count returns the round trips counted since the last Count, and their
// commands in order, then counts from now on (on) or stops.
func (c *RoundTrips) Count(on bool) (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, cmds := c.n, c.cmds
	c.on, c.n, c.cmds = on, 0, nil
	return n, cmds
}
