// Command loadgen drives simulated Slack or Teams users through complete
// itfit audits against a running `bot serve`, as the platforms would, and
// reports answered questions per second, latency (click → next question
// received) and errors.
//
// It plays both sides of the platform: it sends the signed requests a user's
// clicks make (Slack slash commands and block_actions; Teams activities with
// Bot Connector tokens), and it serves the fakes the bot calls back (Slack's
// Web API; Microsoft's OpenID metadata, key set, token endpoint and Bot
// Connector, over TLS). A simulated user reads the next question's buttons
// from what the bot posted and clicks one, waiting for each reply before the
// next click. Everything is on loopback; a run is bounded in users and time.
//
// The fakes offer HTTP/2 and HTTP/1.1 over TLS, as Slack and Microsoft do;
// -http1 makes them speak HTTP/1.1 only, as some Bot Connector deployments
// and proxies do, where every request in flight needs a connection of its
// own. Either way loadgen counts the TLS handshakes the fakes accept and
// reports them per 1,000 answers, with and without the warm-up: a client
// whose idle pool is smaller than its concurrency shows as a handshake per
// few answers.
//
// scripts/load builds both binaries, starts the bot against these fakes and
// a private Redis, and reports Redis commands per answer and the bot's RSS.
//
// `loadgen floor` (scripts/floor) measures the floor under the bot's CPU
// per answer: an answer's input and output alone, through the same
// libraries, with none of the bot's logic (floor.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "floor":
		err = floorMain(os.Args[2:], os.Stdout)
	case len(os.Args) > 1 && os.Args[1] == "floor-serve":
		err = floorServe(os.Args[2:])
	default:
		err = run(ctx, os.Args[1:], os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// config is every flag.
type config struct {
	platform    string
	botURL      string
	users       int
	concurrency int
	rate        float64
	duration    time.Duration
	timeout     time.Duration
	profile     string
	seed        int64

	slackAddr   string
	slackTLS    bool
	http1       bool
	secret      string
	teamID      string
	workspaces  int
	appID       string
	appPassword string
	teamsAddr   string
	certFile    string

	readyTimeout time.Duration
	startFile    string
	cpuProfile   string
}

// workspace is the Slack team or Teams tenant user i belongs to: -team
// itself with one workspace, else -team and the user's index modulo
// -workspaces, so a run's users are spread evenly over its workspaces.
func (c config) workspace(i int) string {
	if c.workspaces <= 1 {
		return c.teamID
	}
	return c.teamID + "W" + strconv.Itoa(i%c.workspaces)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen [flags]      drive audits against a running bot serve")
		fmt.Fprintln(stderr, "       loadgen floor -h     the floor under the bot's CPU per answer (scripts/floor)")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.platform, "platform", "slack", "slack or teams")
	fs.StringVar(&c.botURL, "bot", "http://127.0.0.1:3000", "base URL of the running bot serve (loopback only)")
	fs.IntVar(&c.users, "users", 100, "simulated users, each taking one full audit (upper bound of the run)")
	fs.IntVar(&c.concurrency, "concurrency", 0, "closed loop: users in flight at once (default: all of -users)")
	fs.Float64Var(&c.rate, "rate", 0, "open loop: clicks per second across all users (0: as fast as replies come)")
	fs.DurationVar(&c.duration, "duration", 2*time.Minute, "stop after this long even if users remain")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long a user waits for the bot's reply before counting an error")
	fs.StringVar(&c.profile, "profile", "random", "answers: random, comanaged (first option) or managed (last option)")
	fs.Int64Var(&c.seed, "seed", 0, "random seed (0: from the clock)")
	fs.StringVar(&c.slackAddr, "slack-api", "127.0.0.1:0", "where the fake Slack Web API listens (point SLACK_API_URL at it)")
	fs.BoolVar(&c.slackTLS, "slack-api-tls", true, "serve the fake Web API over https (HTTP/2), as slack.com does")
	fs.BoolVar(&c.http1, "http1", false, "the fakes (Slack Web API; Microsoft's endpoints and Bot Connector) speak HTTP/1.1 only: TLS offers no h2")
	fs.StringVar(&c.secret, "signing-secret", "loadgen-signing-secret", "SLACK_SIGNING_SECRET the bot runs with")
	fs.StringVar(&c.teamID, "team", "", "Slack team / Teams tenant ID (default: unique per run, so reruns start fresh); with -workspaces over 1, the prefix of each one's")
	fs.IntVar(&c.workspaces, "workspaces", 8, "spread the users round-robin over this many Slack workspaces / Teams tenants (the bot gives each tenant a fair share of its work pool, a quarter of it, and sheds a tenant's work beyond it)")
	fs.StringVar(&c.appID, "app-id", "00000000-1111-2222-3333-444444444444", "MICROSOFT_APP_ID the bot runs with")
	fs.StringVar(&c.appPassword, "app-password", "loadgen-app-password", "MICROSOFT_APP_PASSWORD the bot runs with")
	fs.StringVar(&c.teamsAddr, "microsoft", "127.0.0.1:0", "where the fake identity provider, token endpoint and connector listen (https)")
	fs.StringVar(&c.certFile, "cert-out", "", "write the fakes' CA certificate (PEM) here; start the bot with SSL_CERT_FILE pointing to it")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 60*time.Second, "how long to wait for the bot's /readyz")
	fs.StringVar(&c.startFile, "start-file", "", "after the bot is ready, wait until this file exists before loading (scripts/load reads Redis stats first)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write loadgen's own CPU profile of the load phase here (is the tool the bottleneck?)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.platform != "slack" && c.platform != "teams":
		return c, errors.New("-platform must be slack or teams")
	case c.users < 1 || c.users > 1_000_000:
		return c, errors.New("-users must be 1..1000000")
	case c.workspaces < 1 || c.workspaces > 1000:
		return c, errors.New("-workspaces must be 1..1000")
	case c.concurrency < 0 || c.rate < 0 || c.duration <= 0 || c.timeout <= 0:
		return c, errors.New("-concurrency, -rate, -duration and -timeout must be positive")
	case c.profile != "random" && c.profile != "comanaged" && c.profile != "managed":
		return c, errors.New("-profile must be random, comanaged or managed")
	}
	if c.concurrency == 0 || c.concurrency > c.users {
		c.concurrency = c.users
	}
	if c.seed == 0 {
		c.seed = time.Now().UnixNano()
	}
	if c.teamID == "" {
		c.teamID = fmt.Sprintf("T%X", time.Now().UnixNano()%(1<<40))
	}
	u, err := url.Parse(c.botURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return c, fmt.Errorf("-bot %q is not an http(s) URL", c.botURL)
	}
	c.botURL = strings.TrimSuffix(c.botURL, "/")
	if !loopback(u.Hostname()) {
		return c, fmt.Errorf("-bot %q: loadgen only drives a bot on loopback", c.botURL)
	}
	for _, a := range []string{c.slackAddr, c.teamsAddr} {
		h, _, err := net.SplitHostPort(a)
		if err != nil || !loopback(h) {
			return c, fmt.Errorf("listen address %q must be host:port on loopback", a)
		}
	}
	return c, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// platform is one side of the simulation: its fakes, and a user that runs
