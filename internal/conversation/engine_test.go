package conversation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
)

var ctx = context.Background()

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newEngine(b redistest.Backend, clk *clock) *conversation.Engine {
	return conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix, Now: clk.Now})
}

func key(user string) conversation.Key {
	return conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: conversation.UserID(user)},
		Conversation: "D1",
	}
}

// coManaged answers every question of the default audit on the co-managed path.
var coManaged = map[advisor.QuestionID][]advisor.OptionID{
	"it_staff": {"two_three"}, "firefighting": {"nearly_all"}, "skills": {"security", "cloud"},
	"after_hours": {"nobody_need"}, "projects": {"none"}, "frameworks": {"none"}, "growth": {"steady"},
	"distraction": {"sometimes"}, "control": {"keep"},
}

func answerCurrent(t *testing.T, e *conversation.Engine, k conversation.Key, r conversation.Reply) conversation.Reply {
	t.Helper()
	next, err := e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID]})
	if err != nil {
		t.Fatalf("answer %s: %v", r.Question.ID, err)
	}
	return next
}

func TestEngineContract(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("walks the audit to a recommendation", func(t *testing.T) { testWalk(t, b) })
			t.Run("a double click advances once", func(t *testing.T) { testDoubleClick(t, b) })
			t.Run("bad input changes nothing", func(t *testing.T) { testBadInput(t, b) })
			t.Run("back and restart", func(t *testing.T) { testBackRestart(t, b) })
			t.Run("resume, status and cancel", func(t *testing.T) { testResume(t, b) })
			t.Run("history and forget", func(t *testing.T) { testHistoryForget(t, b) })
			t.Run("a replaced audit restarts the session", func(t *testing.T) { testAuditChanged(t, b) })
			t.Run("sessions expire", func(t *testing.T) { testTTL(t, b) })
		})
	}
}

func testWalk(t *testing.T, b redistest.Backend) {
	clk := &clock{t: time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC)}
	e := newEngine(b, clk)
	k := key("walk")
	r, err := e.Start(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if r.Event != conversation.Started || r.Question.ID != "it_staff" || r.Position != 1 {
		t.Fatalf("start: %+v", r)
	}
	asked := []advisor.QuestionID{}
	for r.Question != nil {
		asked = append(asked, r.Question.ID)
		clk.Add(time.Minute)
		r = answerCurrent(t, e, k, r)
		if r.Answered == nil || r.Answered.Question.ID != asked[len(asked)-1] {
			t.Fatalf("answer echo missing: %+v", r)
		}
	}
	if r.Event != conversation.Completed || r.Result == nil {
		t.Fatalf("last answer: %+v", r)
	}
	if got := strings.Join(qids(asked), ","); got != "it_staff,firefighting,skills,after_hours,projects,frameworks,growth,distraction,control" {
		t.Errorf("asked %s", got)
	}
	if r.Result.Verdict != advisor.CoManaged || r.Result.RevisitOn.Format(time.DateOnly) != "2029-02-28" {
		t.Errorf("result %s, revisit %s", r.Result.Verdict, r.Result.RevisitOn)
	}
}

func qids(qs []advisor.QuestionID) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = string(q)
	}
	return out
}

func testDoubleClick(t *testing.T, b redistest.Backend) {
	e := newEngine(b, &clock{t: time.Now()})
	k := key("double")
	r, _ := e.Start(ctx, k)
	first := answerCurrent(t, e, k, r)
	second := answerCurrent(t, e, k, r)
	if first.Event != conversation.Advanced || second.Event != conversation.Stale {
		t.Fatalf("events %s then %s", first.Event, second.Event)
	}
	if second.Question.ID != first.Question.ID || second.Rev != first.Rev {
		t.Errorf("a stale click must show the current question: %s@%d vs %s@%d", second.Question.ID, second.Rev, first.Question.ID, first.Rev)
	}
	// An answer to a question that is not current, at the current revision.
	odd, err := e.Answer(ctx, k, conversation.Answer{Rev: first.Rev, Question: "control", Options: []advisor.OptionID{"keep"}})
	if err != nil || odd.Event != conversation.Stale {
		t.Fatalf("answer to a later question: %+v, %v", odd, err)
	}
	st, _ := e.Status(ctx, k)
	if st.Rev != first.Rev || st.Question.ID != first.Question.ID {
		t.Errorf("state moved: %+v", st)
	}
}

