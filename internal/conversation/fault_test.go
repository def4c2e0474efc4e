package conversation_test

import (
	"errors"
	neturl "net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/redistest"
)

// TestRedisGoesAwayMidAudit cuts the connection to a real Redis between two
// answers: the answer fails as unavailable, and once Redis is back the
// same card's answer goes through from the same question.
func TestRedisGoesAwayMidAudit(t *testing.T) {
	b := redistest.Real(t)
	proxy, rdb := redistest.CuttableClient(t, b)
	e := conversation.New(rdb, advisor.Default(), conversation.Options{Prefix: b.Prefix})
	k := key("fault")

	r, err := e.Start(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	r = answerCurrent(t, e, k, r)
	shown := r

	proxy.Cut()
	_, err = e.Answer(ctx, k, conversation.Answer{Rev: shown.Rev, Question: shown.Question.ID, Options: coManaged[shown.Question.ID]})
	if !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("answer with Redis gone: %v", err)
	}
	if err := e.Ping(ctx); err == nil {
		t.Fatal("ping succeeds with Redis gone")
	}

	proxy.Restore()
	next, err := e.Answer(ctx, k, conversation.Answer{Rev: shown.Rev, Question: shown.Question.ID, Options: coManaged[shown.Question.ID]})
	if err != nil || next.Event != conversation.Advanced || next.Position != shown.Position+1 {
		t.Fatalf("after Redis returned: %+v %v", next, err)
	}
}

// TestSentinelFailover promotes the replica mid-audit: the client follows
// the new primary by the URL alone and the audit carries on. It fails over
// a primary of its own (ITFIT_TEST_REDIS_FAILOVER_URL): the shared Sentinel
// group serves other packages' tests at the same moment.
func TestSentinelFailover(t *testing.T) {
	url := os.Getenv(redistest.EnvFailoverURL)
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(redistest.EnvFailoverURL + " must be set in CI")
		}
		t.Skip(redistest.EnvFailoverURL + " is not set")
	}
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	master := u.Query().Get("master_name")
	rdb, err := redisconn.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	p := redistest.NewPrefix()
	defer redistest.Clean(t, rdb, p)
	e := conversation.New(rdb, advisor.Default(), conversation.Options{Prefix: p})
	k := key("failover")
	r, err := e.Start(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	r = answerCurrent(t, e, k, r)
	// The replica must have the session before it is promoted.
	if err := rdb.Do(ctx, "WAIT", 1, 2000).Err(); err != nil {
		t.Fatal(err)
	}

	sentinel := redis.NewSentinelClient(&redis.Options{Addr: redisconn.Addr(url)})
	defer sentinel.Close()
	before, err := sentinel.GetMasterAddrByName(ctx, master).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := sentinel.Failover(ctx, master).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	moved := false
	for i := 0; i < 200 && !moved; i++ {
		now, err := sentinel.GetMasterAddrByName(ctx, master).Result()
		moved = err == nil && now[1] != before[1]
		time.Sleep(50 * time.Millisecond)
	}
	if !moved {
		t.Fatalf("the primary never moved from %v", before)
	}
	// The old primary may still answer for a moment while it is demoted;
	// retry through the window the way a user clicking again would.
	var next conversation.Reply
	for i := 0; i < 100; i++ {
		next, err = e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: coManaged[r.Question.ID]})
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || next.Event != conversation.Advanced || next.Position != r.Position+1 {
		t.Fatalf("after failover: %+v %v", next, err)
	}
}
