package faults_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
)

// checkUsers reads every user's completed audits from Redis and checks
// what a person would see: one card each, the audit taken once (one
// result), no dead-end note, and every answer the bot moved on from kept.
func checkUsers(t *testing.T, rdb redis.UniversalClient, users []*simUser) {
	t.Helper()
	engine := conversation.New(rdb, advisor.Default(), conversation.Options{})
	cards, twice, deadEnds, lost, results := 0, 0, 0, 0, 0
	for _, u := range users {
		cards += min(u.cards, 1)
		twice += u.tookTwice
		deadEnds += len(u.deadEnds)
		if len(u.deadEnds) > 0 && deadEnds <= 3 {
			t.Errorf("user %s got a dead-end note: %q", u.id, u.deadEnds[0])
		}
		h, err := engine.History(context.Background(), conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(u.team), User: conversation.UserID(u.id)})
		if err != nil {
			t.Fatal(err)
		}
		results += len(h)
		if len(h) != 1 {
			t.Errorf("user %s has %d completed audits, want 1", u.id, len(h))
			continue
		}
		for q, opt := range u.accepted {
			if got := answerTo(h[0].Answers, q); got != opt {
				lost++
				if lost <= 3 {
					t.Errorf("user %s: question %s kept %q, but the bot had moved on from %q", u.id, q, got, opt)
				}
			}
		}
	}
	t.Logf("%d/%d cards, %d took the audit twice, %d dead-end notes, %d answers lost, %d results stored", cards, len(users), twice, deadEnds, lost, results)
	if cards != len(users) || twice != 0 || deadEnds != 0 || lost != 0 {
		t.Errorf("want %d/%d cards, 0 took it twice, 0 dead-end notes, 0 answers lost", len(users), len(users))
	}
}

func answerTo(as advisor.Answers, q string) string {
	for _, a := range as {
		if string(a.Question) == q {
			var ids []string
			for _, o := range a.Options {
				ids = append(ids, string(o))
			}
			return strings.Join(ids, ",")
		}
	}
	return ""
}

// logDriver writes the driver's figures into the test log.
func logDriver(t *testing.T, d *driver, took time.Duration) {
	t.Helper()
	n, p99, max := d.acks.stats()
	tn, tp99, tmax := d.told.stats()
	t.Logf("%d answers in %s; %d requests acknowledged (p99 %s, max %s), %d not acknowledged (bot down); %d replies (p99 %s, max %s after the click); after silence %d clicked again and %d typed /itfit again; %d tried again when told to",
		d.answers.Load(), took.Round(time.Millisecond), n, p99.Round(time.Millisecond), max.Round(time.Millisecond), d.ackFailed.Load(),
		tn, tp99.Round(time.Millisecond), tmax.Round(time.Millisecond), d.reclicks.Load(), d.retypes.Load(), d.retried.Load())
}

// load is a 2,000-user Slack load on bot serve, a private Redis and a fake
// Web API (HTTP/2 or HTTP/1.1), running in the background while a test
// does something to one of its processes.
type load struct {
	t     *testing.T
	rds   *redisProc
	fake  *slackFake
	bot   *botProc
	d     *driver
	us    []*simUser
	start time.Time
	done  chan []error
}

const loadUsers, loadInFlight = 2000, 100

// startLoad starts the processes and the simulated people (every other one
// types /itfit again after their last answer).
func startLoad(t *testing.T, team string, seed uint64, h2 bool) *load {
	needProcesses(t)
	l := &load{t: t, rds: startRedis(t), fake: newSlackFake(t, h2), done: make(chan []error, 1)}
	env := append(l.fake.env("r0"), "REDIS_URL="+l.rds.url(), "LOG_LEVEL=warn", "ITFIT_DRAIN_DELAY=0s")
	l.bot = startBot(t, "bot", freePort(t), env)
	l.us = make([]*simUser, loadUsers)
	for i := range l.us {
		l.us[i] = newUser(team, i, seed)
		l.fake.addUser(l.us[i])
	}
	l.d = newDriver(t, l.bot.base(), loadInFlight)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	t.Logf("load average before: %s", loadavg())
	l.start = time.Now()
	go func() {
		l.done <- l.d.runUsers(ctx, l.us, loadInFlight, func(i int) auditOpts { return auditOpts{retype: i%2 == 1} })
	}()
	return l
}

// reach waits until pct percent of the load's answers (about 9 an audit)
// were given; the load ending first fails the test.
func (l *load) reach(pct int64, before string) {
	l.t.Helper()
	for l.d.answers.Load() < loadUsers*9*pct/100 {
		select {
		case errs := <-l.done:
			l.t.Fatalf("the load ended before %s: %v", before, errs)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (l *load) since() time.Duration { return time.Since(l.start).Round(time.Millisecond) }

// finish waits for the load to end and checks what every person saw: their
// card, the audit taken once, no dead-end note, every answer kept (in
// Redis), the fake's protocol, and every acknowledgement within 3 s.
func (l *load) finish() {
	t := l.t
	t.Helper()
	errs := <-l.done
	took := time.Since(l.start)
	t.Logf("load average after: %s", loadavg())
	for i, err := range errs {
		if i < 5 {
			t.Error(err)
		}
	}
	logDriver(t, l.d, took)
	checkUsers(t, l.rds.client(), l.us)
	l.fake.checkProto(t)
	if n, _, max := l.d.acks.stats(); n == 0 || max > 3*time.Second {
		t.Errorf("slowest acknowledgement %s, want every one within 3 s", max)
	}
}

// Issue 15: kill -9 of bot serve twice during a 2,000-user Slack load,
// restarted on the same port each time; people whose reply never came
// click again after silence (every other one types /itfit again after
// their last answer). Every one of them gets their card, nobody takes the
// audit twice, nobody is left with a note and nothing to press, and every
// answer the bot moved on from is in their result.
func TestKill9TwiceUnderLoad(t *testing.T) {
	l := startLoad(t, "TKILL", 15, true)
	// Kill at 30% and at 65% of the run.
	for kills, pct := range []int64{30, 65} {
		l.reach(pct, fmt.Sprintf("kill %d", kills+1))
		l.bot.kill()
		t.Logf("kill -9 #%d after %d answers, %s in", kills+1, l.d.answers.Load(), l.since())
		l.bot.start()
	}
	l.finish()
	if l.d.reclicks.Load() == 0 || l.d.retypes.Load() == 0 {
		t.Errorf("no reply was lost to the kills (%d clicked again, %d typed /itfit again): the test proved nothing", l.d.reclicks.Load(), l.d.retypes.Load())
	}
}

// Issue 15: Redis stopped with SIGTERM mid-load and started again (its
// append-only file on) 2 s later. People told "temporarily unavailable"
// try again; those whose reply was lost click again after silence. Nobody
// loses an answer the bot moved on from, or their card. The fake Web API
// speaks HTTP/1.1 here.
func TestRedisRestartedUnderLoad(t *testing.T) {
	l := startLoad(t, "TREDIS", 16, false)
	l.reach(40, "Redis was stopped")
	l.rds.stop()
	t.Logf("redis-server stopped (SIGTERM) after %d answers, %s in", l.d.answers.Load(), l.since())
	time.Sleep(2 * time.Second)
	l.rds.start()
	t.Logf("redis-server started again, %s in", l.since())
	l.finish()
	if l.d.retried.Load() == 0 {
		t.Error("nobody was told to try again: Redis was not missed")
	}
}