func testBadInput(t *testing.T, b redistest.Backend) {
	e := newEngine(b, &clock{t: time.Now()})
	k := key("bad")
	r, _ := e.Start(ctx, k)
	tests := []struct {
		q    advisor.QuestionID
		opts []advisor.OptionID
		want error
	}{
		{"it_staff", []advisor.OptionID{"eleven"}, advisor.ErrUnknownOption},
		{"it_staff", nil, advisor.ErrNoOption},
		{"no_such", []advisor.OptionID{"one"}, advisor.ErrUnknownQuestion},
		{"it_staff", []advisor.OptionID{"one", "none"}, advisor.ErrOneOption},
	}
	for _, tt := range tests {
		_, err := e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: tt.q, Options: tt.opts})
		if !errors.Is(err, tt.want) {
			t.Errorf("answer %s %v: %v, want %v", tt.q, tt.opts, err, tt.want)
		}
	}
	st, _ := e.Status(ctx, k)
	if st.Rev != r.Rev || len(st.Question.ID) == 0 || st.Position != 1 {
		t.Errorf("bad input changed the session: %+v", st)
	}
	none, err := e.Answer(ctx, key("nobody"), conversation.Answer{Rev: 1, Question: "it_staff", Options: []advisor.OptionID{"one"}})
	if err != nil || none.Event != conversation.NoSession {
		t.Errorf("answer without a session: %+v, %v", none, err)
	}
}

func testBackRestart(t *testing.T, b redistest.Backend) {
	e := newEngine(b, &clock{t: time.Now()})
	k := key("back")
	r, _ := e.Start(ctx, k)
	r = answerCurrent(t, e, k, r) // it_staff
	r = answerCurrent(t, e, k, r) // firefighting
	back, err := e.Back(ctx, k, r.Rev)
	if err != nil || back.Event != conversation.WentBack || back.Question.ID != "firefighting" || back.Position != 2 {
		t.Fatalf("back: %+v %v", back, err)
	}
	if again, _ := e.Back(ctx, k, r.Rev); again.Event != conversation.Stale {
		t.Errorf("a second back on the same card: %s", again.Event)
	}
	// Change the first answer: no team, so the team questions drop out.
	back, _ = e.Back(ctx, k, back.Rev)
	r, _ = e.Answer(ctx, k, conversation.Answer{Rev: back.Rev, Question: "it_staff", Options: []advisor.OptionID{"none"}})
	if r.Question.ID != "after_hours" {
		t.Fatalf("after changing to no IT: %s", r.Question.ID)
	}
	old := r
	re, err := e.Restart(ctx, k)
	if err != nil || re.Event != conversation.Started || re.Question.ID != "it_staff" || re.Rev <= old.Rev {
		t.Fatalf("restart: %+v %v", re, err)
	}
	if stale := answerCurrent(t, e, k, old); stale.Event != conversation.Stale {
		t.Errorf("a card from before the restart was accepted: %s", stale.Event)
	}
}

func testResume(t *testing.T, b redistest.Backend) {
	e := newEngine(b, &clock{t: time.Now()})
	k := key("resume")
	r, _ := e.Start(ctx, k)
	r = answerCurrent(t, e, k, r)
	again, err := e.Start(ctx, k)
	if err != nil || again.Event != conversation.Resumed || again.Question.ID != r.Question.ID || again.Rev != r.Rev {
		t.Fatalf("resume: %+v %v", again, err)
	}
	if c, _ := e.Cancel(ctx, k); c.Event != conversation.Cancelled {
		t.Errorf("cancel: %s", c.Event)
	}
	if st, _ := e.Status(ctx, k); st.Event != conversation.NoSession {
		t.Errorf("status after cancel: %s", st.Event)
	}
}

