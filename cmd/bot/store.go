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
	rdb      redis.UniversalClient
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
		rdb, err := redisconn.Open(e.URL())
		if err != nil {
			e.Close()
			return nil, err
		}
		log.Warn("REDIS_URL is not set: using an embedded store; nothing survives a restart and replicas do not share it")
		return &storage{rdb: rdb, addr: "embedded", embedded: true, close: func() { rdb.Close(); e.Close() }}, nil
	}
	rdb, err := redisconn.Open(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	return &storage{rdb: rdb, addr: redisconn.Addr(cfg.RedisURL), close: func() { rdb.Close() }}, nil
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
