package webhooks_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/webhooks"
)

// assigned gives ana an account manager, so her results may be sent.
func assigned(us ...conversation.UserKey) managers {
	m := managers{}
	for _, u := range us {
		m[u] = revisit.Manager{Platform: u.Platform, Workspace: "T0PROVIDER", Target: "U0MANAGER"}
	}
	return m
}

// Every event goes out once, signed, in order, and nothing more comes.
func TestEachEventDeliveredOnceWithValidSignature(t *testing.T) {
	ana := user("U0ANA")
	h := newHarness(t, setup{managers: assigned(ana)})

	h.svc.Completed(ctx, ana, "Ana Ruiz", h.completion(-1, true)) // audit.completed, verdict.changed
	h.svc.Shared(ctx, ana, "Ana Ruiz")
	occurrence := "user/slack/T0CLIENT/U0ANA@" + "1900000000000"
	if err := h.svc.RevisitDue(ctx, conversation.Key{UserKey: ana}, result(t, -1, t0), t0, occurrence); err != nil {
		t.Fatal(err)
	}
	want := []string{"audit.completed", "verdict.changed", "result.shared", "revisit.due"}
	h.until("four events", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == len(want) })
	if _, err := h.svc.Erase(ctx, ana); err != nil {
		t.Fatal(err)
	}
	want = append(want, "user.forgotten")
	h.until("user.forgotten", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == len(want) })

	// Long after, still exactly one of each.
	for range 5 {
		h.clock.Advance(time.Hour)
		h.settle(3)
	}
	got := h.recv.got()
	if !slices.Equal(types(got), want) {
		t.Fatalf("got %v, want each once in order: %v", types(got), want)
	}
	ids := map[string]bool{}
	for _, g := range got {
		if ids[g.ID] {
			t.Errorf("webhook-id %s delivered twice", g.ID)
		}
		ids[g.ID] = true
		if g.User != "U0ANA" {
			t.Errorf("%s names user %q", g.Type, g.User)
		}
	}

	// What the full payload says.
	var completed struct {
		Data struct {
			User       struct{ Name string }
			Disclosure string
			Result     struct {
				Verdict string
				Reasons []struct{ Question, Option, Text string }
			}
			Changes struct {
				VerdictChanged bool `json:"verdict_changed"`
			}
		}
	}
	if err := json.Unmarshal(got[0].Body, &completed); err != nil {
		t.Fatal(err)
	}
	d := completed.Data
	if d.Disclosure != "full" || d.User.Name != "Ana Ruiz" || d.Result.Verdict != "co-managed" || len(d.Result.Reasons) == 0 ||
		d.Result.Reasons[0].Option == "" || d.Result.Reasons[0].Text == "" || !d.Changes.VerdictChanged {
		t.Errorf("audit.completed for a person with a manager lacks the result: %s", got[0].Body)
	}
	if !strings.Contains(string(got[2].Body), `"manager":{"platform":"slack","workspace":"T0PROVIDER","id":"U0MANAGER"}`) {
		t.Errorf("result.shared does not name the manager: %s", got[2].Body)
	}
	if n := h.metric("crm", "delivered"); n != 5 {
		t.Errorf("itfit_webhook_deliveries_total{endpoint=crm,outcome=delivered} = %v, want 5", n)
	}
}

// metric reads itfit_webhook_deliveries_total for an endpoint and outcome.
func (h *harness) metric(endpoint, outcome string) float64 {
	h.t.Helper()
	mfs, err := h.metrics.Registry().Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "itfit_webhook_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["endpoint"] == endpoint && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Without an account manager an event says only what happened to whom:
// no result, no name, and no verdict.changed (that it moved is a result).
func TestIDsOnlyForPeopleWithoutAManager(t *testing.T) {
	bo := user("U0BO")
	h := newHarness(t, setup{})
	h.svc.Completed(ctx, bo, "Bo Chen", h.completion(+1, true))
	h.svc.Shared(ctx, bo, "Bo Chen")
	h.until("two events", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == 2 })
	h.settle(3)
	got := h.recv.got()
	if !slices.Equal(types(got), []string{"audit.completed", "result.shared"}) {
		t.Fatalf("got %v", types(got))
	}
	for _, g := range got {
		var p struct {
			Data map[string]json.RawMessage
		}
		if err := json.Unmarshal(g.Body, &p); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range p.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"disclosure", "platform", "user", "workspace"}) || string(p.Data["disclosure"]) != `"ids"` ||
			strings.Contains(string(g.Body), "Bo Chen") {
			t.Errorf("%s without a manager says more than IDs: %s", g.Type, g.Body)
		}
	}
}