func testHistoryForget(t *testing.T, b redistest.Backend) {
	clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	e := newEngine(b, clk)
	k := key("forget")
	for i := 0; i < 2; i++ {
		r, _ := e.Restart(ctx, k)
		for r.Question != nil {
			r = answerCurrent(t, e, k, r)
		}
		clk.Add(24 * time.Hour)
	}
	other := k
	other.Conversation = "C9"
	if _, err := e.Start(ctx, other); err != nil {
		t.Fatal(err)
	}
	h, err := e.History(ctx, k.UserKey)
	if err != nil || len(h) != 2 || !h[0].CompletedAt.After(h[1].CompletedAt) || h[0].Recommendation.Verdict != advisor.CoManaged {
		t.Fatalf("history %+v %v", h, err)
	}
	bystander := key("bystander")
	if _, err := e.Start(ctx, bystander); err != nil {
		t.Fatal(err)
	}
	er, err := e.Forget(ctx, k.UserKey)
	if err != nil || er.Sessions != 2 || er.Results != 2 {
		t.Fatalf("forget: %+v %v", er, err)
	}
	for _, key := range redistest.Keys(t, b.Client, b.Prefix) {
		if strings.Contains(key, ":forget}") {
			t.Errorf("forget left %s", key)
		}
	}
	if st, _ := e.Status(ctx, bystander); st.Event == conversation.NoSession {
		t.Error("forget erased another user's session")
	}
}

func testAuditChanged(t *testing.T, b redistest.Backend) {
	e := newEngine(b, &clock{t: time.Now()})
	k := key("changed")
	r, _ := e.Start(ctx, k)
	r = answerCurrent(t, e, k, r)
	a2 := *advisor.Default()
	a2.Version = "2099.1"
	e2 := conversation.New(b.Client, &a2, conversation.Options{Prefix: b.Prefix})
	re, err := e2.Start(ctx, k)
	if err != nil || !re.AuditChanged || re.Question.ID != "it_staff" {
		t.Fatalf("resume under a new audit: %+v %v", re, err)
	}
	// An old card answered against the new audit restarts rather than mixing.
	old, _ := e.Start(ctx, key("changed2"))
	re, err = e2.Answer(ctx, key("changed2"), conversation.Answer{Rev: old.Rev, Question: "it_staff", Options: []advisor.OptionID{"one"}})
	if err != nil || !re.AuditChanged || re.Position != 1 {
		t.Fatalf("answer under a new audit: %+v %v", re, err)
	}
}

func testTTL(t *testing.T, b redistest.Backend) {
	e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix, SessionTTL: time.Hour})
	k := key("ttl")
	if _, err := e.Start(ctx, k); err != nil {
		t.Fatal(err)
	}
	for _, key := range redistest.Keys(t, b.Client, b.Prefix) {
		if !strings.Contains(key, ":ttl}") {
			continue
		}
		// The session expires with ITFIT_SESSION_TTL; the index of the
		// user's sessions outlives every session it names, up to the
		// history retention.
		limit := time.Hour
		if strings.HasSuffix(key, ":sessions") {
			limit = 2 * 365 * 24 * time.Hour
		}
		ttl := b.Client.PTTL(ctx, key).Val()
		if ttl <= 0 || ttl > limit {
			t.Errorf("%s has TTL %v, want at most %v", key, ttl, limit)
		}
	}
}