// one audit.
type platform interface {
	// Env is what the bot must be started with to use the fakes.
	Env() []string
	// Audit runs user i through one audit, recording into rec.
	Audit(ctx context.Context, i int, rec *recorder, pace func(context.Context) error) error
	Close()
}

func run(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := parseFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ca, err := newCA()
	if err != nil {
		return err
	}
	// One client for every request to the bot, with an idle connection per
	// user in flight, so that the load measures the bot and not handshakes.
	botClient := &http.Client{
		Timeout: cfg.timeout,
		Transport: &http.Transport{
			MaxIdleConns:        cfg.concurrency + 16,
			MaxIdleConnsPerHost: cfg.concurrency + 16,
			IdleConnTimeout:     30 * time.Second,
			TLSClientConfig:     ca.clientTLS(),
		},
	}
	conns := &connStats{tls: cfg.platform == "teams" || cfg.slackTLS}
	var p platform
	switch cfg.platform {
	case "slack":
		p, err = newSlackSim(cfg, ca, botClient, conns)
	case "teams":
		p, err = newTeamsSim(cfg, ca, botClient, conns)
	}
	if err != nil {
		return err
	}
	defer p.Close()
	// Written once the fakes listen: scripts/load starts the bot when this
	// file appears, and the bot fetches the Teams keys at once.
	if cfg.certFile != "" {
		if err := os.WriteFile(cfg.certFile, ca.pem, 0o644); err != nil {
			return fmt.Errorf("write -cert-out: %w", err)
		}
	}
	fmt.Fprintf(out, "loadgen: %s fakes up; the bot needs:\n", cfg.platform)
	for _, e := range p.Env() {
		fmt.Fprintf(out, "  %s\n", e)
	}
	if err := waitReady(ctx, botClient, cfg.botURL, cfg.readyTimeout); err != nil {
		return err
	}
	if cfg.startFile != "" {
		if err := waitFile(ctx, cfg.startFile, cfg.readyTimeout); err != nil {
			return err
		}
	}
	mode := "closed loop"
	if cfg.rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f clicks/s", cfg.rate)
	}
	fmt.Fprintf(out, "loadgen: %d users in %d workspaces, %d at once, %s, up to %s, answers %s, against %s\n",
		cfg.users, cfg.workspaces, cfg.concurrency, mode, cfg.duration, cfg.profile, cfg.botURL)

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	st := drive(ctx, cfg, p, conns)
	pprof.StopCPUProfile()
	// The fakes close once the bot has gone quiet, so that its last calls
	// are counted too.
	p.Close()
	st.report(out, cfg, conns)
	if st.errors.Load() > 0 {
		return fmt.Errorf("%d errors", st.errors.Load())
	}
	// Every user that started and was not cut off by -duration must have
	// reached the card: a run that stalls is a failure, not a slow success.
	if missing := st.started.Load() - st.cut.Load() - st.completed.Load(); missing > 0 {
		return fmt.Errorf("%d audits did not reach the card", missing)
	}
	return nil
}

