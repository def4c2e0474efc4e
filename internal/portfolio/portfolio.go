// Package portfolio is the account managers' desk in Redis: which clients
// each manager may see, in the two orders the desk shows them ("due
// soonest" and "changed recently"), as IDs and times only.
//
// A manager's clients come from sources: a client workspace the operator
// assigned to them (ITFIT_ACCOUNT_MANAGERS), and the manager as chosen by
// a client's Share. Each source is a pair of sorted sets of client IDs, one
// scored by when the client's revisit is due and one by when their latest
// result came. The sources are kept apart rather than copied into one set
// per manager so that a change of ITFIT_ACCOUNT_MANAGERS shows at once, in
// both directions: a manager sees a workspace's clients exactly while it is
// assigned to them. Sources computes a person's sources from the
// directory; they never overlap (see Sources), so a page is a merge.
//
// A page is one Lua script, one round trip, whatever the portfolio's size:
// it reads the next n entries of each source after a cursor (by rank in
// the cursor's own source, by score in the others) and merges them, at
// O(k·(log N + n)) for k sources. Every key shares the hash tag {desk}, so
// the scripts run unchanged on Redis Cluster.
package portfolio

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/revisit"
)

// Order is how a page is sorted.
type Order string

const (
	// ByDue: the client whose revisit is due soonest first.
	ByDue Order = "due"
	// ByChanged: the client whose latest result is newest first.
	ByChanged Order = "changed"
)

// Valid reports whether o is an order the desk knows.
func (o Order) Valid() bool { return o == ByDue || o == ByChanged }

// Source is one set of a manager's clients: a client workspace assigned to
// them, or the manager as clients shared with them.
type Source struct {
	// Workspace is set for an assigned workspace.
	Workspace *revisit.Workspace
	// Manager is set for the clients who shared with this manager.
	Manager *revisit.Manager
}

// Sources are the sources of the person who is every one of ids (a
// person has several IDs on some platforms: Teams' Entra object ID and
// from.id): the workspaces dir assigns to any of them, and the clients who
// shared with any of them, except where that manager's own workspace is
// assigned to them too (its clients are all there already: a client shares
// within their own workspace). A client belongs to one workspace and has
// shared with at most one manager, so no two sources hold the same client.
func Sources(ids []revisit.Manager, dir revisit.Directory) []Source {
	var out []Source
	assigned := map[revisit.Workspace]bool{}
	for _, m := range ids {
		for _, w := range dir.AssignedTo(m) {
			if !assigned[w] {
				assigned[w] = true
				out = append(out, Source{Workspace: &w})
			}
		}
	}
	slices.SortFunc(out, func(a, b Source) int { return strings.Compare(ref(a), ref(b)) })
	seen := map[revisit.Manager]bool{}
	for _, m := range ids {
		if m.Target == "" || seen[m] || assigned[revisit.Workspace{Platform: m.Platform, Workspace: m.Workspace}] {
			continue
		}
		seen[m] = true
		out = append(out, Source{Manager: &m})
	}
	return out
}

func ref(s Source) string {
	if s.Workspace != nil {
		return "w:" + string(s.Workspace.Platform) + ":" + string(s.Workspace.Workspace)
	}
	return "s:" + managerRef(*s.Manager)
}

// Entry is one client on the desk.
type Entry struct {
	Client conversation.UserKey
	// Due is when their revisit is due (the card's "revisit by" date, or
	// later where their manager snoozed it); Changed is when their latest
	// result came.
	Due, Changed time.Time
}

// Cursor says where a page starts: "" is the first page; otherwise it is
// opaque, read from a Page (Next, Prev) and handed back.
type Cursor string

// Page is one page of a manager's clients.
type Page struct {
	Order   Order
	Entries []Entry
	// Total is how many clients the manager has; Before how many come
	// before this page's first.
	Total, Before int
	// At is the cursor this page was read at (to read it again); Next
	// and Prev are the neighbouring pages' ("" where there is none).
	At, Next, Prev Cursor
}

