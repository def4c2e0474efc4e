package faults_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
)

// nudgeRig is replicas of bot serve on one Redis, with revisits due
// revisitAfter after each audit and one account manager for the
// workspace, and users who finished their audit and pressed "Remind me".
type nudgeRig struct {
	t     *testing.T
	rds   *redisProc
	rdb   *redis.Client
	fake  *slackFake
	bots  []*botProc
	users []*simUser
	team  string
}

const revisitAfter = 15 * time.Second

func newNudgeRig(t *testing.T, team string, users, replicas int, h2 bool, extraEnv ...string) *nudgeRig {
	t.Helper()
	r := &nudgeRig{t: t, rds: startRedis(t), fake: newSlackFake(t, h2), team: team}
	r.rdb = r.rds.client()
	for i := range replicas {
		env := append(r.fake.env(fmt.Sprintf("r%d", i)), "REDIS_URL="+r.rds.url(), "LOG_LEVEL=info", "ITFIT_DRAIN_DELAY=0s",
			"ITFIT_REVISIT_AFTER="+revisitAfter.String(), "ITFIT_ACCOUNT_MANAGERS=slack:"+team+"=UMGR"+team[1:])
		env = append(env, extraEnv...)
		r.bots = append(r.bots, startBot(t, fmt.Sprintf("r%d", i), freePort(t), env))
	}
	for i := range users {
		u := newUser(team, i, 17)
		r.fake.addUser(u)
		r.users = append(r.users, u)
	}
	return r
}

// remindAll takes every user through the audit on the first replica and
// presses "Remind me in 12 months" on the card; their nudges (and their
// manager's) are due revisitAfter later.
func (r *nudgeRig) remindAll() time.Time {
	r.t.Helper()
	d := newDriver(r.t, r.bots[0].base(), 50)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if errs := d.runUsers(ctx, r.users, 50, func(int) auditOpts { return auditOpts{remind: true} }); len(errs) > 0 {
		r.t.Fatalf("%d audits failed: %v", len(errs), errs[0])
	}
	if n := r.rdb.ZCard(ctx, keys.Default.ScheduleDue()).Val(); n != int64(2*len(r.users)) {
		r.t.Fatalf("%d nudges scheduled, want %d", n, 2*len(r.users))
	}
	r.t.Logf("%d audits finished and reminded in %s; nudges due from %s on", len(r.users), time.Since(start).Round(time.Millisecond),
		start.Add(revisitAfter).Format("15:04:05"))
	return start.Add(revisitAfter)
}

