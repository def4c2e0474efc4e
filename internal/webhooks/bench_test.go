package webhooks_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/webhooks"
)

// BenchmarkQueueCompleted is what a person's completed audit costs the
// request path with one endpoint taking every event: the disclosure lookup
// (a hand-written stand-in here; one GET in production), one schedule
// MULTI and one script, against a real Redis; no worker runs, so it also
// measures what an outage's backlog holds in Redis per queued event
// (audit.completed with the full result).
func BenchmarkQueueCompleted(b *testing.B) {
	be := redistest.Real(b)
	people := make([]conversation.UserKey, 0, b.N)
	for i := range b.N {
		people = append(people, user("UBENCH"+strconv.Itoa(i)))
	}
	m := assigned(people...)
	ep := webhooks.Endpoint{Name: "crm", URL: "https://crm.example.com/in", Secrets: []string{secretOld}, Events: webhooks.Types,
		Timeout: webhooks.DefaultTimeout, MaxAttempts: webhooks.DefaultMaxAttempts}
	svc, err := webhooks.New(be.Client, []webhooks.Endpoint{ep}, webhooks.Options{Prefix: be.Prefix, Managers: m})
	if err != nil {
		b.Fatal(err)
	}
	r := completion(b, -1, false, t0)
	before := usedMemory(b, be.Client)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		svc.Completed(ctx, people[i], "", r)
	}
	b.StopTimer()
	if b.N >= 1000 {
		b.ReportMetric(float64(usedMemory(b, be.Client)-before)/float64(b.N), "redis-bytes/event")
	}
}

func usedMemory(b *testing.B, rdb redis.UniversalClient) int64 {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for l := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