// Store keeps the desk in Redis.
type Store struct {
	rdb redis.UniversalClient
	p   keys.Prefix
}

// New returns the store over rdb.
func New(rdb redis.UniversalClient, p keys.Prefix) *Store {
	if p == "" {
		p = keys.Default
	}
	return &Store{rdb: rdb, p: p}
}

// ErrBadCursor is a cursor the store never made.
var ErrBadCursor = errors.New("portfolio: bad cursor")

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, conversation.ErrUnavailable, err)
}

// A client's ID in the sets, and a manager's in the client hash: the
// fields escaped and joined with ':'.
var (
	idEscaper   = strings.NewReplacer("%", "%25", ":", "%3A", "|", "%7C")
	idUnescaper = strings.NewReplacer("%3A", ":", "%7C", "|", "%25", "%")
)

func member(u conversation.UserKey) string {
	return idEscaper.Replace(string(u.Platform)) + ":" + idEscaper.Replace(string(u.Workspace)) + ":" + idEscaper.Replace(string(u.User))
}

func parseMember(s string) (conversation.UserKey, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return conversation.UserKey{}, false
	}
	return conversation.UserKey{
		Platform:  conversation.Platform(idUnescaper.Replace(parts[0])),
		Workspace: conversation.WorkspaceID(idUnescaper.Replace(parts[1])),
		User:      conversation.UserID(idUnescaper.Replace(parts[2])),
	}, true
}

func managerRef(m revisit.Manager) string {
	return member(conversation.UserKey{Platform: m.Platform, Workspace: m.Workspace, User: conversation.UserID(m.Target)})
}

func parseManager(s string) (revisit.Manager, bool) {
	u, ok := parseMember(s)
	return revisit.Manager{Platform: u.Platform, Workspace: u.Workspace, Target: string(u.User)}, ok
}

// sets are a source's two sorted sets, the order's first.
func (s *Store) sets(src Source, o Order) (string, string) {
	due, chg := s.key(src, ByDue), s.key(src, ByChanged)
	if o == ByChanged {
		return chg, due
	}
	return due, chg
}

func (s *Store) key(src Source, o Order) string {
	if src.Workspace != nil {
		return s.p.DeskWorkspace(string(o), string(src.Workspace.Platform), string(src.Workspace.Workspace))
	}
	m := src.Manager
	return s.p.DeskShared(string(o), string(m.Platform), string(m.Workspace), m.Target)
}

func (s *Store) clientKey(u conversation.UserKey) string {
	return s.p.DeskClient(string(u.Platform), string(u.Workspace), string(u.User))
}

func workspaceOf(u conversation.UserKey) Source {
	return Source{Workspace: &revisit.Workspace{Platform: u.Platform, Workspace: u.Workspace}}
}

// Scores: due in Unix seconds; changed negated, so that ascending order
// is newest first and every page reads in one direction.
func dueScore(t time.Time) string     { return strconv.FormatInt(t.Unix(), 10) }
func changedScore(t time.Time) string { return strconv.FormatInt(-t.Unix(), 10) }

//go:embed scripts.lua
var scriptLib string

var (
	// Each takes the client hash first; ARGV[1] is the shared manager the
	// caller read from it (so the keys it passed are the right ones), ""
	// for none. A script that finds another returns -1 and the caller
	// reads again: every key a script touches is one it was given.
	recordScript = redis.NewScript(scriptLib + `
return record()`)
	shareScript = redis.NewScript(scriptLib + `
return share()`)
	snoozeScript = redis.NewScript(scriptLib + `
return snooze()`)
	eraseScript = redis.NewScript(scriptLib + `
return erase()`)
	pageScript = redis.NewScript(scriptLib + `
return page()`)
)

// errMoved is a client whose shared manager changed between the read and
// the script.
var errMoved = errors.New("portfolio: the client moved meanwhile")

