package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
	"github.com/itfit/itfit/internal/webhooks"
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
	tuneGC(log, os.Getenv, "/sys/fs/cgroup/memory.max")
	defer startDebug(ctx, log, cfg.PprofAddr)()
	s, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx, ln, nil)
}

// server is everything `bot serve` is made of, built and not yet running:
// nothing listens and no worker runs until run.
type server struct {
	cfg     Config
	log     *slog.Logger
	st      *storage
	bg      *background.Group
	ready   *readiness
	public  *http.Server
	admin   *http.Server // nil: the probes and metrics are on public
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
	bg := background.NewGroup(background.Config{
		Limit: 256, Timeout: 30 * time.Second, Logger: log,
		OnDrop: func(_, name string, err error) {
			reason := "busy"
			if errors.Is(err, background.ErrStale) {
				reason = "stale"
			}
			metrics.Shed(name, reason)
		},
	})
	s = &server{cfg: cfg, log: log, st: st, bg: bg, ready: newReadiness(st, log)}

	mux := http.NewServeMux()
	probes := mux
	if cfg.AdminAddr != "" {
		// Probes and metrics on a listener of their own, which need not be
		// reachable from the internet; the public port has none of them.
		probes = http.NewServeMux()
		s.admin = newHTTPServer(log, metrics, probes)
	}
	probes.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	probes.Handle("GET /readyz", s.ready)
	probes.Handle("GET /metrics", metrics.Handler())

	// The revisit service schedules on the request path's client (a
	// person pressed Remind me); the worker claims and delivers on the
	// patient one.
	sched := schedule.NewStore(st.rdb, schedule.StoreConfig{})
	workerSched := schedule.NewStore(st.bg, schedule.StoreConfig{})
	rules := platformRules()
	managers, err := revisit.ParseDirectory(cfg.AccountManagers, rules)
	if err != nil {
		return nil, err
	}
	hooks, disclose, err := newWebhooks(cfg, st, engine, metrics, log)
	if err != nil {
		return nil, err
	}
	var revisitEvents revisit.Events
	if hooks != nil {
		revisitEvents = hooks
	}
	revisits := revisit.New(st.rdb, sched, engine, revisit.Config{
		After: cfg.RevisitAfter, Managers: managers, Platforms: rules, HistoryTTL: cfg.HistoryTTL, Events: revisitEvents, Logger: log,
	})
	disclose.r = revisits

	d := deps{engine: engine, rdb: st.rdb, metrics: metrics, bg: bg, revisits: revisits, managers: managers, webhooks: hooks, historyTTL: cfg.HistoryTTL}
	if cfg.LinkSecret != "" {
		secret, _ := links.ParseSecret(cfg.LinkSecret) // checked by loadConfig
		if d.links, err = links.New(links.Options{Secret: secret, PublicURL: cfg.PublicURL, Redis: st.rdb}); err != nil {
			return nil, fmt.Errorf("configuration: ITFIT_LINK_SECRET: %w", err)
		}
	}
	workers, err := mountAdapters(cfg, log, d, mux)
	if err != nil {
		return nil, err
	}
	nudges := schedule.NewWorker(workerSched, revisits, nudgeWorkerConfig(cfg, log, metrics, revisits))
	s.workers = append(workers, worker{name: "revisits", run: nudges.Run})
	if hooks != nil {
		// Deliveries on the patient client, like the nudges.
		s.workers = append(s.workers, worker{name: "webhooks", run: hooks.Worker(st.bg, webhooks.WorkerConfig{}).Run})
		log.Info("webhooks enabled", "endpoints", len(hooks.Endpoints()))
	}
	s.public = newHTTPServer(log, metrics, mux)
	return s, nil
}

// newWebhooks builds the webhook service for ITFIT_WEBHOOKS, or nil when
// it is empty. Whether a person's result may be sent depends on their
// account manager, which the revisit service (built after it, as it reports
// to it) knows: the returned managers is pointed at it once built.
func newWebhooks(cfg Config, st *storage, engine *conversation.Engine, metrics *obs.Metrics, log *slog.Logger) (*webhooks.Service, *managersOf, error) {
	eps, err := webhooks.Parse(cfg.Webhooks)
	if err != nil || len(eps) == 0 {
		return nil, &managersOf{}, err
	}
	m := &managersOf{}
	hooks, err := webhooks.New(st.rdb, eps, webhooks.Options{
		Logger: log, Metrics: metrics, Managers: m, History: engine,
		UserAgent: "itfit-webhooks/" + version,
	})
	return hooks, m, err
}

// managersOf forwards to the revisit service once it is built.
type managersOf struct{ r *revisit.Service }

