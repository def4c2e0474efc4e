package main

// floor: `loadgen floor` measures what an answer's input and output cost on
// their own, through the libraries and settings the bot uses and with none
// of its logic: the floor under the bot's CPU per answer (issue 18).
//
// For each request, its server process (`loadgen floor-serve`, started by
// `loadgen floor` as a child of its own) does what `bot serve` must do for
// a Slack answer and nothing else. net/http reads a signed request of a
// block_actions payload's size, checks its v0 HMAC-SHA256 and acknowledges
// with 200. Then it sends one EVALSHA through the bot's Redis client
// (redisconn's, batching), and two Web API calls of chat.update's and
// chat.postMessage's sizes through outbound.H1 over TLS. With -audit, each
// user's audit also starts with /itfit's input and output (a slash
// command; two Redis round trips; users.info, conversations.open and the
// first question) and ends with the card's (6 KB posted, one more Redis
// round trip), as scripts/load's audits do.
//
// loadgen plays Slack. It serves the fake Web API (TLS, HTTP/1.1, as H1
// asks for) and keeps -c users clicking. Each user waits for its answer's
// last call before it clicks again, as the audit's users do, or paces
// itself so that all send -rate answers a second. It reports the child's
// CPU per answer from /proc, the starts' included, as scripts/load does.
//
//	scripts/floor -n 40000 -c 100              # closed loop, at saturation
//	scripts/floor -n 60000 -c 100 -rate 4000   # at the bot's throughput

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/outbound"
	"github.com/itfit/itfit/internal/redisconn"
)

const floorSecret = "floor-signing-secret"

// Sizes of what an answer sends, from `strace -e write` of `bot serve`
// under scripts/load slack: a block_actions payload is 3-6 KB, the update
// of the answered question 1-2 KB, the next question 1-2 KB, the card 6 KB.
const (
	floorUpdateSize = 1100
	floorPostSize   = 1700
	floorCardSize   = 6000
)

// floorScript stands for the answer's EVALSHA: it writes two fields of a small
// hash and returns the hash, as the answer script does.
var floorScript = redis.NewScript(`redis.call('HSET', KEYS[1], 'q', ARGV[1], 'at', ARGV[2]) redis.call('EXPIRE', KEYS[1], 600) return redis.call('HGETALL', KEYS[1])`)

// floorKeyPrefix prefixes every key the floor writes; floorRun deletes them.
const floorKeyPrefix = "loadgen-floor:"

// floorServer is the child's side: the bot's share of an answer.
type floorServer struct {
	api string // base URL of the fake Web API
	rdb redis.UniversalClient
	h1  *outbound.H1
}

func newFloorServer(api string, roots *x509.CertPool, rdb redis.UniversalClient) *floorServer {
	return &floorServer{api: api, rdb: rdb, h1: &outbound.H1{TLS: &tls.Config{RootCAs: roots}}}
}