// drive runs the users: concurrency workers take users off a counter until
// every user has run or the duration is up.
func drive(ctx context.Context, cfg config, p platform, conns *connStats) *stats {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	st := newStats(cfg.concurrency)
	conns.load.Store(st)
	pace := func(context.Context) error { return nil }
	if cfg.rate > 0 {
		pace = newPacer(ctx, cfg.rate).wait
	}
	next := make(chan int, cfg.users)
	for i := range cfg.users {
		next <- i
	}
	close(next)
	done := make(chan struct{})
	st.start = time.Now()
	for w := range cfg.concurrency {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				st.started.Add(1)
				err := p.Audit(ctx, i, st.worker(w), pace)
				switch {
				case err == nil:
					st.completed.Add(1)
				case ctx.Err() != nil:
					st.cut.Add(1) // the run ended mid-audit: not the bot's error
				default:
					st.fail(err)
				}
			}
		}()
	}
	for range cfg.concurrency {
		<-done
	}
	st.end = time.Now()
	return st
}

// pacer hands out clicks at a fixed rate, whatever the replies do (open
// loop); a click whose slot has passed goes at once, so a slow bot shows as
// latency, not as a lower offered rate.
type pacer struct {
	start    time.Time
	interval time.Duration
	n        chan int64
}

func newPacer(ctx context.Context, rate float64) *pacer {
	p := &pacer{start: time.Now(), interval: time.Duration(float64(time.Second) / rate), n: make(chan int64, 1)}
	p.n <- 0
	return p
}

func (p *pacer) wait(ctx context.Context) error {
	var i int64
	select {
	case i = <-p.n:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.n <- i + 1
	at := p.start.Add(time.Duration(i) * p.interval)
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func waitReady(ctx context.Context, c *http.Client, bot string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, bot+"/readyz", nil)
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bot at %s not ready after %s (last: %v)", bot, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func waitFile(ctx context.Context, path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %s", path, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
