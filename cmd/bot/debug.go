package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves net/http/pprof on ITFIT_PPROF_ADDR (e.g. 127.0.0.1:6060)
// when it is set: off by default, and refused unless the address is on
// loopback, since profiles show memory contents such as tokens. It never
// shares the app's mux. The returned func stops it.
func startDebug(ctx context.Context, log *slog.Logger, addr string) func() {
	if addr == "" {
		return func() {}
	}
	ln, err := listenLoopback(addr)
	if err != nil {
		log.Error("pprof listener not started", "err", err)
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof listener stopped", "err", err)
		}
	}()
	log.Warn("pprof listener on: for debugging only", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
}

func listenLoopback(addr string) (net.Listener, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

// checkLoopback refuses any ITFIT_PPROF_ADDR but a loopback host:port;
// loadConfig calls it, so a server asked to profile on a public address
// does not start at all.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ITFIT_PPROF_ADDR: got %q, want a loopback host:port such as 127.0.0.1:6060", addr)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("ITFIT_PPROF_ADDR: got %q, want a loopback host:port such as 127.0.0.1:6060 (profiles show memory, tokens included)", addr)
	}
	return nil
}
