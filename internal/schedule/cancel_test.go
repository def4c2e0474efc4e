package schedule

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestCancelMatching cancels one workspace's jobs, held ones included, and
// leaves another workspace's alone, however many there are (more than one
// HSCAN page and more than one cancel chunk).
func TestCancelMatching(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const n = 1200
	for i := range n {
		h.schedule(fmt.Sprintf("user/slack/TGONE/U%d", i), t0.Add(time.Hour), "x")
	}
	h.schedule("manager/slack/TGONE/U1", t0, "held")
	h.schedule("user/slack/TSTAY/U1", t0.Add(time.Hour), "stay")
	h.schedule("user/slack/TGONEX/U1", t0.Add(time.Hour), "a longer ID that merely starts alike")
	// A job a worker holds right now is cancelled too: its claim goes, so the
	// delivery in flight cannot requeue it.
	if cs, err := h.store.claim(ctx, t0, t0.Add(time.Minute), 10); err != nil || len(cs) != 1 {
		t.Fatalf("claim = %+v, %v", cs, err)
	}

	got, err := h.store.CancelMatching(ctx, "*/slack/TGONE/*")
	if err != nil || got != n+1 {
		t.Fatalf("CancelMatching = %d, %v; want %d", got, err, n+1)
	}
	for _, id := range []string{"user/slack/TGONE/U0", "user/slack/TGONE/U1199", "manager/slack/TGONE/U1"} {
		if _, err := h.store.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s after CancelMatching: %v", id, err)
		}
	}
	for _, id := range []string{"user/slack/TSTAY/U1", "user/slack/TGONEX/U1"} {
		if _, err := h.store.Get(ctx, id); err != nil {
			t.Errorf("%s was cancelled too: %v", id, err)
		}
	}
	if z := h.rdb.ZCard(ctx, h.store.p.ScheduleDue()).Val(); z != 2 {
		t.Errorf("due set holds %d entries, want 2", z)
	}
	if c := h.rdb.HLen(ctx, h.store.p.ScheduleClaims()).Val(); c != 0 {
		t.Errorf("claims hash holds %d entries, want 0", c)
	}
	if got, err := h.store.CancelMatching(ctx, "*/slack/TGONE/*"); err != nil || got != 0 {
		t.Errorf("second CancelMatching = %d, %v", got, err)
	}
}
