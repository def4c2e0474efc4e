package schedule

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"math/rand/v2"
)

// testRedis connects to the Redis named by ITFIT_TEST_REDIS_URL (what CI
// uses), or else to an in-process miniredis. real reports which.
func testRedis(tb testing.TB) (rdb redis.UniversalClient, real bool) {
	tb.Helper()
	if url := os.Getenv("ITFIT_TEST_REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			tb.Fatalf("ITFIT_TEST_REDIS_URL: %v", err)
		}
		c := redis.NewClient(opt)
		if err := c.Ping(context.Background()).Err(); err != nil {
			tb.Fatalf("ITFIT_TEST_REDIS_URL: %v", err)
		}
		tb.Cleanup(func() { _ = c.Close() })
		return c, true
	}
	mr := miniredis.RunT(tb)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	tb.Cleanup(func() { _ = c.Close() })
	return c, false
}

// testPrefix gives a test its own key prefix and deletes every scheduler key
// under it when the test ends.
func testPrefix(tb testing.TB, rdb redis.UniversalClient) keys.Prefix {
	tb.Helper()
	p := keys.Prefix("itfittest" + strconv.FormatUint(rand.Uint64(), 36))
	tb.Cleanup(func() { deleteKeys(tb, rdb, p.SchedulePattern()) })
	return p
}

func deleteKeys(tb testing.TB, rdb redis.UniversalClient, pattern string) {
	ctx := context.Background()
	it := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				tb.Errorf("cleanup: %v", err)
			}
			batch = batch[:0]
		}
	}
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == 1000 {
			flush()
		}
	}
	if err := it.Err(); err != nil {
		tb.Errorf("cleanup scan: %v", err)
	}
	flush()
}
