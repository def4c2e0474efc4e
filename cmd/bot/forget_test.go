package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/testkit"
)

// commandLog records the name and arguments of every command a client
// sends, pipelined ones included.
type commandLog struct {
	mu   sync.Mutex
	cmds [][]string
}

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.add(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			l.add(c)
		}
		return next(ctx, cmds)
	}
}

func (l *commandLog) add(c redis.Cmder) {
	args := make([]string, 0, len(c.Args()))
	for _, a := range c.Args() {
		args = append(args, strings.ToLower(fmt.Sprint(a)))
	}
	l.mu.Lock()
	l.cmds = append(l.cmds, args)
	l.mu.Unlock()
}

// settle waits until the client has sent nothing for a while (work a
// previous reply left running, such as a write after the message went
// out, has finished), then drops what was logged.
func (l *commandLog) settle(t *testing.T) {
	t.Helper()
	l.quiet(t)
	l.take()
}

// quiet waits until the client has sent nothing for 300 ms and returns
// what was logged since the last take.
func (l *commandLog) quiet(t *testing.T) [][]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n := -1; ; {
		l.mu.Lock()
		cur := len(l.cmds)
		l.mu.Unlock()
		if cur == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bot never stopped sending Redis commands")
		}
		n = cur
		time.Sleep(300 * time.Millisecond)
	}
	return l.take()
}

// take returns what was logged since the last take.
func (l *commandLog) take() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cmds
	l.cmds = nil
	return out
}

// buildLogged runs the server for cfg on a loopback port, with a command
// log on the client that serves people (forget runs on it), until the
// test ends.
func buildLogged(t *testing.T, cfg Config) (base string, cmds *commandLog, logs *testkit.Buffer) {
	t.Helper()
	cfg.DrainDelay = 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs = &testkit.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := build(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cmds = &commandLog{}
	s.st.rdb.AddHook(cmds)
	done := make(chan error, 1)
	go func() {
		defer s.close()
		done <- s.run(ctx, ln, nil)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	base = "http://" + ln.Addr().String()
	waitFor(t, base+"/healthz", http.StatusOK)
	return base, cmds, logs
}

// press sends a block_actions press of the button actionID on m.
func press(t *testing.T, base, team, user string, m postedMsg, actionID string) {
	t.Helper()
	for _, b := range m.Blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			el, _ := e.(map[string]any)
			if el["action_id"] == actionID {
				act := map[string]any{"action_id": actionID, "value": el["value"], "type": "button"}
				if code, body := postSigned(t, base, "/slack/interactions", "application/x-www-form-urlencoded", blockActions(t, team, user, m, act, nil), faultSecret); code != http.StatusOK {
					t.Fatalf("press %s: %d %s", actionID, code, body)
				}
				return
			}
		}
	}
	t.Fatalf("no %s button in %q", actionID, m.Text)
}

