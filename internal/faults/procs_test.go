package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The bot binary, built once for the whole run (a plain build, as
// production runs it: the race detector would slow the bot, not the test).
var (
	buildOnce sync.Once
	buildDir  string
	botPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needProcesses skips a fault test in -short runs, and when redis-server
// is missing outside CI (in CI it must be there).
func needProcesses(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts bot serve and redis-server processes")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server must be on PATH in CI: the fault tests start their own")
		}
		t.Skip("redis-server is not on PATH")
	}
}

// botBinary builds cmd/bot into a temporary directory, once.
func botBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "itfit-faults-")
		if buildErr != nil {
			return
		}
		botPath = filepath.Join(buildDir, "bot")
		out, err := exec.Command("go", "build", "-o", botPath, "github.com/itfit/itfit/cmd/bot").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/bot: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return botPath
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisProc is a redis-server of the test's own, persisting to an
// append-only file in its directory, so that it can be stopped and started
// again with what it had.
type redisProc struct {
	t    *testing.T
	port int
	dir  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T) *redisProc {
	t.Helper()
	r := &redisProc{t: t, port: freePort(t), dir: t.TempDir()}
	r.start()
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisProc) url() string  { return "redis://" + r.addr() + "/0" }

// start runs redis-server and waits until it answers PING.
func (r *redisProc) start() {
	r.t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
		"--logfile", filepath.Join(r.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Now().After(end) {
			r.t.Fatalf("redis-server on %d did not answer", r.port)
		}
	}
}

// stop sends SIGTERM (Redis flushes its append-only file and exits) and
// waits for the process to end.
func (r *redisProc) stop() {
	r.t.Helper()
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		r.t.Fatal("redis-server did not stop on SIGTERM")
	}
	r.mu.Lock()
	r.cmd = nil
	r.mu.Unlock()
}

func (r *redisProc) kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

func (r *redisProc) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
	r.t.Cleanup(func() { c.Close() })
	return c
}

// botProc is one `bot serve` process, restartable on the same port.
type botProc struct {
	t    *testing.T
	name string
	port int
	env  []string
	log  string // stderr, appended across restarts

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	exitErr error
}

// startBot runs `bot serve` with env (and nothing of the test's own
// environment but PATH and HOME) on port, and waits until it is healthy.
func startBot(t *testing.T, name string, port int, env []string) *botProc {
	t.Helper()
	b := &botProc{t: t, name: name, port: port, env: env, log: filepath.Join(t.TempDir(), name+".log")}
	b.start()
	t.Cleanup(func() {
		b.kill()
		// FAULTS_KEEP_LOGS=DIR keeps every bot's log there, to look into
		// a run afterwards.
		if dir := os.Getenv("FAULTS_KEEP_LOGS"); dir != "" {
			if data, err := os.ReadFile(b.log); err == nil {
				_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".log"), data, 0o644)
			}
		}
		if t.Failed() {
			t.Logf("%s log (last lines):\n%s", name, tail(b.log, 40))
		}
	})
	return b
}

func (b *botProc) base() string { return "http://127.0.0.1:" + strconv.Itoa(b.port) }

func (b *botProc) start() {
	b.t.Helper()
	f, err := os.OpenFile(b.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.t.Fatal(err)
	}
	cmd := exec.Command(botBinary(b.t), "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.t.TempDir(), "PORT=" + strconv.Itoa(b.port)}, b.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		b.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		f.Close()
		b.mu.Lock()
		b.exitErr = err
		b.mu.Unlock()
		close(done)
	}()
	b.mu.Lock()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()
	client := &http.Client{Timeout: time.Second}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			b.t.Fatalf("%s exited at start-up: %v\n%s", b.name, b.exitErr, tail(b.log, 20))
		default:
		}
		if resp, err := client.Get(b.base() + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(end) {
			b.t.Fatalf("%s never became healthy:\n%s", b.name, tail(b.log, 20))
		}
	}
}

func (b *botProc) pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// kill is kill -9, and waits for the process to be gone.
func (b *botProc) kill() {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.cmd = nil
	b.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

// term sends SIGTERM and returns how long the process took to exit, and
// how it exited.
func (b *botProc) term() (time.Duration, error) {
	b.t.Helper()
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.mu.Unlock()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.t.Fatalf("%s did not exit within 60 s of SIGTERM", b.name)
	}
	took := time.Since(start)
	b.mu.Lock()
	b.cmd = nil
	err := b.exitErr
	b.mu.Unlock()
	return took, err
}

// rssKiB is the process's resident set size now, from /proc.
func (b *botProc) rssKiB() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.pid()))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// metrics scrapes /metrics into series -> value ("" for a failed scrape).
func (b *botProc) metrics() map[string]float64 {
	resp, err := http.Get(b.base() + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

// sum adds every series of a metric whose labels contain all of labels.
func sum(m map[string]float64, name string, labels ...string) float64 {
	var s float64
	for k, v := range m {
		if !strings.HasPrefix(k, name+"{") && k != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(k, l) {
				ok = false
			}
		}
		if ok {
			s += v
		}
	}
	return s
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// loadavg is /proc/loadavg's first three fields, to say how busy the
// machine was around a run.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
