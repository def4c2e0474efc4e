package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// fakeServer is the http.Server behind a platform's fakes. It remembers when
// the bot last called it, so that the run can end once the bot has gone
// quiet: the bot's last calls of a run (marking the question before the card
// answered) come after the user has seen the card, and closing at once made
// them fail against a closed port and fill the bot's log.
type fakeServer struct {
	*http.Server
	last atomic.Int64 // unix nanoseconds of the latest request
}

func newFakeServer(h http.Handler) *fakeServer {
	f := &fakeServer{}
	f.Server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.last.Store(time.Now().UnixNano())
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return f
}

// settleFor and settleLimit: the bot counts as quiet after settleFor without
// a call; the fakes close after settleLimit whatever it does.
const (
	settleFor   = 250 * time.Millisecond
	settleLimit = 3 * time.Second
)

// Close waits for the bot to go quiet, then shuts the server down.
func (f *fakeServer) Close() {
	deadline := time.Now().Add(settleLimit)
	for time.Now().Before(deadline) {
		idle := time.Since(time.Unix(0, f.last.Load()))
		if idle >= settleFor {
			break
		}
		time.Sleep(settleFor - idle)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.Shutdown(ctx)
}