// TestConcurrentAnswersAdvanceOnce fires 50 answers to the same question at
// once against a real Redis: exactly one may advance the session.
func TestConcurrentAnswersAdvanceOnce(t *testing.T) {
	b := redistest.Real(t)
	e := newEngine(b, &clock{t: time.Now()})
	k := key("race")
	r, err := e.Start(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	events := make(chan conversation.Event, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{"two_three"}})
			if err != nil {
				t.Error(err)
				return
			}
			events <- got.Event
		}()
	}
	wg.Wait()
	close(events)
	count := map[conversation.Event]int{}
	for ev := range events {
		count[ev]++
	}
	if count[conversation.Advanced] != 1 || count[conversation.Stale] != 49 {
		t.Fatalf("events %v, want 1 advanced and 49 stale", count)
	}
	st, _ := e.Status(ctx, k)
	if st.Rev != r.Rev+1 {
		t.Errorf("revision %d, want %d", st.Rev, r.Rev+1)
	}
}

// TestResumeAfterRestart drops the engine and its client mid-audit, as a
// restarted process would, and carries on with a new one.
func TestResumeAfterRestart(t *testing.T) {
	b := redistest.Real(t)
	e := newEngine(b, &clock{t: time.Now()})
	k := key("restart")
	r, _ := e.Start(ctx, k)
	r = answerCurrent(t, e, k, r)
	r = answerCurrent(t, e, k, r)

	opt := b.Client.(*redis.Client).Options()
	fresh := redis.NewClient(opt)
	defer fresh.Close()
	e2 := conversation.New(fresh, advisor.Default(), conversation.Options{Prefix: b.Prefix})
	again, err := e2.Start(ctx, k)
	if err != nil || again.Event != conversation.Resumed || again.Question.ID != r.Question.ID || again.Position != 3 {
		t.Fatalf("after restart: %+v %v", again, err)
	}
	for again.Question != nil {
		again = answerCurrent(t, e2, k, again)
	}
	if again.Result == nil {
		t.Fatal("no result after resuming")
	}
}

// TestSessionMemory keeps a finished session under 1 KiB of Redis memory.
func TestSessionMemory(t *testing.T) {
	b := redistest.Real(t)
	e := newEngine(b, &clock{t: time.Now()})
	k := key("memory")
	r, _ := e.Start(ctx, k)
	for i := 0; i < 8; i++ {
		r = answerCurrent(t, e, k, r)
	}
	var total int64
	for _, key := range redistest.Keys(t, b.Client, b.Prefix) {
		if strings.Contains(key, ":memory}") {
			n, err := b.Client.MemoryUsage(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	if total == 0 || total >= 1024 {
		t.Fatalf("a session near its end uses %d bytes of Redis memory, want under 1024", total)
	}
	t.Logf("session near its end: %d bytes", total)
}

func TestUnavailableRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	e := conversation.New(rdb, advisor.Default(), conversation.Options{})
	_, err := e.Start(ctx, key("down"))
	if !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("error %v, want ErrUnavailable", err)
	}
	if err := e.Ping(ctx); !errors.Is(err, conversation.ErrUnavailable) {
		t.Errorf("ping: %v", err)
	}
}

func TestRetakeSaysWhatChanged(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
			e := newEngine(b, clk)
			k := key("retake")
			r, _ := e.Start(ctx, k)
			for r.Question != nil {
				r = answerCurrent(t, e, k, r)
			}
			if r.SinceLast != nil {
				t.Fatalf("a first audit has nothing to compare with: %+v", r.SinceLast)
			}
			clk.Add(365 * 24 * time.Hour)
			r, _ = e.Restart(ctx, k)
			for r.Question != nil {
				opts := coManaged[r.Question.ID]
				switch r.Question.ID {
				case "it_staff":
					opts = []advisor.OptionID{"none"}
				case "control":
					opts = []advisor.OptionID{"hand_off"}
				}
				r, _ = e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: opts})
			}
			c := r.SinceLast
			if c == nil || !c.VerdictMoved || c.PreviousVerdict != advisor.CoManaged || r.Result.Verdict != advisor.FullyManaged {
				t.Fatalf("since last: %+v", c)
			}
			if !c.PreviousAt.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("previous at %s", c.PreviousAt)
			}
			changed := map[advisor.QuestionID]bool{}
			for _, a := range c.Answers {
				changed[a.Question] = true
			}
			for _, q := range []advisor.QuestionID{"it_staff", "firefighting", "skills", "control"} {
				if !changed[q] {
					t.Errorf("%s changed but is not listed: %+v", q, c.Answers)
				}
			}
			if changed["growth"] {
				t.Error("growth did not change")
			}
		})
	}
}

