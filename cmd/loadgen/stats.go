package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stats collects a run. Latencies go into one slice per worker, so that
// recording never contends; they are merged once at the end.
type stats struct {
	start, end time.Time
	workers    []recorder

	started, completed, cut atomic.Int64
	errors                  atomic.Int64
	answeredSoFar           atomic.Int64 // for connStats: when a connection came

	mu       sync.Mutex
	firstErr []string
}

// recorder is one worker's share of the figures.
type recorder struct {
	st       *stats
	answers  []time.Duration // click → next question (or card) received
	starts   []time.Duration // command/first message → first question
	_padding [64]byte
}

func newStats(workers int) *stats {
	s := &stats{workers: make([]recorder, workers)}
	for i := range s.workers {
		s.workers[i].st = s
	}
	return s
}

func (s *stats) worker(i int) *recorder { return &s.workers[i] }

func (r *recorder) answered(d time.Duration) {
	r.answers = append(r.answers, d)
	r.st.answeredSoFar.Add(1)
}
func (r *recorder) began(d time.Duration) { r.starts = append(r.starts, d) }

func (s *stats) fail(err error) {
	s.errors.Add(1)
	s.mu.Lock()
	if len(s.firstErr) < 10 {
		s.firstErr = append(s.firstErr, err.Error())
	}
	s.mu.Unlock()
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func (s *stats) report(w io.Writer, cfg config, conns *connStats) {
	var answers, starts []time.Duration
	for i := range s.workers {
		answers = append(answers, s.workers[i].answers...)
		starts = append(starts, s.workers[i].starts...)
	}
	slices.Sort(answers)
	slices.Sort(starts)
	el := s.end.Sub(s.start)
	qps := float64(len(answers)) / el.Seconds()
	fmt.Fprintf(w, "\nplatform %s: %d users started, %d audits completed (reached the card), %d cut off by -duration, %d errors, in %s\n",
		cfg.platform, s.started.Load(), s.completed.Load(), s.cut.Load(), s.errors.Load(), el.Round(time.Millisecond))
	fmt.Fprintf(w, "answered questions: %d, %.0f/s\n", len(answers), qps)
	fmt.Fprintf(w, "latency click → next question: p50 %s  p95 %s  p99 %s  max %s\n",
		ms(percentile(answers, .50)), ms(percentile(answers, .95)), ms(percentile(answers, .99)), ms(percentile(answers, 1)))
	fmt.Fprintf(w, "latency start → first question: p50 %s  p99 %s  max %s\n",
		ms(percentile(starts, .50)), ms(percentile(starts, .99)), ms(percentile(starts, 1)))
	before, during, after := conns.summary(len(answers))
	what := "connections"
	if conns.tls {
		what = "TLS handshakes"
	}
	perK := func(n, of int) float64 {
		if of <= 0 {
			return 0
		}
		return float64(n) * 1000 / float64(of)
	}
	rest := len(answers) - int(float64(len(answers))*warmupShare)
	proto := "HTTP/2 offered"
	if cfg.http1 {
		proto = "HTTP/1.1 only"
	}
	fmt.Fprintf(w, "%s accepted by the fakes (%s): %d before the load, %d during it (%.2f per 1,000 answers), %d after the first %.0f%% of answers (%.2f per 1,000 of the rest)\n",
		what, proto, before, during, perK(during, len(answers)), after, warmupShare*100, perK(after, rest))
	for _, e := range s.firstErr {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	// One line for scripts.
	fmt.Fprintf(w, "RESULT platform=%s users=%d completed=%d errors=%d answered=%d seconds=%.3f qps=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f http1=%t conns_before=%d conns=%d conns_per_1k=%.2f conns_after_warmup=%d conns_after_warmup_per_1k=%.2f\n",
		cfg.platform, s.started.Load(), s.completed.Load(), s.errors.Load(), len(answers), el.Seconds(), qps,
		msf(percentile(answers, .50)), msf(percentile(answers, .95)), msf(percentile(answers, .99)), msf(percentile(answers, 1)),
		cfg.http1, before, during, perK(during, len(answers)), after, perK(after, rest))
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// await takes the next thing the bot sent a simulated user, giving up
// after timeout or when ctx ends.
func await[T any](ctx context.Context, inbox <-chan T, timeout time.Duration, what string) (T, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	var zero T
	select {
	case p := <-inbox:
		return p, nil
	case <-t.C:
		return zero, fmt.Errorf("no %s from the bot within %s", what, timeout)
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