func (s *floorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || (r.URL.Path != "/slack/interactions" && r.URL.Path != "/slack/commands") {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	ts := r.Header.Get("X-Slack-Request-Timestamp")
	if !hmac.Equal([]byte(r.Header.Get("X-Slack-Signature")), floorSign(ts, body)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	user := r.Header.Get("X-Floor-User")
	w.WriteHeader(http.StatusOK)
	switch {
	case r.URL.Path == "/slack/commands":
		go s.start(user)
	case r.Header.Get("X-Floor-Card") != "":
		go s.work(user, floorCard, 2)
	default:
		go s.work(user, floorPost, 1)
	}
}

var (
	floorUpdate = bytes.Repeat([]byte("u"), floorUpdateSize)
	floorPost   = bytes.Repeat([]byte("p"), floorPostSize)
	floorCard   = bytes.Repeat([]byte("c"), floorCardSize)
	floorSmall  = []byte(`{"user":"U0FLOOR","include_locale":true}`)
)

// floorCommand is a slash command's body, of the size Slack sends.
const floorCommand = "token=floorverificationtoken0&team_id=T0FLOOR01&team_domain=floor&channel_id=C0FLOOR01" +
	"&channel_name=general&user_id=U0FLOOR01&user_name=floor&command=%2Fitfit&text=&api_app_id=A0FLOOR01" +
	"&is_enterprise_install=false&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0FLOOR01%2F1234567890%2Fabcdefghijklmnopqrstuvwx" +
	"&trigger_id=1234567890.1234567890.abcdefabcdefabcdefabcdefabcdef00"

// work is an answer's input and output after the acknowledgement: rounds
// Redis round trips, the update of the answered question, the next one
// (or the card) posted.
func (s *floorServer) work(user string, post []byte, rounds int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.redis(ctx, user, rounds)
	if err == nil {
		err = s.call(ctx, "chat.update", floorUpdate, user)
	}
	if err == nil {
		err = s.call(ctx, "chat.postMessage", post, user)
	}
	if err != nil { // the user waiting for it counts it as failed
		fmt.Fprintln(os.Stderr, "loadgen floor-serve:", err)
	}
}

// start is /itfit's: two Redis round trips (the language, the session),
// users.info (the locale), conversations.open (the DM), the first question.
func (s *floorServer) start(user string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.redis(ctx, user, 2)
	for _, m := range []string{"users.info", "conversations.open"} {
		if err == nil {
			err = s.call(ctx, m, floorSmall, user)
		}
	}
	if err == nil {
		err = s.call(ctx, "chat.postMessage", floorPost, user)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen floor-serve:", err)
	}
}

func (s *floorServer) redis(ctx context.Context, user string, rounds int) error {
	for range rounds {
		if err := floorScript.Run(ctx, s.rdb, []string{floorKeyPrefix + user}, "q3", time.Now().Unix()).Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *floorServer) call(ctx context.Context, method string, body []byte, user string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.api+"/api/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer xoxb-floor")
	req.Header.Set("X-Floor-User", user)
	resp, err := s.h1.RoundTrip(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(`"ok":true`)) {
		return fmt.Errorf("%s: %s", method, b)
	}
	return nil
}

func floorSign(ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(floorSecret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return []byte("v0=" + hex.EncodeToString(m.Sum(nil)))
}

// floorServe is the child: it serves on a loopback port of its own, says
// which on its first line of output, and runs until killed.
func floorServe(args []string) error {
	fs := flag.NewFlagSet("loadgen floor-serve", flag.ContinueOnError)
	caFile := fs.String("ca", "", "PEM of the fake Web API's certificate")
	api := fs.String("api", "", "base URL of the fake Web API")
	redisURL := fs.String("redis", "", "Redis URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	roots, err := floorRoots(*caFile)
	if err != nil {
		return err
	}
	// The bot's request-path client: its timeouts, and EVALSHAs of callers
	// in flight written to Redis together.
	rdb, err := redisconn.OpenProfile(*redisURL, redisconn.Interactive)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: newFloorServer(*api, roots, rdb), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second}
	return srv.Serve(ln)
}

func floorRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, errors.New("no certificate in " + file)
	}
	return roots, nil
}

// floorFake is the Web API: it answers every call as Slack does a good one, and
// tells a user's channel when its chat.postMessage (an answer's last call)
// arrives.
type floorFake struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
	calls   map[string]int // per method
}