// TestAnswerDeliveredTwice: an answer carrying its delivery (Answer.Once)
// claims it in the script that records it. The same delivery again comes
// back Repeated and changes nothing, even once the session has moved on
// (where the answer alone would be Stale); another delivery of the same
// press is only Stale. The claim is one member of the person's claims, due
// to expire with the delivery's TTL, and a claim taken by Claims for a
// press that never reached the script is seen by the script too.
func TestAnswerDeliveredTwice(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			e := newEngine(b, clk)
			claims := conversation.NewClaims(b.Client, b.Prefix, 0, clk.Now)
			k := key("U_once")
			r, err := e.Start(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			once := conversation.Delivery{ID: "sig:abc", TTL: 6 * time.Minute}
			a := conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID], Once: once}
			first, err := e.Answer(ctx, k, a)
			if err != nil || first.Event != conversation.Advanced {
				t.Fatalf("first delivery: %v %v", first.Event, err)
			}
			again, err := e.Answer(ctx, k, a)
			if err != nil || again.Event != conversation.Repeated {
				t.Fatalf("second delivery: %v %v, want repeated", again.Event, err)
			}
			answerCurrent(t, e, k, first)
			if again, _ := e.Answer(ctx, k, a); again.Event != conversation.Repeated {
				t.Fatalf("after moving on: %v, want repeated", again.Event)
			}
			other := a
			other.Once.ID = "sig:def"
			if r, _ := e.Answer(ctx, k, other); r.Event != conversation.Stale {
				t.Fatalf("another delivery of the same press: %v, want stale", r.Event)
			}
			if st, _ := e.Status(ctx, k); st.Position != 3 {
				t.Fatalf("at question %d, want 3", st.Position)
			}
			set := b.Prefix.Claims("slack", "T1", "U_once")
			members, err := b.Client.ZRangeWithScores(ctx, set, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(members) != 2 || members[0].Member != "once:sig:abc" || int64(members[0].Score) != clk.Now().Add(6*time.Minute).UnixMilli() {
				t.Fatalf("claims = %v", members)
			}
			if ttl := b.Client.PTTL(ctx, set).Val(); ttl <= 0 || ttl > 6*time.Minute {
				t.Fatalf("claims TTL %v", ttl)
			}
			// Claims' own TTL (an hour) is not cut by a delivery's.
			if _, err := claims.Claim(ctx, k.UserKey, "restart:x"); err != nil {
				t.Fatal(err)
			}
			r, _ = e.Status(ctx, k)
			next := conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID], Once: conversation.Delivery{ID: "sig:ghi", TTL: time.Minute}}
			seen, err := claims.ClaimDelivery(ctx, k.UserKey, next.Once)
			if err != nil || !seen {
				t.Fatalf("ClaimDelivery: %v %v", seen, err)
			}
			if r, _ := e.Answer(ctx, k, next); r.Event != conversation.Repeated {
				t.Fatalf("after ClaimDelivery: %v, want repeated", r.Event)
			}
			if ttl := b.Client.PTTL(ctx, set).Val(); ttl <= 59*time.Minute {
				t.Fatalf("claims TTL %v after a one-minute delivery, want the hour kept", ttl)
			}
			// Once the TTL has passed, the delivery's claim is pruned.
			clk.Add(7 * time.Minute)
			if _, err := claims.Claim(ctx, k.UserKey, "restart:y"); err != nil {
				t.Fatal(err)
			}
			if n, _ := b.Client.ZScore(ctx, set, "once:sig:abc").Result(); n != 0 {
				t.Fatalf("expired delivery still claimed (score %v)", n)
			}
		})
	}
}