// withShared runs a script that needs the keys of the client's shared
// source: it reads the client's hash, builds the keys and arguments, and
// runs again if the client moved meanwhile.
func (s *Store) withShared(ctx context.Context, op string, u conversation.UserKey, run func(shared string, sm *revisit.Manager) (int64, error)) (int64, error) {
	for range 3 {
		shared, err := s.rdb.HGet(ctx, s.clientKey(u), "s").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, unavailable(op, err)
		}
		var sm *revisit.Manager
		if shared != "" {
			m, ok := parseManager(shared)
			if !ok {
				shared = ""
			} else {
				sm = &m
			}
		}
		n, err := run(shared, sm)
		if err != nil {
			return 0, unavailable(op, err)
		}
		if n >= 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: %w", op, errMoved)
}

// Record puts a client's latest result on the desk: completed is when it
// came, due when their revisit is due. It goes into the client's
// workspace and, if they shared, their manager's source.
func (s *Store) Record(ctx context.Context, u conversation.UserKey, completed, due time.Time) error {
	_, err := s.withShared(ctx, "record on the desk", u, func(shared string, sm *revisit.Manager) (int64, error) {
		wd, wc := s.sets(workspaceOf(u), ByDue)
		ks := []string{s.clientKey(u), wd, wc}
		if sm != nil {
			sd, sc := s.sets(Source{Manager: sm}, ByDue)
			ks = append(ks, sd, sc)
		}
		return recordScript.Run(ctx, s.rdb, ks, shared, member(u), dueScore(due), changedScore(completed)).Int64()
	})
	return err
}

// Share moves a client to manager m's source (out of the one they shared
// with before), with their latest result's times.
func (s *Store) Share(ctx context.Context, u conversation.UserKey, m revisit.Manager, completed, due time.Time) error {
	to := managerRef(m)
	_, err := s.withShared(ctx, "share on the desk", u, func(shared string, sm *revisit.Manager) (int64, error) {
		wd, wc := s.sets(workspaceOf(u), ByDue)
		nd, nc := s.sets(Source{Manager: &m}, ByDue)
		ks := []string{s.clientKey(u), wd, wc, nd, nc}
		if sm != nil && shared != to {
			od, oc := s.sets(Source{Manager: sm}, ByDue)
			ks = append(ks, od, oc)
		}
		return shareScript.Run(ctx, s.rdb, ks, shared, member(u), dueScore(due), changedScore(completed), to).Int64()
	})
	return err
}

// Snooze moves a client's due date, in every source that holds them.
func (s *Store) Snooze(ctx context.Context, u conversation.UserKey, due time.Time) error {
	_, err := s.withShared(ctx, "snooze on the desk", u, func(shared string, sm *revisit.Manager) (int64, error) {
		ks := []string{s.clientKey(u), s.key(workspaceOf(u), ByDue)}
		if sm != nil {
			ks = append(ks, s.key(Source{Manager: sm}, ByDue))
		}
		return snoozeScript.Run(ctx, s.rdb, ks, shared, member(u), dueScore(due)).Int64()
	})
	return err
}

// Erase takes a client off every desk (forget): their workspace's source,
// their manager's, and their hash. It returns how many desk records went
// (0 or 1: the client's place on the desk).
func (s *Store) Erase(ctx context.Context, u conversation.UserKey) (int, error) {
	n, err := s.withShared(ctx, "forget on the desk", u, func(shared string, sm *revisit.Manager) (int64, error) {
		wd, wc := s.sets(workspaceOf(u), ByDue)
		ks := []string{s.clientKey(u), wd, wc}
		if sm != nil {
			sd, sc := s.sets(Source{Manager: sm}, ByDue)
			ks = append(ks, sd, sc)
		}
		return eraseScript.Run(ctx, s.rdb, ks, shared, member(u)).Int64()
	})
	return int(n), err
}

