package slackapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
)

// Slack's request-signing headers.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
)

// MaxSkew is how far a request's timestamp may be from our clock, either
// way, before it is refused as a possible replay (Slack's documented window).
const MaxSkew = 5 * time.Minute

// Reasons a request fails verification. They go to the log, never to the
// caller, and none of them carries a computed signature.
var (
	ErrMissingSignature = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	ErrBadTimestamp     = errors.New("X-Slack-Request-Timestamp is not a Unix time")
	ErrStale            = errors.New("request timestamp is outside the 5-minute window")
	ErrBadSignature     = errors.New("signature does not match")
	// ErrTooLarge: the body announced or sent is over the limit.
	ErrTooLarge = errors.New("request body over the limit")
	// ErrBusy: MaxUnverifiedReads bodies are being read already.
	ErrBusy = errors.New("too many unverified request bodies in flight")
)

// MaxUnverifiedReads bounds how many request bodies are read at once before
// their signature can be checked. Anyone can open a connection, announce
// 128 KiB and send it one byte at a time: without a bound, each such
// connection holds a buffer until the server's read timeout. Slack's own
// bodies arrive in one piece and are read in microseconds, so even a busy
// replica has a handful in flight; beyond the bound a request is refused
// at once (503) instead of queueing behind the slow ones.
const MaxUnverifiedReads = 128

// Verifier checks Slack's v0 request signature. It is written here rather
// than taken from slack-go's SecretsVerifier because that one reads the
// wall clock directly, and the documented example request (from 2018) can
// only be a test vector with a clock we control.
//
// A Verifier also guards the reading of what it is to verify (see Read):
// it holds the bound on bodies being read before their signature is known.
type Verifier struct {
	secret []byte
	now    func() time.Time
	reads  chan struct{} // one token per body being read unverified
}

// NewVerifier returns a verifier for the app's signing secret; now may be
// nil for the wall clock.
func NewVerifier(secret string, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{secret: []byte(secret), now: now, reads: make(chan struct{}, MaxUnverifiedReads)}
}

// Reading is how many bodies are being read, unverified, right now.
func (v *Verifier) Reading() int { return len(v.reads) }

// Read reads r's body, at most limit bytes, and verifies its signature,
// spending as little as it can on a request that is not Slack's: the
// headers and the timestamp's window are checked before a byte of the body
// is read; a body announced over the limit is refused unread; at most
// MaxUnverifiedReads bodies are read at once (ErrBusy beyond); and the body
// is read into a buffer that grows as bytes arrive, not one sized from the
// client's Content-Length. w is only for http.MaxBytesReader. The error is
// one of this file's reasons, or a read error.
func (v *Verifier) Read(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if err := v.fresh(r.Header); err != nil {
		return nil, err
	}
	if r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	select {
	case v.reads <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	<-v.reads
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrTooLarge
		}
		return nil, err
	}
	if err := v.Verify(r.Header, body); err != nil {
		return nil, err
	}
	return body, nil
}

// fresh checks that both headers are present and that the timestamp is
// inside the window.
func (v *Verifier) fresh(h http.Header) error {
	sig, ts := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if sig == "" || ts == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	// Compare in seconds so that absurd timestamps cannot overflow a
	// time.Duration and slip through the window.
	if d := v.now().Unix() - sec; d > int64(MaxSkew/time.Second) || d < -int64(MaxSkew/time.Second) {
		return ErrStale
	}
	return nil
}

// Verify checks the signature over the exact raw body. It must run before
// the body is parsed in any way.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	if err := v.fresh(h); err != nil {
		return err
	}
	got, ok := signature(h)
	if !ok || !hmac.Equal(got, v.mac(h.Get(HeaderTimestamp), body)) {
		return ErrBadSignature
	}
	return nil
}

// signature decodes the v0 signature header into the MAC's bytes.
func signature(h http.Header) ([]byte, bool) {
	const prefix = "v0="
	sig := h.Get(HeaderSignature)
	if len(sig) != len(prefix)+2*sha256.Size || sig[:len(prefix)] != prefix {
		return nil, false
	}
	got := make([]byte, sha256.Size)
	if _, err := hex.Decode(got, []byte(sig[len(prefix):])); err != nil {
		return nil, false
	}
	return got, true
}

// FirstDelivery reports whether this verified request is the first with
// its signature. A signed request captured on the way (a proxy's log, a
// compromised hop) stays valid for the whole window, so a replay of
// "/itfit restart" or of a Forget confirmation would act again; each
// signature is remembered (SET NX) until its timestamp has left the window,
// plus a minute for other replicas' clocks, and a second copy is refused.
//
// The key is a hash of the decoded MAC, so that the same signature written
// in upper-case hex is the same key. It is written only for requests that
// passed Verify: a flood of forgeries writes nothing. A Redis failure is
// not a refusal (the caller goes on): without Redis nothing can act anyway,
// and the request gets the engine's "temporarily unavailable" reply.
func (v *Verifier) FirstDelivery(ctx context.Context, rdb redis.UniversalClient, p keys.Prefix, h http.Header) (bool, error) {
	id, ttl, ok := v.Delivery(h)
	if !ok {
		return false, ErrBadSignature // only verified requests come here
	}
	return rdb.SetNX(ctx, p.SlackSignature(id), "1", ttl).Result()
}

// Delivery names a verified request for its replay check, as FirstDelivery
// claims it: id is a hash of the decoded MAC, and ttl lasts until the
// request's timestamp has left the window, plus a minute for other
// replicas' clocks. A caller that makes a Redis round trip for the request
// anyway claims it there instead (Unclaimed).
func (v *Verifier) Delivery(h http.Header) (id string, ttl time.Duration, ok bool) {
	mac, ok := signature(h)
	sec, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if !ok || err != nil {
		return "", 0, false
	}
	sum := sha256.Sum256(mac)
	return base64.RawURLEncoding.EncodeToString(sum[:16]), max(time.Unix(sec, 0).Add(MaxSkew+time.Minute).Sub(v.now()), time.Second), true
}

func (v *Verifier) mac(ts string, body []byte) []byte {
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte("v0:"))
	m.Write([]byte(ts))
	m.Write([]byte(":"))
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the v0 signature of a body, as Slack computes it. Tests and
// local tools use it to make requests; the server only ever compares.
func Sign(secret, ts string, body []byte) string {
	v := Verifier{secret: []byte(secret)}
	return "v0=" + hex.EncodeToString(v.mac(ts, body))
}
