package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redisconn"
)

// loadAudit reads ITFIT_AUDIT_FILE, or takes the built-in audit.
func loadAudit(cfg Config) (*advisor.Audit, error) {
	if cfg.AuditFile == "" {
		return advisor.Embedded()
	}
	data, err := os.ReadFile(cfg.AuditFile)
	if err != nil {
		return nil, fmt.Errorf("ITFIT_AUDIT_FILE: %w", err)
	}
	return advisor.Parse(cfg.AuditFile, data)
}

// storage is the Redis the process talks to and how to let it go.
type storage struct {
	// rdb is the request path's client (redisconn.Interactive: a Redis
	// that does not answer fails within about a second, so a person is told
	// at once); bg is the nudge scheduler's (redisconn.Background: patient,
	// as nobody waits on it). The two share no connections.
	rdb, bg  redis.UniversalClient
	addr     string // for messages: the address tried
	embedded bool
	close    func()
}

// openStorage connects to REDIS_URL, or starts the embedded server when it
// is unset. It does not wait for Redis to answer: a server that starts
// before Redis reports not-ready until it does. go-redis's own log lines
// go to log (JSON for serve; chat passes a discarding one) until close.
func openStorage(cfg Config, log *slog.Logger) (*storage, error) {
	st, err := dialStorage(cfg, log)
	if err != nil {
		return nil, err
	}
	stopLogs := redisconn.RouteLogs(log)
	closeStore := st.close
	st.close = func() { closeStore(); stopLogs() }
	return st, nil
}

func dialStorage(cfg Config, log *slog.Logger) (*storage, error) {
	if cfg.RedisURL == "" {
		e, err := redisconn.StartEmbedded()
		if err != nil {
			return nil, err
		}
		st, err := profiles(e.URL())
		if err != nil {
			e.Close()
			return nil, err
		}
		log.Warn("REDIS_URL is not set: using an embedded store; nothing survives a restart and replicas do not share it")
		st.addr, st.embedded = "embedded", true
		closeClients := st.close
		st.close = func() { closeClients(); e.Close() }
		return st, nil
	}
	st, err := profiles(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	st.addr = redisconn.Addr(cfg.RedisURL)
	return st, nil
}

// profiles opens the two clients of one Redis URL.
func profiles(url string) (*storage, error) {
	rdb, err := redisconn.OpenProfile(url, redisconn.Interactive)
	if err != nil {
		return nil, err
	}
	bg, err := redisconn.OpenProfile(url, redisconn.Background)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return &storage{rdb: rdb, bg: bg, close: func() { rdb.Close(); bg.Close() }}, nil
}

// unreachable words a failed ping for an operator.
func (s *storage) unreachable(err error) string {
	return fmt.Sprintf("cannot reach Redis at %s (REDIS_URL): %v", s.addr, err)
}

func (s *storage) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.rdb.Ping(ctx).Err()
}

func newEngine(cfg Config, a *advisor.Audit, s *storage) *conversation.Engine {
	return conversation.New(s.rdb, a, conversation.Options{SessionTTL: cfg.SessionTTL, HistoryTTL: cfg.HistoryTTL})
}