// settled waits until no nudge is scheduled any more.
func (r *nudgeRig) settled(limit time.Duration) {
	r.t.Helper()
	ctx := context.Background()
	end := time.Now().Add(limit)
	for r.rdb.ZCard(ctx, keys.Default.ScheduleDue()).Val() > 0 {
		if time.Now().After(end) {
			r.t.Fatalf("%d nudges still scheduled after %s", r.rdb.ZCard(ctx, keys.Default.ScheduleDue()).Val(), limit)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkOnce checks that every user and their manager got their nudge
// exactly once, and that nothing was dead-lettered.
func (r *nudgeRig) checkOnce() {
	r.t.Helper()
	byJob := map[string]int{}
	for occ, n := range r.fake.nudges() {
		id, _, _ := strings.Cut(occ, "@")
		byJob[id] += n
	}
	var wrong []string
	for _, u := range r.users {
		for _, kind := range []string{"user", "manager"} {
			id := kind + "/slack/" + u.team + "/" + u.id
			if byJob[id] != 1 {
				wrong = append(wrong, fmt.Sprintf("%s ×%d", id, byJob[id]))
			}
			delete(byJob, id)
		}
	}
	for id, n := range byJob {
		wrong = append(wrong, fmt.Sprintf("unexpected %s ×%d", id, n))
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		r.t.Errorf("%d nudges not delivered exactly once: %v", len(wrong), wrong[:min(len(wrong), 10)])
	}
	// The manager's nudges are in their DM, one per client.
	if n := len(r.fake.postsIn("DUMGR" + r.team[1:])); n != len(r.users) {
		r.t.Errorf("%d messages in the manager's DM, want %d", n, len(r.users))
	}
	if n := r.rdb.LLen(context.Background(), keys.Default.ScheduleDead()).Val(); n != 0 {
		r.t.Errorf("%d dead letters", n)
	}
}

// outcomes sums itfit_nudges_total by outcome over the replicas still up.
func (r *nudgeRig) outcomes() map[string]float64 {
	out := map[string]float64{}
	for _, b := range r.bots {
		if b.pid() == 0 {
			continue
		}
		m := b.metrics()
		for _, o := range []string{"sent", "already_sent", "confirmed", "resent", "ambiguous", "orphaned", "retried", "rate_limited", "gone", "dead"} {
			out[o] += sum(m, "itfit_nudges_total", `outcome="`+o+`"`)
		}
	}
	return out
}

// Issue 15: three replicas deliver the nudges of 200 users and their
// account manager; each is delivered exactly once whether a replica is
// killed with SIGKILL while its deliveries had reached Slack, Slack
// answers only after 12 s (past the bot's 10 s timeout), or Slack answers
// 500 after it posted. The outcome in doubt is settled by looking for the
// nudge's metadata in the conversation's history before any resend.
//
// The three run side by side (each waits a minute for the scheduler's
// AmbiguousDelay), about 2 minutes in all.
func TestNudgesExactlyOnce(t *testing.T) {
	needProcesses(t)
	t.Parallel()
	var wg sync.WaitGroup
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a replica killed mid-delivery", nudgesKilled},
		{"Slack answers after 12 s", nudgesSlow},
		{"Slack answers 500 after posting", nudges500},
	} {
		// Not t.Parallel: -parallel would hold one back; Run may be called
		// from several goroutines at once.
		wg.Go(func() { t.Run(c.name, c.run) })
	}
	wg.Wait()
}

func nudgesKilled(t *testing.T) {
	r := newNudgeRig(t, "TNKILL", 200, 3, true)
	// Until the kill Slack takes 4 s to answer each nudge, so deliveries
	// are in flight on every replica; each is posted the moment it arrives.
	var killed atomic.Bool
	r.fake.setRule(func(c fakeCall) fakeAnswer {
		if c.Nudge && !killed.Load() {
			return fakeAnswer{Delay: 4 * time.Second}
		}
		return fakeAnswer{}
	})
	due := r.remindAll()
	for r.fake.heldBy("r1") < 3 {
		if time.Since(due) > time.Minute {
			t.Fatal("replica r1 never had 3 nudges in flight")
		}
		time.Sleep(10 * time.Millisecond)
	}
	held := r.fake.heldBy("r1")
	r.bots[1].kill()
	killed.Store(true)
	t.Logf("kill -9 of r1 with %d nudge posts in flight that Slack had posted, %s after the first was due", held, time.Since(due).Round(time.Millisecond))
	r.settled(4 * time.Minute)
	t.Logf("settled %s after the first was due; outcomes on the survivors: %v", time.Since(due).Round(time.Second), r.outcomes())
	r.checkOnce()
	if o := r.outcomes(); o["orphaned"] < float64(held) || o["confirmed"] < float64(held) || o["resent"] != 0 {
		t.Errorf("outcomes %v: want the killed replica's %d posts orphaned and confirmed, none resent", o, held)
	}
	r.fake.checkProto(t)
}

func nudgesSlow(t *testing.T) {
	everyNudgeAmbiguous(t, "TNSLOW", 40, false, fakeAnswer{Delay: 12 * time.Second}, "timed out at 10 s")
}

func nudges500(t *testing.T) {
	everyNudgeAmbiguous(t, "TN500", 200, true, fakeAnswer{Status: 500}, "500 after posting")
}

// everyNudgeAmbiguous: three replicas deliver users' and their manager's
// nudges while Slack gives every nudge post the answer given (after
// posting it: too late, or a 500);
// each attempt is ambiguous, found in the history and confirmed, and
// nobody is nudged twice.
func everyNudgeAmbiguous(t *testing.T, team string, users int, h2 bool, answer fakeAnswer, why string) {
	r := newNudgeRig(t, team, users, 3, h2)
	r.fake.setRule(func(c fakeCall) fakeAnswer {
		if c.Nudge {
			return answer
		}
		return fakeAnswer{}
	})
	due := r.remindAll()
	r.settled(4 * time.Minute)
	o := r.outcomes()
	t.Logf("settled %s after the first was due; outcomes: %v", time.Since(due).Round(time.Second), o)
	r.checkOnce()
	if want := float64(2 * users); o["ambiguous"] != want || o["confirmed"] != want || o["resent"] != 0 {
		t.Errorf("outcomes %v: want all %.0f ambiguous (%s) and confirmed, none resent", o, want, why)
	}
	r.fake.checkProto(t)
}

// Issue 15: SIGTERM while nudges are in flight (Slack holding every post
// it received without answering) ends bot serve within ITFIT_DRAIN_DELAY +
// ITFIT_SHUTDOWN_TIMEOUT + 1 s, without a "still running" warning; after
// the restart every nudge is delivered exactly once: the interrupted ones
// are found in the history, the others sent.
func TestShutdownWithNudgesInFlight(t *testing.T) {
	needProcesses(t)
	t.Parallel()
	const drain, shutdown = time.Second, 4 * time.Second
	r := newNudgeRig(t, "TNTERM", 50, 1, true, "ITFIT_DRAIN_DELAY="+drain.String(), "ITFIT_SHUTDOWN_TIMEOUT="+shutdown.String())
	var restarted atomic.Bool
	r.fake.setRule(func(c fakeCall) fakeAnswer {
		if c.Nudge && !restarted.Load() {
			return fakeAnswer{Delay: time.Minute} // posted, never answered
		}
		return fakeAnswer{}
	})
	due := r.remindAll()
	bot := r.bots[0]
	for r.fake.heldBy("r0") < 8 {
		if time.Since(due) > time.Minute {
			t.Fatal("the nudges never went out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	held := r.fake.heldBy("r0")
	took, err := bot.term()
	if err != nil {
		t.Errorf("bot serve exited with %v after SIGTERM", err)
	}
	t.Logf("SIGTERM with %d nudges in flight: exited after %s (drain %s + shutdown %s)", held, took.Round(time.Millisecond), drain, shutdown)
	if limit := drain + shutdown + time.Second; took > limit {
		t.Errorf("exited after %s, want within %s", took, limit)
	}
	for _, warning := range []string{"still running", "abandoning"} {
		if strings.Contains(tail(bot.log, 200), warning) {
			t.Errorf("the shutdown log says %q:\n%s", warning, tail(bot.log, 20))
		}
	}
	restarted.Store(true)
	bot.start()
	r.settled(3 * time.Minute)
	o := r.outcomes()
	t.Logf("settled %s after the first was due; outcomes after the restart: %v", time.Since(due).Round(time.Second), o)
	r.checkOnce()
	if o["confirmed"] != float64(held) || o["sent"] != float64(100-held) || o["resent"] != 0 {
		t.Errorf("outcomes %v: want the %d interrupted nudges confirmed and the other %d sent", o, held, 100-held)
	}
}
