package conversation_test

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
)

// serverStats is what the Redis server says it spent: EVALSHA calls and
// their microseconds (INFO commandstats: the script with the commands it
// calls), and its own CPU time (INFO cpu: also parsing, replies and system
// calls). Both are server-wide: run the benchmarks against a Redis of their
// own (ITFIT_TEST_REDIS_URL) for figures that are this package's alone.
type serverStats struct {
	evalCalls, evalUsec int64
	cpuUsec             int64
}

func readServerStats(b *testing.B, rdb redis.UniversalClient) serverStats {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var st serverStats
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		name, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch name {
		case "cmdstat_evalsha":
			for _, kv := range strings.Split(val, ",") {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch k {
				case "calls":
					st.evalCalls = n
				case "usec":
					st.evalUsec = n
				}
			}
		case "used_cpu_sys", "used_cpu_user":
			f, _ := strconv.ParseFloat(val, 64)
			st.cpuUsec += int64(f * 1e6)
		}
	}
	return st
}

func (s serverStats) sub(o serverStats) serverStats {
	return serverStats{s.evalCalls - o.evalCalls, s.evalUsec - o.evalUsec, s.cpuUsec - o.cpuUsec}
}

// BenchmarkAnswer answers one question through the engine against the real
// Redis and reports Redis round trips per answered question, and the answer
// script's time in Redis per call (INFO commandstats; the restarts between
// audits are left out). "delivery" answers as the Slack and Teams adapters
// do, each answer claiming its delivery in the script (Answer.Once); each
// audit is another person's, as each person's claims are their own.
func BenchmarkAnswer(b *testing.B) {
	for _, once := range []bool{true, false} {
		name := "delivery"
		if !once {
			name = "no_delivery"
		}
		b.Run(name, func(b *testing.B) { benchmarkAnswer(b, once) })
	}
}

func benchmarkAnswer(b *testing.B, once bool) {
	be := redistest.Real(b)
	hook := &redistest.RoundTrips{}
	be.Client.AddHook(hook)
	e := conversation.New(be.Client, advisor.Default(), conversation.Options{Prefix: be.Prefix, Now: time.Now})
	ctx := context.Background()
	var people, answers int
	person := func() conversation.Key {
		people++
		return key("bench-" + strconv.Itoa(people))
	}
	answer := func(k conversation.Key, r conversation.Reply) conversation.Reply {
		a := conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID]}
		if once {
			a.Once = conversation.Delivery{ID: "sig:" + strconv.Itoa(answers), TTL: 6 * time.Minute}
		}
		next, err := e.Answer(ctx, k, a)
		if err != nil || (next.Event != conversation.Advanced && next.Event != conversation.Completed) {
			b.Fatalf("answer %s: %s %v", r.Question.ID, next.Event, err)
		}
		answers++
		return next
	}
	k := person()
	r, err := e.Start(ctx, k)
	if err != nil {
		b.Fatal(err)
	}
	// Load the scripts before timing, as a running server has.
	r = answer(k, r)
	k = person()
	if r, err = e.Start(ctx, k); err != nil {
		b.Fatal(err)
	}
	answers = 0

	var trips int
	var script serverStats
	b.ReportAllocs()
	b.ResetTimer()
	mark := readServerStats(b, be.Client)
	hook.Count(true)
	for i := 0; i < b.N; i++ {
		if r.Question == nil {
			b.StopTimer()
			n, _ := hook.Count(false)
			trips += n
			script = script.add(readServerStats(b, be.Client).sub(mark))
			k = person()
			if r, err = e.Start(ctx, k); err != nil {
				b.Fatal(err)
			}
			mark = readServerStats(b, be.Client)
			hook.Count(true)
			b.StartTimer()
		}
		r = answer(k, r)
	}
	b.StopTimer()
	n, _ := hook.Count(false)
	trips += n
	script = script.add(readServerStats(b, be.Client).sub(mark))
	b.ReportMetric(float64(trips)/float64(answers), "roundtrips/answer")
	if script.evalCalls > 0 {
		b.ReportMetric(float64(script.evalUsec)/float64(script.evalCalls), "redis-us/script")
	}
}

func (s serverStats) add(o serverStats) serverStats {
	return serverStats{s.evalCalls + o.evalCalls, s.evalUsec + o.evalUsec, s.cpuUsec + o.cpuUsec}
}

// BenchmarkStart begins an audit: resuming one in progress (the start
// script's read-only path) and starting afresh over one (its writing path).
func BenchmarkStart(b *testing.B) {
	be := redistest.Real(b)
	e := conversation.New(be.Client, advisor.Default(), conversation.Options{Prefix: be.Prefix, Now: time.Now})
	ctx := context.Background()
	k := key("bench-start")
	r, err := e.Start(ctx, k)
	if err != nil {
		b.Fatal(err)
	}
	// Three answers in, as a user who comes back mid-audit.
	for range 3 {
		r = answerFor(b, e, k, r)
	}
	for _, tc := range []struct {
		name  string
		start func(context.Context, conversation.Key) (conversation.Reply, error)
		want  conversation.Event
	}{
		{"resume", e.Start, conversation.Resumed},
		{"fresh", e.Restart, conversation.Started},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			mark := readServerStats(b, be.Client)
			for b.Loop() {
				if r, err := tc.start(ctx, k); err != nil || r.Event != tc.want {
					b.Fatalf("%s: %s %v", tc.name, r.Event, err)
				}
			}
			st := readServerStats(b, be.Client).sub(mark)
			b.ReportMetric(float64(st.evalUsec)/float64(max(st.evalCalls, 1)), "redis-us/script")
		})
	}
}

// BenchmarkAudits runs whole audits (a start, then every answer) for many
// users at once, as a loaded server does, and reports what Redis spent per
// answered question: script time (INFO commandstats) and the server's CPU
// (INFO cpu), both including the start that began each audit.
func BenchmarkAudits(b *testing.B) {
	be := redistest.Real(b)
	e := conversation.New(be.Client, advisor.Default(), conversation.Options{Prefix: be.Prefix, Now: time.Now})
	ctx := context.Background()
	var users, answers atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	mark := readServerStats(b, be.Client)
	b.RunParallel(func(pb *testing.PB) {
		var r conversation.Reply
		var k conversation.Key
		for pb.Next() {
			if r.Question == nil {
				k = key("audits-" + strconv.FormatInt(users.Add(1), 10))
				var err error
				if r, err = e.Start(ctx, k); err != nil {
					b.Fatal(err)
				}
				continue
			}
			r = answerFor(b, e, k, r)
			answers.Add(1)
		}
	})
	st := readServerStats(b, be.Client).sub(mark)
	if n := float64(answers.Load()); n > 0 {
		b.ReportMetric(float64(st.evalUsec)/n, "redis-script-us/answer")
		b.ReportMetric(float64(st.cpuUsec)/n, "redis-cpu-us/answer")
	}
}

func answerFor(b *testing.B, e *conversation.Engine, k conversation.Key, r conversation.Reply) conversation.Reply {
	next, err := e.Answer(context.Background(), k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID]})
	if err != nil || (next.Event != conversation.Advanced && next.Event != conversation.Completed) {
		b.Fatalf("answer %s: %s %v", r.Question.ID, next.Event, err)
	}
	return next
}