// A receiver answering 500 then 200 gets the event once more, with the
// same webhook-id and body, and only after the backoff.
func TestFailedDeliveryIsRetriedWithTheSameID(t *testing.T) {
	ana := user("U0ANA")
	h := newHarness(t, setup{managers: assigned(ana)})
	var mu sync.Mutex
	calls := 0
	h.recv.setAnswer(func(hit, http.ResponseWriter) int {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	h.until("first attempt", time.Second, time.Minute, func() bool { return len(h.recv.got()) == 1 })
	h.settle(5)
	if n := len(h.recv.got()); n != 1 {
		t.Fatalf("retried before any time passed: %d requests", n)
	}
	h.until("the retry", time.Second, time.Minute, func() bool { return len(h.recv.got()) == 2 })
	for range 3 {
		h.clock.Advance(time.Hour)
		h.settle(3)
	}
	got := h.recv.got()
	if len(got) != 2 || got[0].Status != 500 || got[1].Status != 200 {
		t.Fatalf("want 500 then 200, got %s", summary(got))
	}
	if got[0].ID != got[1].ID || string(got[0].Body) != string(got[1].Body) {
		t.Errorf("the retry is another event: %s vs %s", got[0].ID, got[1].ID)
	}
	if wait := got[1].At.Sub(got[0].At); wait < 2500*time.Millisecond {
		t.Errorf("retried after %s, want the first backoff (2.5-5 s)", wait)
	}
	if got[0].Timestamp == got[1].Timestamp {
		t.Errorf("the retry kept the first attempt's webhook-timestamp %s: receivers would see it grow stale", got[0].Timestamp)
	}
	if h.metric("crm", "retried") != 1 || h.metric("crm", "delivered") != 1 {
		t.Errorf("metrics: retried %v, delivered %v", h.metric("crm", "retried"), h.metric("crm", "delivered"))
	}
}

// A receiver that answers after the client's timeout gets no second copy
// unless the event is retried, and then with the same webhook-id.
func TestAnswerAfterTheTimeoutIsRetriedOnlyWithTheSameID(t *testing.T) {
	ana := user("U0ANA")
	ep := webhooks.Endpoint{Name: "crm", Secrets: []string{secretOld, secretNew}, Events: webhooks.Types, Timeout: time.Second,
		MaxAttempts: 5, AllowPrivate: true}
	h := newHarness(t, setup{endpoints: []webhooks.Endpoint{ep}, managers: assigned(ana)})
	slow := make(chan struct{})
	var once sync.Once
	h.recv.setAnswer(func(hit, http.ResponseWriter) int {
		first := false
		once.Do(func() { first = true })
		if first {
			<-slow // answers (200) only once the client has given up
		}
		return http.StatusOK
	})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	// (A job can be claimed a moment before its event is queued, and then
	// looks again 2 s later: the clock moves in seconds until the attempt.)
	h.until("the client to time out", time.Second, time.Minute, func() bool { return h.metric("crm", "retried") == 1 })
	close(slow)
	waitFor(t, "the slow answer", func() bool { return len(h.recv.got()) == 1 })
	h.settle(5)
	if n := len(h.recv.got()); n != 1 {
		t.Fatalf("a second copy came without a retry: %s", summary(h.recv.got()))
	}
	h.until("the retry", time.Second, time.Minute, func() bool { return len(h.recv.got()) == 2 })
	for range 3 {
		h.clock.Advance(time.Hour)
		h.settle(3)
	}
	got := h.recv.got()
	if len(got) != 2 || got[0].ID != got[1].ID {
		t.Fatalf("want the one event twice with one webhook-id, got %s", summary(got))
	}
}

// A receiver down for an hour (503, on the fake clock) gets everything
// after it returns, each event once, and each person's events in order:
// while a person's oldest event waits, the next is not even tried.
func TestReceiverDownForAnHourGetsEverythingInOrder(t *testing.T) {
	people := []conversation.UserKey{user("U0ANA"), user("U0BO"), user("U0CY")}
	h := newHarness(t, setup{managers: assigned(people...)})
	var mu sync.Mutex
	down := true
	h.recv.setAnswer(func(hit, http.ResponseWriter) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	// Queued while down, a minute apart: each person completes, shares,
	// completes a retake (two events) in turn.
	want := map[conversation.UserID][]string{}
	for step := range 3 {
		for _, u := range people {
			switch step {
			case 0:
				h.svc.Completed(ctx, u, "", h.completion(+1, false))
				want[u.User] = append(want[u.User], "audit.completed")
			case 1:
				h.svc.Shared(ctx, u, "")
				want[u.User] = append(want[u.User], "result.shared")
			case 2:
				h.svc.Completed(ctx, u, "", h.completion(-1, true))
				want[u.User] = append(want[u.User], "audit.completed", "verdict.changed")
			}
		}
		h.settle(3)
		h.clock.Advance(time.Minute)
	}
	for h.clock.Now().Sub(t0) < time.Hour {
		h.settle(2)
		h.clock.Advance(time.Minute)
	}
	if n := len(h.recv.accepted()); n != 0 {
		t.Fatalf("accepted while down: %d", n)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	h.until("everything", time.Minute, 2*time.Hour, func() bool { return len(h.recv.accepted()) == 12 })

	got := h.recv.got()
	byUser := map[string][]hit{}
	for _, g := range got {
		byUser[g.User] = append(byUser[g.User], g)
	}
	for _, u := range people {
		hs := byUser[string(u.User)]
		var order []string
		seen := map[string]bool{}
		ok := map[string]bool{}
		for _, g := range hs {
			if !seen[g.ID] {
				seen[g.ID] = true
				order = append(order, g.Type)
				// Nothing of a person's is tried while an earlier one has
				// not been accepted.
				for id := range seen {
					if id != g.ID && !ok[id] {
						t.Errorf("%s: %s tried before an earlier event was accepted", u.User, g.Type)
					}
				}
			}
			if g.Status/100 == 2 {
				if ok[g.ID] {
					t.Errorf("%s: %s accepted twice", u.User, g.Type)
				}
				ok[g.ID] = true
			}
		}
		if !slices.Equal(order, want[u.User]) {
			t.Errorf("%s: events went in the order %v, want %v", u.User, order, want[u.User])
		}
		if len(ok) != len(want[u.User]) {
			t.Errorf("%s: %d of %d accepted", u.User, len(ok), len(want[u.User]))
		}
	}
	if dead, err := h.svc.DeadLetters(ctx, 10); err != nil || len(dead) != 0 {
		t.Errorf("dead letters after an hour's outage: %v %v", dead, err)
	}
}

// Retry-After is honoured: not a moment earlier.
func TestRetryAfterIsHonoured(t *testing.T) {
	ana := user("U0ANA")
	h := newHarness(t, setup{managers: assigned(ana)})
	var mu sync.Mutex
	calls := 0
	h.recv.setAnswer(func(_ hit, w http.ResponseWriter) int {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 1 {
			w.Header().Set("Retry-After", "120")
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	h.until("first attempt", time.Second, time.Minute, func() bool { return len(h.recv.got()) == 1 })
	first := h.recv.got()[0].At
	h.until("the retry", 5*time.Second, 5*time.Minute, func() bool { return len(h.recv.got()) == 2 })
	if wait := h.recv.got()[1].At.Sub(first); wait < 120*time.Second {
		t.Errorf("retried after %s, before the receiver's Retry-After of 120s", wait)
	}
	if h.metric("crm", "rate_limited") != 1 {
		t.Errorf("rate_limited = %v, want 1", h.metric("crm", "rate_limited"))
	}
}

// After max_attempts an event is a dead letter, the person's next event
// goes, and a replay sends the letter again with its own webhook-id.
func TestDeadLettersReplayAndDrop(t *testing.T) {
	ana, bo := user("U0ANA"), user("U0BO")
	ep := webhooks.Endpoint{Name: "crm", Secrets: []string{secretOld, secretNew}, Events: webhooks.Types, Timeout: 2 * time.Second,
		MaxAttempts: 3, AllowPrivate: true}
	h := newHarness(t, setup{endpoints: []webhooks.Endpoint{ep}, managers: assigned(ana, bo)})
	var mu sync.Mutex
	refuse := map[string]bool{"audit.completed": true}
	h.recv.setAnswer(func(g hit, _ http.ResponseWriter) int {
		mu.Lock()
		defer mu.Unlock()
		if refuse[g.Type] {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	h.svc.Shared(ctx, ana, "")
	h.svc.Completed(ctx, bo, "", h.completion(+1, false))
	h.until("result.shared after the dead one", time.Minute, time.Hour, func() bool { return len(h.recv.accepted()) == 1 })
	h.until("bo's dead letter", time.Minute, time.Hour, func() bool {
		d, _ := h.svc.DeadLetters(ctx, 10)
		return len(d) == 2
	})
	dead, err := h.svc.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var anas webhooks.DeadLetter
	for _, d := range dead {
		if d.User == "U0ANA" {
			anas = d
		}
		if d.Type != webhooks.AuditCompleted || d.Attempts != 3 || d.Error != "HTTP 400" || d.Endpoint != "crm" {
			t.Errorf("dead letter %+v", d)
		}
	}
	if h.metric("crm", "dead") != 2 {
		t.Errorf("dead = %v, want 2", h.metric("crm", "dead"))
	}

	mu.Lock()
	refuse = map[string]bool{}
	mu.Unlock()
	replayed, err := h.svc.Replay(ctx, anas.Key(), false)
	if err != nil || len(replayed) != 1 {
		t.Fatalf("replay: %v %v", replayed, err)
	}
	h.until("the replay", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == 2 })
	last := h.recv.accepted()[1]
	if last.ID != anas.Event || string(last.Body) != anas.Body {
		t.Errorf("the replay is not the dead letter: %s, want %s", last.ID, anas.Event)
	}
	if _, err := h.svc.Replay(ctx, anas.Key(), false); err == nil {
		t.Error("a replayed letter could be replayed again")
	}
	dropped, err := h.svc.Drop(ctx, "", true)
	if err != nil || len(dropped) != 1 || dropped[0].User != "U0BO" {
		t.Errorf("drop all: %v %v", dropped, err)
	}
	for range 3 {
		h.clock.Advance(time.Hour)
		h.settle(3)
	}
	if n := len(h.recv.accepted()); n != 2 {
		t.Errorf("a dropped letter was sent: %s", summary(h.recv.got()))
	}
}

// Forget drops what is queued about the person and their dead letters,
// and user.forgotten goes out last: nothing about them after it.
func TestForgetSendsForgottenAndNothingQueuedAfterIt(t *testing.T) {
	ana, bo := user("U0ANA"), user("U0BO")
	h := newHarness(t, setup{managers: assigned(ana, bo)})
	var mu sync.Mutex
	down := true
	h.recv.setAnswer(func(hit, http.ResponseWriter) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	h.svc.Completed(ctx, ana, "Ana", h.completion(-1, true)) // two events
	h.svc.Shared(ctx, ana, "Ana")
	h.svc.Completed(ctx, bo, "", h.completion(+1, false))
	h.until("attempts while down", time.Second, time.Minute, func() bool { return len(h.recv.got()) >= 2 })

	c, err := h.svc.Erase(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if c.Other != 3 {
		t.Errorf("forget counted %d webhook records, want the 3 queued events", c.Other)
	}
	forgetAt := len(h.recv.got())
	mu.Lock()
	down = false
	mu.Unlock()
	h.until("user.forgotten and bo's event", time.Minute, 2*time.Hour, func() bool { return len(h.recv.accepted()) == 2 })
	for range 5 {
		h.clock.Advance(time.Hour)
		h.settle(3)
	}
	var anas []string
	for _, g := range h.recv.got()[forgetAt:] {
		if g.User == "U0ANA" {
			anas = append(anas, g.Type+"→"+http.StatusText(g.Status))
		}
	}
	if !slices.Equal(anas, []string{"user.forgotten→OK"}) {
		t.Errorf("after forget, about ana: %v, want user.forgotten alone", anas)
	}
	// Nothing about her stays but the week's record of event IDs.
	for _, k := range redistest.Keys(t, h.rdb, h.prefix) {
		if strings.Contains(k, "U0ANA") && !strings.HasSuffix(k, ":webhooks:seen") {
			t.Errorf("left after forget and delivery: %s", k)
		}
	}
}

// A send in flight when forget runs finishes before user.forgotten is sent.
func TestForgetWaitsForTheSendInFlight(t *testing.T) {
	ana := user("U0ANA")
	h := newHarness(t, setup{managers: assigned(ana), concurrency: 4})
	hold := make(chan struct{})
	held := make(chan struct{})
	var once sync.Once
	h.recv.setAnswer(func(g hit, _ http.ResponseWriter) int {
		if g.Type == "audit.completed" {
			once.Do(func() { close(held) })
			<-hold
		}
		return http.StatusOK
	})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	h.until("the held request", time.Second, time.Minute, func() bool {
		select {
		case <-held:
			return true
		default:
			return false
		}
	})
	if _, err := h.svc.Erase(ctx, ana); err != nil {
		t.Fatal(err)
	}
	// The forgotten event's job runs meanwhile and finds the queue held.
	for range 5 {
		h.clock.Advance(time.Second)
		h.settle(3)
	}
	close(hold)
	h.until("user.forgotten", time.Minute, time.Hour, func() bool { return len(h.recv.got()) == 2 })
	got := h.recv.got()
	if got[0].Type != "audit.completed" || got[1].Type != "user.forgotten" || got[1].Seq < got[0].Done {
		t.Errorf("user.forgotten was sent while audit.completed was in flight: %s", summary(got))
	}
}

// An endpoint that resolves to a loopback or private address is refused at
// connect time unless allow_private says otherwise.
func TestPrivateAddressesAreRefused(t *testing.T) {
	ana := user("U0ANA")
	ep := webhooks.Endpoint{Name: "crm", Secrets: []string{secretOld}, Events: webhooks.Types, Timeout: 2 * time.Second, MaxAttempts: 1}
	h := newHarness(t, setup{endpoints: []webhooks.Endpoint{ep}, managers: assigned(ana)})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	h.until("the dead letter", time.Second, time.Minute, func() bool {
		d, _ := h.svc.DeadLetters(ctx, 1)
		return len(d) == 1
	})
	d, _ := h.svc.DeadLetters(ctx, 1)
	if len(h.recv.got()) != 0 || !strings.Contains(d[0].Error, "refused to connect") || !strings.Contains(d[0].Error, "127.0.0.1") {
		t.Errorf("a loopback endpoint was reached, or the reason is unclear: %q", d[0].Error)
	}
	if h.metric("crm", "dead") != 1 {
		t.Errorf("blocked attempt not counted")
	}
}

// Redirects are not followed: a 3xx is a failed attempt.
func TestRedirectsAreNotFollowed(t *testing.T) {
	ana := user("U0ANA")
	elsewhere := newReceiver(t, &clock{now: t0})
	ep := webhooks.Endpoint{Name: "crm", Secrets: []string{secretOld, secretNew}, Events: webhooks.Types, Timeout: 2 * time.Second,
		MaxAttempts: 1, AllowPrivate: true}
	h := newHarness(t, setup{endpoints: []webhooks.Endpoint{ep}, managers: assigned(ana)})
	h.recv.setAnswer(func(_ hit, w http.ResponseWriter) int {
		w.Header().Set("Location", elsewhere.srv.URL+"/steal")
		return http.StatusTemporaryRedirect
	})
	h.svc.Completed(ctx, ana, "", h.completion(-1, false))
	h.until("the dead letter", time.Second, time.Minute, func() bool {
		d, _ := h.svc.DeadLetters(ctx, 1)
		return len(d) == 1
	})
	d, _ := h.svc.DeadLetters(ctx, 1)
	if len(elsewhere.got()) != 0 || !strings.Contains(d[0].Error, "redirects are not followed") {
		t.Errorf("redirect followed (%d), or reason %q", len(elsewhere.got()), d[0].Error)
	}
}

// A revisit delivery retried queues revisit.due once.
func TestRevisitDueQueuedOncePerOccurrence(t *testing.T) {
	ana := user("U0ANA")
	h := newHarness(t, setup{})
	for range 3 {
		if err := h.svc.RevisitDue(ctx, conversation.Key{UserKey: ana}, result(t, -1, t0), t0, "user/slack/T0CLIENT/U0ANA@42"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.svc.RevisitDue(ctx, conversation.Key{UserKey: ana}, result(t, -1, t0), t0, "user/slack/T0CLIENT/U0ANA@43"); err != nil {
		t.Fatal(err)
	}
	h.until("two revisits", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == 2 })
	for range 3 {
		h.clock.Advance(time.Hour)
		h.settle(3)
	}
	if got := h.recv.got(); len(got) != 2 || got[0].ID == got[1].ID {
		t.Errorf("want one revisit.due per occurrence: %s", summary(got))
	}
}

// Two endpoints each get what they asked for, and one refusing does not
// hold up the other. The queue works alike on every Redis topology.
func TestEndpointsAreIndependentOnEveryTopology(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ana := user("U0ANA")
			crm := webhooks.Endpoint{Name: "crm", Secrets: []string{secretOld, secretNew}, Events: []webhooks.Type{webhooks.AuditCompleted},
				Timeout: 2 * time.Second, MaxAttempts: 15, AllowPrivate: true}
			psa := crm
			psa.Name, psa.Events = "psa", []webhooks.Type{webhooks.ResultShared, webhooks.UserForgotten}
			h := newHarness(t, setup{endpoints: []webhooks.Endpoint{crm, psa}, managers: assigned(ana), backend: &b})
			h.recv.setAnswer(func(g hit, _ http.ResponseWriter) int {
				if g.Type == "audit.completed" {
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			})
			h.svc.Completed(ctx, ana, "", h.completion(-1, false))
			h.svc.Shared(ctx, ana, "")
			h.until("psa's first", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == 1 })
			if _, err := h.svc.Erase(ctx, ana); err != nil {
				t.Fatal(err)
			}
			h.until("psa's two", time.Second, time.Minute, func() bool { return len(h.recv.accepted()) == 2 })
			if got := types(h.recv.accepted()); !slices.Equal(got, []string{"result.shared", "user.forgotten"}) {
				t.Errorf("psa got %v", got)
			}
			for _, g := range h.recv.got() {
				if g.Type == "audit.completed" && g.Status == 200 {
					t.Error("crm's forgotten event was delivered after forget")
				}
			}
		})
	}
}

// Nothing secret reaches the log: no secret, no URL path (receivers put
// tokens there), no body.
func TestLogsHoldNoSecretsURLsOrBodies(t *testing.T) {
	ana := user("U0ANA")
	h := newHarness(t, setup{managers: assigned(ana)})
	h.recv.setAnswer(func(hit, http.ResponseWriter) int { return http.StatusInternalServerError })
	h.svc.Completed(ctx, ana, "Ana Ruiz", h.completion(-1, false))
	h.until("some failed attempts", time.Minute, time.Hour, func() bool { return len(h.recv.got()) >= 3 })
	logs := h.logs.String()
	for _, bad := range []string{secretOld, strings.TrimPrefix(secretOld, "whsec_"), secretNew, "/hooks/itfit", "Ana Ruiz", "co-managed"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the log holds %q:\n%s", bad, logs)
		}
	}
	if !strings.Contains(logs, "webhook delivery failed") || !strings.Contains(logs, "HTTP 500") {
		t.Errorf("the log does not say what failed:\n%s", logs)
	}
}
