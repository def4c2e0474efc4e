package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
)

// The worker processes of TestThreeProcessesOneKilledEachNudgeOnce are this
// test binary run again with these variables set.
const (
	envChild     = "ITFIT_SCHEDULE_TEST_WORKER"
	envPrefix    = "ITFIT_SCHEDULE_TEST_PREFIX"
	envRecipient = "ITFIT_SCHEDULE_TEST_RECIPIENT"
)

// recipient is a fake platform over HTTP shared by worker processes: it
// counts each nudge when the request arrives (the platform has acted,
// whatever happens to its answer), holds the requests of the worker named
// "victim" without answering, and answers "was it delivered?" for the
// Confirmer.
type recipient struct {
	mu       sync.Mutex
	received map[string]int
	held     int
}

func (rc *recipient) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/nudge":
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.received[string(body)]++
		victim := r.Header.Get("X-Worker") == "victim"
		if victim {
			rc.held++
		}
		rc.mu.Unlock()
		if victim {
			<-r.Context().Done() // until its process dies
			return
		}
		w.WriteHeader(http.StatusOK)
	case "/delivered":
		rc.mu.Lock()
		n := rc.received[r.URL.Query().Get("occurrence")]
		rc.mu.Unlock()
		fmt.Fprint(w, n > 0)
	default:
		http.NotFound(w, r)
	}
}

func (rc *recipient) heldCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.held
}

// Three worker processes share one Redis; one is killed with SIGKILL while
// four of its deliveries are in flight (they reached the recipient; no
// answer came back). Every one of 200 due nudges reaches the recipient
// exactly once: the survivors find the dead worker's claims orphaned when
// their leases run out, ask the recipient, and do not send them again.
func TestThreeProcessesOneKilledEachNudgeOnce(t *testing.T) {
	rdb, real := testRedis(t)
	if !real {
		t.Skip("set ITFIT_TEST_REDIS_URL: worker processes must share a real Redis")
	}
	p := testPrefix(t, rdb)
	store := NewStore(rdb, StoreConfig{Prefix: p})
	ctx := context.Background()
	const n = 200
	due := time.Now().Add(-time.Second)
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{ID: fmt.Sprintf("user/test/T1/U%03d", i), Due: due.Add(-time.Duration(i) * time.Millisecond), Payload: []byte("x")}
	}
	if err := store.ScheduleMany(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	rc := &recipient{received: map[string]int{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)

	victim := startWorkerProcess(t, "victim", p, srv.URL)
	waitFor(t, "the victim's deliveries in flight", func() bool { return rc.heldCount() == 4 })
	a := startWorkerProcess(t, "a", p, srv.URL)
	b := startWorkerProcess(t, "b", p, srv.URL)
	if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()

	waitFor(t, "every nudge settled", func() bool {
		return rdb.ZCard(ctx, p.ScheduleDue()).Val() == 0 && rdb.HLen(ctx, p.ScheduleJobs()).Val() == 0
	})
	for _, w := range []*workerProcess{a, b} {
		w.stop(t)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	total := 0
	for _, j := range jobs {
		if got := rc.received[j.Occurrence()]; got != 1 {
			t.Errorf("%s received %d times", j.Occurrence(), got)
		}
		total += rc.received[j.Occurrence()]
	}
	if total != n {
		t.Errorf("recipient got %d nudges, want %d", total, n)
	}
	if dls, err := store.DeadLetters(ctx, 10); err != nil || len(dls) != 0 {
		t.Errorf("dead letters %+v, %v", dls, err)
	}
	logs := a.logs.String() + b.logs.String()
	if !strings.Contains(logs, "orphaned") || !strings.Contains(logs, "not sent again") {
		t.Errorf("survivors did not report verifying the orphans:\n%s", logs)
	}
	if t.Failed() {
		t.Logf("victim:\n%s\na:\n%s\nb:\n%s", victim.logs, a.logs, b.logs)
	}
}

type workerProcess struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func startWorkerProcess(t *testing.T, name string, p keys.Prefix, recipientURL string) *workerProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$")
	cmd.Env = append(os.Environ(), envChild+"="+name, envPrefix+"="+string(p), envRecipient+"="+recipientURL)
	logs := &bytes.Buffer{}
	cmd.Stdout = logs
	cmd.Stderr = logs
	stdin, err := cmd.StdinPipe() // closing it (the test ending) stops the worker
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &workerProcess{cmd: cmd, logs: logs}
}

// stop sends SIGTERM and waits for a clean exit.
func (w *workerProcess) stop(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Wait(); err != nil {
		t.Errorf("worker exited with %v:\n%s", err, w.logs)
	}
}

// TestWorkerProcess is not a test: it is the worker process that
// TestThreeProcessesOneKilledEachNudgeOnce starts. It delivers to the
// recipient over HTTP and verifies through it, with a short lease so that a
// killed worker's orphans come back within seconds.
func TestWorkerProcess(t *testing.T) {
	name := os.Getenv(envChild)
	if name == "" {
		t.Skip("runs only as a worker process of TestThreeProcessesOneKilledEachNudgeOnce")
	}
	opt, err := redis.ParseURL(os.Getenv("ITFIT_TEST_REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	base := os.Getenv(envRecipient)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() { // the parent went away
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()

	client := &http.Client{}
	d := httpDeliverer{client: client, base: base, name: name}
	w := NewWorker(NewStore(rdb, StoreConfig{Prefix: keys.Prefix(os.Getenv(envPrefix))}), d, WorkerConfig{
		PollInterval:   50 * time.Millisecond,
		Batch:          7,
		Concurrency:    4,
		Lease:          1500 * time.Millisecond,
		DeliverTimeout: 5 * time.Second,
		AmbiguousDelay: 300 * time.Millisecond,
		Logger:         slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("worker", name),
	})
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// httpDeliverer posts the occurrence to the recipient, as the Slack
// notifier posts a message tagged with it, and is its own Confirmer.
type httpDeliverer struct {
	client *http.Client
	base   string
	name   string
}

func (d httpDeliverer) Deliver(ctx context.Context, j Job) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/nudge", strings.NewReader(j.Occurrence()))
	if err != nil {
		return err
	}
	req.Header.Set("X-Worker", d.name)
	resp, err := d.client.Do(req)
	if err != nil {
		// The request may have been written before the failure.
		return Ambiguous(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("recipient: HTTP %d", resp.StatusCode)
	}
	return nil
}

func (d httpDeliverer) Delivered(ctx context.Context, j Job) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/delivered?occurrence="+url.QueryEscape(j.Occurrence()), nil)
	if err != nil {
		return false, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	switch string(b) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("recipient: unexpected answer " + string(b))
}