func (m *managersOf) ManagerOf(ctx context.Context, u conversation.UserKey) (revisit.Manager, bool, error) {
	if m.r == nil {
		return revisit.Manager{}, false, nil
	}
	return m.r.ManagerOf(ctx, u)
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

// run listens (ln and adminLn may be nil: PORT and ITFIT_ADMIN_ADDR), starts
// the workers, and serves until ctx ends; then shuts down in order: not
// ready first, so load balancers stop sending; then drain HTTP (the public
// listener, then the admin one, which answers probes until then); then stop
// the workers, then the background tasks. Redis is closed by close.
func (s *server) run(ctx context.Context, ln, adminLn net.Listener) error {
	var err error
	if ln == nil {
		if ln, err = net.Listen("tcp", fmt.Sprintf(":%d", s.cfg.Port)); err != nil {
			return fmt.Errorf("listen on PORT %d: %w", s.cfg.Port, err)
		}
	}
	servers := []*http.Server{s.public}
	listeners := []net.Listener{ln}
	if s.admin != nil {
		if adminLn == nil {
			if adminLn, err = net.Listen("tcp", s.cfg.AdminAddr); err != nil {
				ln.Close()
				return fmt.Errorf("listen on ITFIT_ADMIN_ADDR %s: %w", s.cfg.AdminAddr, err)
			}
		}
		servers, listeners = append(servers, s.admin), append(listeners, adminLn)
		s.log.Info("admin endpoints on their own listener", "addr", adminLn.Addr().String())
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "store", s.st.addr)

	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { serveErr <- srv.Serve(listeners[i]) }()
	}
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
	s.ready.up.Store(true)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		for _, srv := range servers {
			srv.Close()
		}
		stopWorkers()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}

	s.log.Info("shutting down: marked not ready", "drain_delay", s.cfg.DrainDelay.String())
	s.ready.up.Store(false)
	// The workers stop at once, beside the drain: the nudge worker claims
	// nothing more and its deliveries in flight finish within the drain
	// delay and the shutdown timeout (its StopTimeout), so the whole
	// shutdown keeps ITFIT_DRAIN_DELAY + ITFIT_SHUTDOWN_TIMEOUT.
	stopWorkers()
	time.Sleep(s.cfg.DrainDelay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			s.log.Warn("http drain incomplete", "err", err)
		}
	}
	wg.Wait()
	if err := s.bg.Wait(shutdownCtx); err != nil {
		s.log.Warn("background tasks still running at shutdown", "err", err)
	}
	s.log.Info("stopped")
	return nil
}

// readiness serves /readyz: ready while the server runs and Redis
// answers. The Redis check is cached for readyFor, and probes that come
// meanwhile wait for the one in flight, so a flood of /readyz costs at
// most one PING a second whatever its rate (and one log line a second
// while Redis is away).
type readiness struct {
	up          atomic.Bool // false before run and from the moment shutdown begins
	ping        func(ctx context.Context) error
	unreachable func(error) string
	log         *slog.Logger

	mu      sync.Mutex
	checked time.Time // zero: never
	err     error
}

const readyFor = time.Second

func newReadiness(st *storage, log *slog.Logger) *readiness {
	return &readiness{ping: st.ping, unreachable: st.unreachable, log: log}
}

// redis returns the result of the last PING, pinging again once it is
// older than readyFor. The PING does not end with the probe that made it:
// others are waiting for its answer.
func (rd *readiness) redis(ctx context.Context) error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.checked.IsZero() || time.Since(rd.checked) >= readyFor {
		rd.err = rd.ping(context.WithoutCancel(ctx))
		rd.checked = time.Now()
		if rd.err != nil {
			obs.Logger(ctx, rd.log).Warn("not ready", "err", rd.unreachable(rd.err))
		}
	}
	return rd.err
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !rd.up.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if err := rd.redis(r.Context()); err != nil {
		http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// nudgeWorkerConfig is the revisit worker's: the service verifies
// ambiguous deliveries where the platform can (named here so that no
// wrapper of the Deliverer can hide it), ITFIT_NUDGE_RESENDS decides where
// it cannot, every outcome is counted, and a stop gives deliveries in
// flight the whole shutdown (they have half of it to finish; the worker is
// stopped as shutdown begins, so the drain delay counts).
func nudgeWorkerConfig(cfg Config, log *slog.Logger, m *obs.Metrics, c schedule.Confirmer) schedule.WorkerConfig {
	resends := cfg.NudgeResends
	if resends == 0 {
		resends = -1 // the scheduler's "never"; its 0 is its default, 1
	}
	return schedule.WorkerConfig{
		Confirmer:        c,
		AmbiguousResends: resends,
		StopTimeout:      cfg.DrainDelay + cfg.ShutdownTimeout,
		Observe: func(o schedule.Outcome, j schedule.Job) {
			kind, _, _ := strings.Cut(j.ID, "/")
			m.Nudge(kind, string(o))
		},
		Logger: log.With("worker", "revisits"),
	}
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
