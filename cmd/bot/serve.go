package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// worker runs beside the HTTP server (Socket Mode, the nudge scheduler)
// until its context ends.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// serve runs the HTTP server until ctx ends, then shuts down in order (see
// server.run). ln may be nil (listen on PORT); tests pass their own on
// 127.0.0.1:0.
func serve(ctx context.Context, cfg Config, log *slog.Logger, ln net.Listener) error {
	log.Info("starting itfit", "version", version, "commit", commit)
	defer startDebug(ctx, log, cfg.PprofAddr)()
	s, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx, ln)
}

// server is everything `bot serve` is made of, built and not yet running:
// nothing listens and no worker runs until run.
type server struct {
	cfg     Config
	log     *slog.Logger
	st      *storage
	bg      *background.Group
	ready   atomic.Bool // from run's start until shutdown begins
	public  *http.Server
	workers []worker
}

// build constructs the storage, the engine, the adapters and their
// workers, the revisit worker and the HTTP servers. On error whatever it
// opened is closed; otherwise the caller closes it with close.
func build(ctx context.Context, cfg Config, log *slog.Logger) (s *server, err error) {
	audit, err := loadAudit(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStorage(cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if err := st.ping(ctx); err != nil {
		// Keep serving: /readyz fails until Redis answers, and requests get
		// a "temporarily unavailable" reply instead of a dead port.
		log.Error(st.unreachable(err))
	}

	metrics := obs.NewMetrics()
	engine := conversation.New(st.rdb, audit, conversation.Options{
		SessionTTL: cfg.SessionTTL,
		HistoryTTL: cfg.HistoryTTL,
		Observe:    observe(metrics),
	})
	bg := background.New(log, 256, 30*time.Second)
	s = &server{cfg: cfg, log: log, st: st, bg: bg}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if err := st.ping(r.Context()); err != nil {
			obs.Logger(r.Context(), log).Warn("not ready", "err", st.unreachable(err))
			http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", metrics.Handler())

	sched := schedule.NewStore(st.rdb, schedule.StoreConfig{})
	managers, err := revisit.ParseDirectory(cfg.AccountManagers)
	if err != nil {
		return nil, err
	}
	revisits := revisit.New(st.rdb, sched, engine, revisit.Config{
		After: cfg.RevisitAfter, Managers: managers, HistoryTTL: cfg.HistoryTTL, Logger: log,
	})

	workers, err := mountAdapters(cfg, log, deps{engine: engine, rdb: st.rdb, metrics: metrics, bg: bg, revisits: revisits}, mux)
	if err != nil {
		return nil, err
	}
	nudges := schedule.NewWorker(sched, countNudges(revisits, metrics), schedule.WorkerConfig{Logger: log.With("worker", "revisits")})
	s.workers = append(workers, worker{name: "revisits", run: nudges.Run})
	s.public = newHTTPServer(log, metrics, mux)
	return s, nil
}

func newHTTPServer(log *slog.Logger, metrics *obs.Metrics, mux *http.ServeMux) *http.Server {
	return &http.Server{
		Handler:           obs.Middleware(log, metrics, mux),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// close lets Redis go; it comes after run, which has stopped everything
// that uses it.
func (s *server) close() { s.st.close() }

// run listens (on ln, or PORT when it is nil), starts the workers, and
// serves until ctx ends; then shuts down in order: not ready first, so load
// balancers stop sending; then drain HTTP; then stop the workers, then the
// background tasks. Redis is closed by close.
func (s *server) run(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", fmt.Sprintf(":%d", s.cfg.Port)); err != nil {
			return fmt.Errorf("listen on PORT %d: %w", s.cfg.Port, err)
		}
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "store", s.st.addr)

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.public.Serve(ln) }()
	workCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	var wg sync.WaitGroup
	for _, w := range s.workers {
		wg.Go(func() {
			if err := w.run(workCtx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("worker stopped", "worker", w.name, "err", err)
			}
		})
	}
	s.ready.Store(true)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopWorkers()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}

	s.log.Info("shutting down: marked not ready", "drain_delay", s.cfg.DrainDelay.String())
	s.ready.Store(false)
	time.Sleep(s.cfg.DrainDelay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.public.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("http drain incomplete", "err", err)
	}
	stopWorkers()
	wg.Wait()
	if err := s.bg.Wait(shutdownCtx); err != nil {
		s.log.Warn("background tasks still running at shutdown", "err", err)
	}
	s.log.Info("stopped")
	return nil
}

// countNudges counts every delivery outcome of the revisit worker.
func countNudges(d schedule.Deliverer, m *obs.Metrics) schedule.Deliverer {
	return schedule.DelivererFunc(func(ctx context.Context, j schedule.Job) error {
		kind, _, _ := strings.Cut(j.ID, "/")
		err := d.Deliver(ctx, j)
		var ra *schedule.RetryAfterError
		switch {
		case err == nil:
			m.Nudge(kind, "sent")
		case errors.Is(err, schedule.ErrGone):
			m.Nudge(kind, "dropped")
		case errors.As(err, &ra):
			m.Nudge(kind, "retried")
		default:
			m.Nudge(kind, "failed")
		}
		return err
	})
}

// observe turns engine outcomes into metrics.
func observe(m *obs.Metrics) func(conversation.Key, conversation.Reply, error) {
	return func(k conversation.Key, r conversation.Reply, err error) {
		p := string(k.Platform)
		if err != nil {
			if errors.Is(err, conversation.ErrUnavailable) {
				m.StoreError(p)
			}
			m.Turn(p, "error")
			return
		}
		m.Turn(p, string(r.Event))
		if r.Event == conversation.Completed && r.Result != nil {
			m.Completion(p, string(r.Result.Verdict))
		}
	}
}