func (f *floorFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, `{"ok":true,"channel":"D0FLOOR","ts":"1764650000.000100"}`)
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	f.mu.Lock()
	f.calls[method]++
	ch := f.waiting[r.Header.Get("X-Floor-User")]
	f.mu.Unlock()
	if ch != nil && method == "chat.postMessage" {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (f *floorFake) user(name string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.waiting[name]
	if ch == nil {
		ch = make(chan struct{}, 1)
		f.waiting[name] = ch
	}
	return ch
}

// startFloorFake serves f over TLS with HTTP/1.1 only, as loadgen's
// -http1 fakes do, and writes the CA it trusts to caFile; it returns the
// base URL.
func startFloorFake(f *floorFake, caFile string) (string, func(), error) {
	ca, err := newCA()
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(caFile, ca.pem, 0o644); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := newFakeServer(f, ca.serverTLS(), true, &connStats{tls: true})
	go srv.serve(ln)
	return "https://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// floorLoad is one run of clicks against a server.
type floorLoad struct {
	bot     string // the server's base URL
	fake    *floorFake
	users   int
	rate    float64 // answers per second in all; 0: closed loop
	size    int     // bytes of each answer's body
	audit   int     // answers per audit: a start before them, the card on the last; 0: answers only
	client  *http.Client
	command []byte // a slash command's body
	starts  atomic.Int64
}

// run sends n answers (and the starts of their audits), each user
// waiting for its answer's last call before the next; it returns how long
// they took and how many failed.
func (l *floorLoad) run(n int) (time.Duration, int64) {
	var left, errs atomic.Int64
	left.Store(int64(n))
	body := bytes.Repeat([]byte("x"), l.size)
	var wg sync.WaitGroup
	start := time.Now()
	for u := 0; u < l.users; u++ {
		user := "U" + strconv.Itoa(u)
		done := l.fake.user(user)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tick <-chan time.Time
			if l.rate > 0 {
				t := time.NewTicker(time.Duration(float64(l.users) / l.rate * float64(time.Second)))
				defer t.Stop()
				tick = t.C
			}
			wait := func(err error) {
				if err == nil {
					select {
					case <-done:
						return
					case <-time.After(10 * time.Second):
					}
				}
				errs.Add(1)
			}
			for i := 0; left.Add(-1) >= 0; i++ {
				if tick != nil {
					<-tick
				}
				card := false
				if l.audit > 0 {
					if i%l.audit == 0 {
						l.starts.Add(1)
						wait(l.click(user, "/slack/commands", l.command, false))
					}
					card = i%l.audit == l.audit-1
				}
				wait(l.click(user, "/slack/interactions", body, card))
			}
		}()
	}
	wg.Wait()
	return time.Since(start), errs.Load()
}

func (l *floorLoad) click(user, path string, body []byte, card bool) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, l.bot+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", string(floorSign(ts, body)))
	req.Header.Set("X-Floor-User", user)
	if card {
		req.Header.Set("X-Floor-Card", "1")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// floorConfig is loadgen floor's flags.
type floorConfig struct {
	redisURL string
	n, users int
	rate     float64
	size     int
	audit    int
}

func parseFloorFlags(args []string, stderr io.Writer) (floorConfig, error) {
	var cfg floorConfig
	fs := flag.NewFlagSet("loadgen floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.redisURL, "redis", os.Getenv("ITFIT_TEST_REDIS_URL"), "Redis URL (default: $ITFIT_TEST_REDIS_URL)")
	fs.IntVar(&cfg.n, "n", 40000, "answers to measure, after a tenth as many to warm up")
	fs.IntVar(&cfg.users, "c", 100, "users clicking at once")
	fs.Float64Var(&cfg.rate, "rate", 0, "answers per second in all, the starts besides (0: closed loop, at saturation)")
	fs.IntVar(&cfg.size, "size", 4500, "bytes of each answer's body (a block_actions payload's size)")
	fs.IntVar(&cfg.audit, "audit", 9, "answers per audit: each user's audit starts with /itfit's input and output and ends with the card's; 0: answers only")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.redisURL == "":
		return cfg, errors.New("no Redis: give -redis or set ITFIT_TEST_REDIS_URL (scripts/floor starts one)")
	case cfg.n < 1 || cfg.users < 1 || cfg.size < 1 || cfg.rate < 0 || cfg.audit < 0:
		return cfg, errors.New("-n, -c and -size must be positive, -rate and -audit not negative")
	}
	return cfg, nil
}

// floorStart starts the server side for the fake at api: it returns the
// server's address, the process whose CPU is measured, and how to stop it.
type floorStart func(api, caFile string) (addr string, pid int, stop func(), err error)

// floorChild starts `loadgen floor-serve` as a process of its own.
func floorChild(redisURL string) floorStart {
	return func(api, caFile string) (string, int, func(), error) {
		self, err := os.Executable()
		if err != nil {
			return "", 0, nil, err
		}
		child := exec.Command(self, "floor-serve", "-ca", caFile, "-api", api, "-redis", redisURL)
		child.Stderr = os.Stderr
		stdout, err := child.StdoutPipe()
		if err != nil {
			return "", 0, nil, err
		}
		if err := child.Start(); err != nil {
			return "", 0, nil, err
		}
		stop := func() {
			child.Process.Kill()
			child.Wait()
		}
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			stop()
			return "", 0, nil, fmt.Errorf("the floor server did not start: %w", err)
		}
		return strings.TrimSpace(addr), child.Process.Pid, stop, nil
	}
}

func floorMain(args []string, out io.Writer) error {
	cfg, err := parseFloorFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	_, err = floorRun(cfg, floorChild(cfg.redisURL), out)
	return err
}

// floorRun measures cfg.n answers through the server start starts, after
// a warm-up, and returns the fake's calls per method.
func floorRun(cfg floorConfig, start floorStart, out io.Writer) (map[string]int, error) {
	opt, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadgen-floor")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f := &floorFake{waiting: map[string]chan struct{}{}, calls: map[string]int{}}
	caFile := filepath.Join(dir, "ca.pem")
	api, stopFake, err := startFloorFake(f, caFile)
	if err != nil {
		return nil, err
	}
	defer stopFake()
	addr, pid, stop, err := start(api, caFile)
	if err != nil {
		return nil, err
	}
	defer stop()
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	defer floorCleanKeys(rdb, cfg.users)

	l := &floorLoad{
		bot: "http://" + addr, fake: f, users: cfg.users, rate: cfg.rate, size: cfg.size, audit: cfg.audit,
		command: []byte(floorCommand),
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.users, MaxConnsPerHost: cfg.users}},
	}
	if _, errs := l.run(max(cfg.n/10, cfg.users)); errs > 0 { // warm-up: connections, pools, stacks
		return nil, fmt.Errorf("%d requests of the warm-up failed", errs)
	}
	before, err := floorCPUOf(pid)
	if err != nil {
		return nil, err
	}
	starts := l.starts.Load()
	took, errs := l.run(cfg.n)
	starts = l.starts.Load() - starts
	after, err := floorCPUOf(pid)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "floor: %d answers and %d starts from %d users in %v (%.0f answers/s), %d errors\n",
		cfg.n, starts, cfg.users, took.Round(time.Millisecond), float64(cfg.n)/took.Seconds(), errs)
	fmt.Fprintf(out, "floor server CPU per answer (starts included): %.0f us (user %.0f, system %.0f)\n",
		float64(after.total()-before.total())/float64(cfg.n),
		float64(after.user-before.user)/float64(cfg.n), float64(after.sys-before.sys)/float64(cfg.n))
	f.mu.Lock()
	calls := maps.Clone(f.calls)
	f.mu.Unlock()
	if errs > 0 {
		return calls, fmt.Errorf("%d requests failed", errs)
	}
	return calls, nil
}

func floorCleanKeys(rdb *redis.Client, users int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for u := 0; u < users; u += 500 {
		var ks []string
		for i := u; i < min(u+500, users); i++ {
			ks = append(ks, floorKeyPrefix+"U"+strconv.Itoa(i))
		}
		rdb.Del(ctx, ks...)
	}
}

type floorCPU struct{ user, sys int64 } // microseconds

func (c floorCPU) total() int64 { return c.user + c.sys }

// floorCPUOf is a process's user and system CPU so far, from /proc/PID/stat
// (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func floorCPUOf(pid int) (floorCPU, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return floorCPU{}, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return floorCPU{}, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return floorCPU{}, err
	}
	return floorCPU{u * 10000, k * 10000}, nil
}
