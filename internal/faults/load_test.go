package faults_test

import (
	"context"
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

// Issue 15: kill -9 of bot serve twice during a 2,000-user Slack load,
// restarted on the same port each time; people whose reply never came
// click again after silence (every other one types /itfit again after
// their last answer). Every one of them gets their card, nobody takes the
// audit twice, nobody is left with a note and nothing to press, and every
// answer the bot moved on from is in their result.
func TestKill9TwiceUnderLoad(t *testing.T) {
	needProcesses(t)
	const users, inFlight = 2000, 100
	rds := startRedis(t)
	fake := newSlackFake(t, true)
	env := append(fake.env("r0"), "REDIS_URL="+rds.url(), "LOG_LEVEL=warn", "ITFIT_DRAIN_DELAY=0s")
	bot := startBot(t, "bot", freePort(t), env)

	us := make([]*simUser, users)
	for i := range us {
		us[i] = newUser("TKILL", i, 15)
		fake.addUser(us[i])
	}
	d := newDriver(t, bot.base(), inFlight)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Logf("load average before: %s", loadavg())
	start := time.Now()
	done := make(chan []error, 1)
	go func() {
		done <- d.runUsers(ctx, us, inFlight, func(i int) auditOpts { return auditOpts{retype: i%2 == 1} })
	}()

	// About 9 answers per audit: kill at 30% and at 65% of the run.
	kills := 0
	for _, at := range []int64{users * 9 * 30 / 100, users * 9 * 65 / 100} {
		for d.answers.Load() < at {
			select {
			case errs := <-done:
				t.Fatalf("the load ended before kill %d: %v", kills+1, errs)
			case <-time.After(5 * time.Millisecond):
			}
		}
		bot.kill()
		kills++
		t.Logf("kill -9 #%d after %d answers, %s in", kills, d.answers.Load(), time.Since(start).Round(time.Millisecond))
		bot.start()
	}
	errs := <-done
	took := time.Since(start)
	t.Logf("load average after: %s", loadavg())
	for i, err := range errs {
		if i < 5 {
			t.Error(err)
		}
	}
	logDriver(t, d, took)
	checkUsers(t, rds.client(), us)
	fake.checkProto(t)
	if n, _, max := d.acks.stats(); n == 0 || max > 3*time.Second {
		t.Errorf("slowest acknowledgement %s, want every one within 3 s", max)
	}
	if d.reclicks.Load() == 0 || d.retypes.Load() == 0 {
		t.Errorf("no reply was lost to the kills (%d clicked again, %d typed /itfit again): the test proved nothing", d.reclicks.Load(), d.retypes.Load())
	}
}

// Issue 15: Redis stopped with SIGTERM mid-load and started again (its
// append-only file on) 2 s later. People told "temporarily unavailable"
// try again; those whose reply was lost click again after silence. Nobody
// loses an answer the bot moved on from, or their card. The fake Web API
// speaks HTTP/1.1 here.
func TestRedisRestartedUnderLoad(t *testing.T) {
	needProcesses(t)
	const users, inFlight = 2000, 100
	rds := startRedis(t)
	fake := newSlackFake(t, false)
	env := append(fake.env("r0"), "REDIS_URL="+rds.url(), "LOG_LEVEL=warn", "ITFIT_DRAIN_DELAY=0s")
	bot := startBot(t, "bot", freePort(t), env)

	us := make([]*simUser, users)
	for i := range us {
		us[i] = newUser("TREDIS", i, 16)
		fake.addUser(us[i])
	}
	d := newDriver(t, bot.base(), inFlight)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Logf("load average before: %s", loadavg())
	start := time.Now()
	done := make(chan []error, 1)
	go func() {
		done <- d.runUsers(ctx, us, inFlight, func(i int) auditOpts { return auditOpts{retype: i%2 == 1} })
	}()
	for d.answers.Load() < users*9*40/100 {
		select {
		case errs := <-done:
			t.Fatalf("the load ended before Redis was stopped: %v", errs)
		case <-time.After(5 * time.Millisecond):
		}
	}
	rds.stop()
	t.Logf("redis-server stopped (SIGTERM) after %d answers, %s in", d.answers.Load(), time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	rds.start()
	t.Logf("redis-server started again, %s in", time.Since(start).Round(time.Millisecond))
	errs := <-done
	took := time.Since(start)
	t.Logf("load average after: %s", loadavg())
	for i, err := range errs {
		if i < 5 {
			t.Error(err)
		}
	}
	logDriver(t, d, took)
	checkUsers(t, rds.client(), us)
	fake.checkProto(t)
	if n, _, max := d.acks.stats(); n == 0 || max > 3*time.Second {
		t.Errorf("slowest acknowledgement %s, want every one within 3 s", max)
	}
	if d.retried.Load() == 0 {
		t.Error("nobody was told to try again: Redis was not missed")
	}
}
