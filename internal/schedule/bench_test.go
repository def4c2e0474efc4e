package schedule

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// benchJobs are shaped like real nudges: a ~28-byte ID and a 64-byte
// payload (a JSON reference to the conversation and reminder kind).
func benchJob(i int, due time.Time) Job {
	return Job{ID: fmt.Sprintf("revisit:slack:T0123:U%08d", i), Due: due, Payload: make([]byte, 64)}
}

// BenchmarkScheduleMillion schedules 1,000,000 nudges (1% of them due, the
// rest spread over the next year), reports Redis memory per job, then times
// claiming a batch of 32 due jobs among them. It needs a real Redis
// (ITFIT_TEST_REDIS_URL); on miniredis the memory figures mean nothing.
//
//	ITFIT_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench ScheduleMillion ./internal/schedule/
func BenchmarkScheduleMillion(b *testing.B) { benchClaimAmong(b, 1_000_000) }

// BenchmarkClaimAmongThousand is the same claim among 1,000 jobs, to show
// that the claim cost does not grow with the number scheduled.
func BenchmarkClaimAmongThousand(b *testing.B) { benchClaimAmong(b, 1_000) }

func benchClaimAmong(b *testing.B, n int) {
	rdb, real := testRedis(b)
	if !real {
		b.Skip("set ITFIT_TEST_REDIS_URL: memory and timing need a real Redis")
	}
	ctx := context.Background()
	p := testPrefix(b, rdb)
	s := NewStore(rdb, StoreConfig{Prefix: p})
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	before := usedMemory(b, rdb)
	start := time.Now()
	const chunk = 10_000
	jobs := make([]Job, 0, chunk)
	dueCount := max(n/100, min(n, 1000)) // 1% due, but enough to claim from
	for i := 0; i < n; i++ {
		due := now.Add(-time.Duration(i+1) * time.Millisecond)
		if i >= dueCount {
			due = now.Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(n)))
		}
		jobs = append(jobs, benchJob(i, due))
		if len(jobs) == chunk || i == n-1 {
			if err := s.ScheduleMany(ctx, jobs); err != nil {
				b.Fatal(err)
			}
			jobs = jobs[:0]
		}
	}
	scheduleTime := time.Since(start)
	after := usedMemory(b, rdb)

	var keyBytes int64
	for _, k := range []string{p.ScheduleDue(), p.ScheduleJobs()} {
		m, err := rdb.MemoryUsage(ctx, k, 0).Result() // SAMPLES 0: every element
		if err != nil {
			b.Fatal(err)
		}
		keyBytes += m
	}

	lease := time.Minute
	calls0, usec0 := evalStats(b, rdb)
	for b.Loop() {
		// Each round's clock is past the previous lease, as on a live
		// worker, so there are always due jobs to find.
		got, err := s.claim(ctx, now, now.Add(lease), 32)
		if err != nil || len(got) != 32 {
			b.Fatalf("claim: %d jobs, %v", len(got), err)
		}
		now = now.Add(lease + time.Millisecond)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/claim32")
	// Redis's own time in the claim script, free of client and scheduling
	// noise (other scripts running meanwhile would blur it slightly).
	if calls1, usec1 := evalStats(b, rdb); calls1 > calls0 {
		b.ReportMetric(float64(usec1-usec0)/float64(calls1-calls0), "server-µs/claim32")
	}
	// Reported after the loop: b.Loop's first call resets extra metrics.
	b.ReportMetric(float64(n), "jobs")
	b.ReportMetric(float64(keyBytes)/float64(n), "B/job(MEMORY-USAGE)")
	if n >= 100_000 { // smaller deltas drown in other clients' noise
		b.ReportMetric(float64(after-before)/float64(n), "B/job(used_memory)")
	}
	b.ReportMetric(float64(scheduleTime.Nanoseconds())/float64(n), "ns/schedule")
}

// usedMemory reads INFO used_memory once Redis has finished freeing what
// earlier runs UNLINKed in the background, so the delta is this run's.
func usedMemory(b *testing.B, rdb redis.UniversalClient) int64 {
	var info string
	for range 100 {
		var err error
		info, err = rdb.Info(context.Background(), "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(info, "lazyfree_pending_objects:") || strings.Contains(info, "lazyfree_pending_objects:0\r\n") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}

// evalStats sums calls and microseconds of EVAL and EVALSHA from INFO
// commandstats.
func evalStats(b *testing.B, rdb redis.UniversalClient) (calls, usec int64) {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:")
		if !ok {
			rest, ok = strings.CutPrefix(line, "cmdstat_eval:")
		}
		if !ok {
			continue
		}
		for _, f := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				calls += n
			case "usec":
				usec += n
			}
		}
	}
	return calls, usec
}