// Sees reports whether one of the sources holds the client: the one check
// every press on a desk passes before it acts on the client it names.
func (s *Store) Sees(ctx context.Context, sources []Source, u conversation.UserKey) (bool, error) {
	if len(sources) == 0 {
		return false, nil
	}
	m := member(u)
	cmds := make([]*redis.FloatCmd, len(sources))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, src := range sources {
			cmds[i] = p.ZScore(ctx, s.key(src, ByDue), m)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, unavailable("read the desk", err)
	}
	for _, c := range cmds {
		if c.Err() == nil {
			return true, nil
		}
	}
	return false, nil
}

// MaxPage bounds a page: the script's work is k·(n+1) entries.
const MaxPage = 1000

// Page reads n clients of the sources in order o from cursor at, in one
// round trip.
func (s *Store) Page(ctx context.Context, sources []Source, o Order, at Cursor, n int) (Page, error) {
	if !o.Valid() {
		o = ByDue
	}
	n = min(max(n, 1), MaxPage)
	pg := Page{Order: o, At: at}
	if len(sources) == 0 {
		return pg, nil
	}
	mode, score, src, from, err := parseCursor(at, len(sources))
	if err != nil {
		return pg, err
	}
	ks := make([]string, 2*len(sources))
	for i, source := range sources {
		ks[i], ks[len(sources)+i] = s.sets(source, o)
	}
	res, err := pageScript.Run(ctx, s.rdb, ks, mode, score, src, from, n).Slice()
	if err != nil {
		return pg, unavailable("read the desk", err)
	}
	if len(res) < 2 {
		return pg, errors.New("portfolio: short page reply")
	}
	total, _ := res[0].(int64)
	before, _ := res[1].(int64)
	pg.Total, pg.Before = int(total), int(before)
	var first, last string
	for i := 2; i+3 < len(res); i += 4 {
		m, _ := res[i].(string)
		sc, _ := res[i+1].(string)
		j, _ := res[i+2].(int64)
		other, _ := res[i+3].(string)
		u, ok := parseMember(m)
		a, err1 := strconv.ParseInt(sc, 10, 64)
		b, err2 := strconv.ParseInt(other, 10, 64)
		if !ok || err1 != nil {
			continue
		}
		c := cursor(sc, int(j), m)
		if first == "" {
			first = c
		}
		last = c
		e := Entry{Client: u}
		if o == ByDue {
			e.Due = time.Unix(a, 0).UTC()
			if err2 == nil {
				e.Changed = time.Unix(-b, 0).UTC()
			}
		} else {
			e.Changed = time.Unix(-a, 0).UTC()
			if err2 == nil {
				e.Due = time.Unix(b, 0).UTC()
			}
		}
		pg.Entries = append(pg.Entries, e)
	}
	if len(pg.Entries) > 0 {
		if pg.Before > 0 {
			pg.Prev = Cursor("p|" + first)
		}
		if pg.Before+len(pg.Entries) < pg.Total {
			pg.Next = Cursor("n|" + last)
		}
	}
	return pg, nil
}

// cursor is an entry's place: its score, its source's index (1-based, as
// in the script) and its ID.
func cursor(score string, src int, m string) string {
	return score + "|" + strconv.Itoa(src) + "|" + m
}

// parseCursor reads "" (the first page), "n|score|source|id" (after that
// entry) or "p|score|source|id" (before it).
func parseCursor(c Cursor, sources int) (mode, score string, src int, id string, err error) {
	if c == "" {
		return "f", "0", 0, "", nil
	}
	parts := strings.SplitN(string(c), "|", 4)
	if len(parts) != 4 || (parts[0] != "n" && parts[0] != "p") {
		return "", "", 0, "", ErrBadCursor
	}
	if _, e := strconv.ParseInt(parts[1], 10, 64); e != nil {
		return "", "", 0, "", ErrBadCursor
	}
	src, e := strconv.Atoi(parts[2])
	if e != nil || src < 1 || src > sources {
		return "", "", 0, "", ErrBadCursor
	}
	if _, ok := parseMember(parts[3]); !ok {
		return "", "", 0, "", ErrBadCursor
	}
	return parts[0], parts[1], src, parts[3], nil
}
