package erasure_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/redistest"
)

var ann = conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}

// TestGuardRunsOneForgetOfABurst: twenty forgets of one person at once run
// the erasers once; the rest are told it ran moments ago; another person
// is not held up; after the window a forget runs again.
func TestGuardRunsOneForgetOfABurst(t *testing.T) {
	be := redistest.Real(t)
	var runs atomic.Int64
	r := &erasure.Registry{}
	r.Guard(be.Client, be.Prefix, 300*time.Millisecond)
	r.Register("count", erasure.Func(func(context.Context, conversation.UserKey) (erasure.Counts, error) {
		runs.Add(1)
		return erasure.Counts{Other: 1}, nil
	}))
	var wg sync.WaitGroup
	var tooSoon atomic.Int64
	for range 20 {
		wg.Go(func() {
			_, err := r.Forget(context.Background(), ann)
			switch {
			case errors.Is(err, erasure.ErrTooSoon):
				tooSoon.Add(1)
			case err != nil:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if runs.Load() != 1 || tooSoon.Load() != 19 {
		t.Fatalf("%d runs and %d refusals of 20 forgets, want 1 and 19", runs.Load(), tooSoon.Load())
	}
	bob := conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U2"}
	if _, err := r.Forget(context.Background(), bob); err != nil {
		t.Fatalf("another person's forget: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := r.Forget(context.Background(), ann); err != nil || runs.Load() != 3 {
		t.Fatalf("after the window: %v, %d runs", err, runs.Load())
	}
}

// TestGuardLetsAFailedForgetBeRetried: a forget whose store failed leaves
// no guard behind, so pressing again runs at once.
func TestGuardLetsAFailedForgetBeRetried(t *testing.T) {
	be := redistest.Real(t)
	fail := true
	r := &erasure.Registry{}
	r.Guard(be.Client, be.Prefix, time.Minute)
	r.Register("flaky", erasure.Func(func(context.Context, conversation.UserKey) (erasure.Counts, error) {
		if fail {
			return erasure.Counts{}, errors.New("store down")
		}
		return erasure.Counts{Sessions: 1}, nil
	}))
	if _, err := r.Forget(context.Background(), ann); err == nil {
		t.Fatal("the failing store's error was lost")
	}
	fail = false
	c, err := r.Forget(context.Background(), ann)
	if err != nil || c.Sessions != 1 {
		t.Fatalf("retry after a failure: %+v, %v", c, err)
	}
}