// waitUntil polls cond until it holds; the bound only turns a hang into a
// failure.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestForgetCostsTheUsersKeysNotTheKeyspace: a person with a finished
// audit and a reminder presses "Yes, erase everything" through the real
// Slack endpoint, once on a quiet Redis and once (another person) with
// 200,000 unrelated keys beside them, some of them itfit's own. Both
// forgets send the same number of commands, none of them a scan, and leave
// no key of the person behind. A second forget moments later erases
// nothing and runs no eraser.
func TestForgetCostsTheUsersKeysNotTheKeyspace(t *testing.T) {
	// A team of its own per run: another run of this test sharing the
	// Redis would otherwise find its people mid-forget.
	team := "TFORGETCOST" + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano()%1e9, 36))
	redisURL, rdb := serveRedis(t, team)
	api := newWebAPIFake(t)
	base, cmds, logs := buildLogged(t, serveSlackCfg(t, redisURL, api))
	ctx := context.Background()

	// forget takes user through the audit to a card with a reminder, then
	// erases them, and returns the commands the erasing press sent.
	forget := func(user string) [][]string {
		t.Helper()
		postSlash(t, base, team, user, "")
		m := api.next(t)
		for questionNo(m) != 0 {
			clickFirstAnswer(t, base, team, user, m)
			m = api.next(t)
		}
		card := m
		press(t, base, team, user, card, "itfit_remind")
		if m := api.next(t); !strings.Contains(m.Text, "remind you") {
			t.Fatalf("Remind me answered %q", m.Text)
		}
		jobs := keys.Default.ScheduleJobs()
		waitUntil(t, "the reminder", func() bool {
			ids, _ := rdb.HKeys(ctx, jobs).Result()
			return slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(id, user) })
		})
		pattern := keys.Default.UserPattern("slack", team, user)
		if ks, _ := rdb.Keys(ctx, pattern).Result(); len(ks) < 3 {
			t.Fatalf("%s holds only %v before forget", user, ks)
		}

		confirm := forgetConfirm(t, base, team, user)
		before := updates(api)
		cmds.settle(t)
		press(t, base, team, user, confirm, "itfit_forget")
		waitUntil(t, "the erased reply", func() bool { return updates(api) > before })
		sent := cmds.quiet(t)
		if ks, _ := rdb.Keys(ctx, pattern).Result(); len(ks) > 1 || (len(ks) == 1 && !strings.HasSuffix(ks[0], ":forgetting")) {
			t.Errorf("%s still holds %v after forget", user, ks)
		}
		return sent
	}

	// A first forget loads the erasers' scripts into Redis: on a server
	// that has not seen them (a fresh one, or after SCRIPT FLUSH) go-redis
	// follows an EVALSHA answered NOSCRIPT with an EVAL, one command more
	// that has nothing to do with the keyspace.
	forget("UFORGETWARM")
	quiet := forget("UFORGETQUIET")

	// 200,000 keys that are not this person's: other people's sessions
	// and history under itfit's own prefix, and keys of other apps.
	noise := team + "NOISE"
	for i := 0; i < 200_000; i += 10_000 {
		pipe := rdb.Pipeline()
		for j := i; j < i+10_000; j++ {
			k := keys.Default.History("slack", noise, fmt.Sprintf("U%06d", j))
			if j%2 == 1 {
				k = fmt.Sprintf("otherapp:%s:%d", noise, j)
			}
			pipe.Set(ctx, k, "x", 10*time.Minute)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, pat := range []string{"otherapp:" + noise + ":*"} {
			if ks, _ := rdb.Keys(ctx, pat).Result(); len(ks) > 0 {
				for len(ks) > 0 {
					n := min(len(ks), 10_000)
					rdb.Del(ctx, ks[:n]...)
					ks = ks[n:]
				}
			}
		}
	})
	crowded := forget("UFORGETCROWD")

	names := func(cs [][]string) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c[0])
		}
		return out
	}
	t.Logf("a forget sent %d commands on a quiet Redis, %d beside 200,000 other keys: %v", len(quiet), len(crowded), names(crowded))
	for _, c := range append(quiet, crowded...) {
		switch c[0] {
		case "scan", "keys", "hscan", "sscan", "zscan":
			t.Errorf("forget walked the keyspace: %v", c)
		}
	}
	if len(quiet) != len(crowded) {
		t.Errorf("forget sent %d commands on a quiet Redis but %d beside 200,000 keys: it depends on the keyspace", len(quiet), len(crowded))
	}
	if len(crowded) > 40 {
		t.Errorf("forget sent %d commands, want at most 40 for a person with one audit and one reminder", len(crowded))
	}

	// A second forget of the same person moments later (another press, a
	// script) runs no eraser: only the guard's SET NX, and the reply.
	const user = "UFORGETCROWD"
	confirm := forgetConfirm(t, base, team, user)
	before := updates(api)
	cmds.settle(t)
	press(t, base, team, user, confirm, "itfit_forget")
	waitUntil(t, "the second forget's reply", func() bool { return updates(api) > before })
	for _, c := range cmds.quiet(t) {
		if c[0] == "del" || c[0] == "unlink" || c[0] == "evalsha" || c[0] == "eval" {
			t.Errorf("a repeated forget ran %v", c)
		}
	}
	if n := strings.Count(logs.String(), "chat: person forgotten"); n != 3 {
		t.Errorf("%d forgets ran for three people and a repeated press, want 3", n)
	}
}

// forgetConfirm types /itfit forget and returns the question it answers
// with (at once, in the command's response), as a message in the channel
// the command was typed in.
func forgetConfirm(t *testing.T, base, team, user string) postedMsg {
	t.Helper()
	code, body := postSlash(t, base, team, user, "forget")
	var m postedMsg
	if err := json.Unmarshal([]byte(body), &m); code != http.StatusOK || err != nil {
		t.Fatalf("/itfit forget: %d %q", code, body)
	}
	m.Channel, m.TS = "C1", "1700000999.000001"
	return m
}

// updates counts the chat.update calls the fake has answered.
func updates(api *webAPIFake) int {
	api.mu.Lock()
	defer api.mu.Unlock()
	return api.calls["chat.update"]
}
