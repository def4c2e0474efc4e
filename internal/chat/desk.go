package chat

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// Desk is the account managers' desk in Redis (*portfolio.Store).
type Desk interface {
	Record(ctx context.Context, u conversation.UserKey, completed, due time.Time) error
	Share(ctx context.Context, u conversation.UserKey, m revisit.Manager, completed, due time.Time) error
	Snooze(ctx context.Context, u conversation.UserKey, due time.Time) error
	Sees(ctx context.Context, sources []portfolio.Source, u conversation.UserKey) (bool, error)
	Page(ctx context.Context, sources []portfolio.Source, o portfolio.Order, at portfolio.Cursor, n int) (portfolio.Page, error)
}

// Links makes download links (*links.Signer).
type Links interface {
	Mint(c links.Claims) (string, time.Time, error)
}

var (
	_ Desk  = (*portfolio.Store)(nil)
	_ Links = (*links.Signer)(nil)
)

// Uploader is an Outbox that can put a file in a person's private chat
// with itfit (Slack); elsewhere an export is a download link.
type Uploader interface {
	Upload(ctx context.Context, to conversation.UserKey, f File) error
}

// File is a file to hand a person, with a line about it.
type File struct {
	Name, Title string
	Data        []byte
	Comment     Text
}

// ClientNamer is an Outbox that names many clients at once without a
// platform call per client (Teams: the names it keeps to reach them;
// Slack: the workspaces' names), for exports. A row it leaves unnamed
// stays so in an export; a page of the desk asks Client for those.
type ClientNamer interface {
	Clients(ctx context.Context, m revisit.Manager, cs []conversation.UserKey) []ClientInfo
}

// managerSnoozer moves a manager's nudge about a client (*revisit.Service).
type managerSnoozer interface {
	SnoozeManager(ctx context.Context, client conversation.UserKey) (time.Time, bool, error)
}

// latest reads a page of clients' results at once (*conversation.Engine).
type latest interface {
	Latest(ctx context.Context, us []conversation.UserKey, n int) ([][]conversation.Result, error)
}

// deskPageSize is how many clients a page shows: within Slack's 50 blocks
// of a message (two each) and Teams' 28 KB card, with room to spare.
const deskPageSize = 10

// exportPage is how many clients an export reads per round trip.
const exportPage = 500

// DeskPage is a page of a manager's desk as the views show it.
type DeskPage struct {
	Page    portfolio.Page
	Clients []DeskClient
}

// DeskClient is one client on a page: their place on the desk, how the
// manager's platform names them, and their latest result and the one
// before it (nil on a first result).
type DeskClient struct {
	Entry            portfolio.Entry
	Person           Span
	Latest, Previous *conversation.Result
}

// ids are the manager identities of the person: every ID the platform
// vouched for.
func ids(who Who) []revisit.Manager {
	out := []revisit.Manager{{Platform: who.Key.Platform, Workspace: who.Key.Workspace, Target: string(who.Key.User)}}
	for _, a := range who.Aliases {
		out = append(out, revisit.Manager{Platform: who.Key.Platform, Workspace: who.Key.Workspace, Target: string(a)})
	}
	return out
}

func (s *Service) sources(who Who) []portfolio.Source {
	if s.desk == nil || who.Key.User == "" {
		return nil
	}
	return portfolio.Sources(ids(who), s.managers)
}

// assigned reports whether the operator gave the person any workspace.
func (s *Service) assigned(who Who) bool {
	for _, m := range ids(who) {
		if len(s.managers.AssignedTo(m)) > 0 {
			return true
		}
	}
	return false
}

// results are the n newest results of each client, in one round trip
// where the engine can.
func (s *Service) results(ctx context.Context, us []conversation.UserKey, n int) ([][]conversation.Result, error) {
	if l, ok := s.engine.(latest); ok {
		return l.Latest(ctx, us, n)
	}
	out := make([][]conversation.Result, len(us))
	for i, u := range us {
		h, err := s.engine.History(ctx, u)
		if err != nil {
			return nil, err
		}
		out[i] = h[:min(n, len(h))]
	}
	return out, nil
}

// deskPage reads a page of the person's desk; ok is false when they have
// no desk (no source, or nothing on it and no workspace assigned).
func (s *Service) deskPage(ctx context.Context, who Who, o portfolio.Order, at portfolio.Cursor) (DeskPage, bool, error) {
	src := s.sources(who)
	if len(src) == 0 {
		return DeskPage{}, false, nil
	}
	pg, err := s.desk.Page(ctx, src, o, at, deskPageSize)
	if errors.Is(err, portfolio.ErrBadCursor) {
		pg, err = s.desk.Page(ctx, src, o, "", deskPageSize)
	}
	if err != nil {
		return DeskPage{}, false, err
	}
	if pg.Total == 0 && !s.assigned(who) {
		return DeskPage{Page: pg}, false, nil
	}
	d := DeskPage{Page: pg}
	us := make([]conversation.UserKey, len(pg.Entries))
	for i, e := range pg.Entries {
		us[i] = e.Client
	}
	rs, err := s.results(ctx, us, 2)
	if err != nil {
		return DeskPage{}, false, err
	}
	m := ids(who)[0]
	infos := s.clientInfos(ctx, m, us, true)
	for i, e := range pg.Entries {
		if len(rs[i]) == 0 {
			continue // their results expired; nothing to show
		}
		c := DeskClient{Entry: e, Person: s.views.person(infos[i], e.Client), Latest: &rs[i][0]}
		if len(rs[i]) > 1 {
			c.Previous = &rs[i][1]
		}
		d.Clients = append(d.Clients, c)
	}
	return d, true, nil
}

// clientInfos names clients for manager m: at once where the platform
// can, and, with each, one at a time for those it left unnamed (a page's
// few, concurrently).
func (s *Service) clientInfos(ctx context.Context, m revisit.Manager, us []conversation.UserKey, each bool) []ClientInfo {
	s.mu.Lock()
	out := s.outboxes[m.Platform]
	s.mu.Unlock()
	infos := make([]ClientInfo, len(us))
	if out == nil {
		return infos
	}
	if n, ok := out.(ClientNamer); ok {
		copy(infos, n.Clients(ctx, m, us))
	}
	if !each {
		return infos
	}
	var wg sync.WaitGroup
	for i, u := range us {
		if infos[i].Mention || infos[i].Name != "" {
			continue
		}
		wg.Go(func() { infos[i] = out.Client(ctx, m, u) })
	}
	wg.Wait()
	return infos
}

// showDesk answers a desk press or the clients command: the page, in
// place of the message pressed (the whole home, for a press there), with
// note above it.
func (s *Service) showDesk(ctx context.Context, in Input, o portfolio.Order, at portfolio.Cursor, note Text) []Output {
	op := Post
	if in.Act != nil && (in.Act.On != "" || in.Who.Home) {
		op = Replace
	}
	if in.Who.Home {
		m, err := s.home(ctx, in.Who, o, at, note)
		if err != nil {
			return s.fail(ctx, "desk", err)
		}
		return []Output{{Op: Replace, Msg: m}}
	}
	d, ok, err := s.deskPage(ctx, in.Who, o, at)
	if err != nil {
		return s.fail(ctx, "desk", err)
	}
	if !ok {
		return []Output{{Op: Note, Msg: s.views.note(s.views.w.t("You have no clients on your desk yet: clients appear here once they share their itfit result with you, or once the operator assigns you their workspace."))}}
	}
	m := s.views.Desk(d, in.Who)
	if len(note) > 0 {
		m.Notes = append([]Text{note}, m.Notes...)
	}
	return []Output{{Op: op, Msg: m}}
}

// clients is the clients command: the desk, in the person's private chat
// only (a channel's members would see it).
func (s *Service) clients(ctx context.Context, in Input) []Output {
	if in.Who.Group {
		return []Output{{Op: Note, Msg: s.views.note(s.views.w.t("Your client list is private: ask me for it in our 1:1 chat."))}}
	}
	return s.showDesk(ctx, in, portfolio.ByDue, "", nil)
}

func order(v Value) portfolio.Order {
	if o := portfolio.Order(v.Sort); o.Valid() {
		return o
	}
	return portfolio.ByDue
}

// deskAct handles the desk's buttons. A press naming a client acts only
// if the presser's desk holds that client: the value says which client,
// the sources come from who the platform says pressed.
func (s *Service) deskAct(ctx context.Context, in Input) []Output {
	a, v, w := in.Act, s.views, s.views.w
	o, at := order(a.Value), portfolio.Cursor(a.Value.Page)
	if s.desk == nil {
		return []Output{{Op: Note, Msg: v.note(w.problem(Problem{Kind: UnknownButton}))}}
	}
	switch a.Intent {
	case IntentClients:
		return s.showDesk(ctx, in, o, at, nil)
	case IntentExport:
		return s.export(ctx, in, o, a.Value.Format)
	}
	client := a.Value.Client
	if client.Platform == "" || client.Workspace == "" || client.User == "" {
		return []Output{{Op: Note, Msg: v.note(w.problem(Problem{Kind: UnknownButton}))}}
	}
	ok, err := s.desk.Sees(ctx, s.sources(in.Who), client)
	if err != nil {
		return s.fail(ctx, "desk", err)
	}
	if !ok {
		s.logger(ctx).Warn("chat: desk press refused: the client is not on the presser's desk", "intent", a.Intent, "client_workspace", client.Workspace)
		return []Output{{Op: Note, Msg: v.note(w.t("That client is not on your desk, so nothing changed."))}}
	}
	m := ids(in.Who)[0]
	switch a.Intent {
	case IntentClientCard:
		rs, err := s.results(ctx, []conversation.UserKey{client}, 1)
		if err != nil {
			return s.fail(ctx, "client card", err)
		}
		if len(rs[0]) == 0 {
			return []Output{{Op: Note, Msg: v.note(w.t("That client has no itfit result any more, so there is no card to show."))}}
		}
		c := Client{Key: conversation.Key{UserKey: client}, Person: s.client(ctx, m, client, w.t("your client"))}
		return []Output{{Op: Post, Msg: v.ClientCard(c, rs[0][0])}}
	case IntentClientSnooze:
		due := advisor.AddMonths(s.now(), 1)
		if sn, ok := s.reminders.(managerSnoozer); ok && s.reminders != nil {
			if due, _, err = sn.SnoozeManager(ctx, client); err != nil {
				return s.fail(ctx, "snooze client", err)
			}
		}
		if err := s.desk.Snooze(ctx, client, due); err != nil {
			return s.fail(ctx, "snooze client", err)
		}
		who := s.client(ctx, m, client, w.t("this client"))
		return s.showDesk(ctx, in, o, at, txt(w.t("Snoozed: "), who, w.t(" is due for a revisit on "), due, w.t(", and your nudge about them moved there too.")))
	case IntentClientInvite:
		if outs := s.off(client.Platform); outs != nil {
			return outs
		}
		// One invitation per manager and client an hour, however often
		// it is pressed. The claim lives under the client's tag, so their
		// forget sweeps it.
		claim := "desk-invite:" + string(in.Who.Key.User)
		first, err := s.claims.Claim(ctx, client, claim)
		if err != nil {
			return s.fail(ctx, "invite client", err)
		}
		if !first {
			return []Output{{Op: Note, Msg: v.note(w.t("They were already invited in the last hour."))}}
		}
		if err := s.reminders.Invite(ctx, conversation.Key{UserKey: client}); err != nil {
			s.release(ctx, client, "desk", claim)
			if errors.Is(err, revisit.ErrNoResult) || errors.Is(err, schedule.ErrGone) {
				return []Output{{Op: Note, Msg: v.note(w.t("I can't invite them any more: they have no itfit result now, or removed itfit. Nothing was sent."))}}
			}
			return s.fail(ctx, "invite client", err)
		}
		who := s.client(ctx, m, client, w.t("your client"))
		return s.showDesk(ctx, in, o, at, txt(w.t("Invitation sent: "), who, w.t(" has been asked to retake the audit.")))
	}
	return []Output{{Op: Note, Msg: v.note(w.problem(Problem{Kind: UnknownButton}))}}
}

// ExportRows is every client on the person's desk, in order o, as the
// rows of an export: a page of exportPage clients per round trip.
func (s *Service) ExportRows(ctx context.Context, who Who, o portfolio.Order) ([]portfolio.Row, error) {
	src := s.sources(who)
	if len(src) == 0 {
		return nil, nil
	}
	var rows []portfolio.Row
	var at portfolio.Cursor
	m := ids(who)[0]
	for {
		pg, err := s.desk.Page(ctx, src, o, at, exportPage)
		if err != nil {
			return nil, err
		}
		us := make([]conversation.UserKey, len(pg.Entries))
		for i, e := range pg.Entries {
			us[i] = e.Client
		}
		rs, err := s.results(ctx, us, 2)
		if err != nil {
			return nil, err
		}
		infos := s.clientInfos(ctx, m, us, false)
		for i, e := range pg.Entries {
			if len(rs[i]) == 0 {
				continue
			}
			c := DeskClient{Entry: e, Latest: &rs[i][0]}
			if len(rs[i]) > 1 {
				c.Previous = &rs[i][1]
			}
			rows = append(rows, s.views.row(c, infos[i]))
		}
		if pg.Next == "" {
			return rows, nil
		}
		at = pg.Next
	}
}

// export is the Export buttons: a file in the person's private chat
// where the platform takes one, else a download link.
func (s *Service) export(ctx context.Context, in Input, o portfolio.Order, format string) []Output {
	v, w := s.views, s.views.w
	kind := links.ExportCSV
	if format == "json" {
		kind = links.ExportJSON
	}
	s.mu.Lock()
	out := s.outboxes[in.Who.Key.Platform]
	s.mu.Unlock()
	if up, ok := out.(Uploader); ok {
		rows, err := s.ExportRows(ctx, in.Who, o)
		if err != nil {
			return s.fail(ctx, "export", err)
		}
		var b bytes.Buffer
		name := "itfit-clients.csv"
		if kind == links.ExportJSON {
			name = "itfit-clients.json"
			err = portfolio.WriteJSON(&b, rows)
		} else {
			err = portfolio.WriteCSV(&b, rows)
		}
		if err != nil {
			return s.fail(ctx, "export", err)
		}
		f := File{Name: name, Title: w.t("Your itfit clients"), Data: b.Bytes(),
			Comment: txt(w.plural(len(rows), "Your itfit clients: %d client, as of ", "Your itfit clients: %d clients, as of "), s.now(), ".")}
		if err := up.Upload(ctx, in.Who.Key.UserKey, f); err != nil {
			return s.fail(ctx, "export", err)
		}
		return []Output{{Op: Note, Msg: v.note(w.plural(len(rows), "Sent: the export of your %d client is in your direct messages with itfit.",
			"Sent: the export of your %d clients is in your direct messages with itfit."))}}
	}
	return s.link(ctx, in.Who, links.Claims{Kind: kind, Sort: string(o)})
}

// link answers with a download link made for the person.
func (s *Service) link(ctx context.Context, who Who, c links.Claims) []Output {
	v, w := s.views, s.views.w
	if s.links == nil {
		return []Output{{Op: Note, Msg: v.note(w.t("Downloads are not switched on in this deployment, so there is no link to give you."))}}
	}
	c.Platform, c.Workspace = who.Key.Platform, who.Key.Workspace
	for _, m := range ids(who) {
		c.Users = append(c.Users, conversation.UserID(m.Target))
	}
	u, exp, err := s.links.Mint(c)
	if err != nil {
		return s.fail(ctx, "link", err)
	}
	what := w.t("Your export of your clients (CSV)")
	switch c.Kind {
	case links.ExportJSON:
		what = w.t("Your export of your clients (JSON)")
	case links.Report:
		what = w.t("Your recommendation as a PDF")
	}
	return []Output{{Op: Note, Msg: v.noteText(txt(what, ": ", Span{Kind: Link, S: u}, " ",
		w.f("The link works once, for you, for %d minutes (until ", int(links.TTL.Minutes())), exp, w.t(")."))),
	}}
}

// report is the card's Download the recommendation (PDF): a link to the
// person's latest result.
func (s *Service) report(ctx context.Context, in Input) []Output {
	rs, err := s.results(ctx, []conversation.UserKey{in.Who.Key.UserKey}, 1)
	if err != nil {
		return s.fail(ctx, "report", err)
	}
	if len(rs[0]) == 0 {
		return s.fail(ctx, "report", revisit.ErrNoResult)
	}
	return s.link(ctx, in.Who, links.Claims{Kind: links.Report, Result: rs[0][0].CompletedAt.Unix()})
}

// ErrNoReport is a report link whose result is gone: the client forgot,
// or it expired.
var ErrNoReport = errors.New("chat: no such result")

// Report is the recommendation a report link is for, as the view the
// card is built from, for a PDF.
func (s *Service) Report(ctx context.Context, u conversation.UserKey, completed time.Time) (Message, error) {
	h, err := s.engine.History(ctx, u)
	if err != nil {
		return Message{}, err
	}
	for _, r := range h {
		if r.CompletedAt.Equal(completed) {
			return s.views.Report(r), nil
		}
	}
	return Message{}, ErrNoReport
}

// recordResult puts a just-completed result on the desk. The person's
// answer is recorded whatever happens here: a failure is logged.
func (s *Service) recordResult(ctx context.Context, u conversation.UserKey, r *advisor.Recommendation) {
	if s.desk == nil || r == nil {
		return
	}
	if err := s.desk.Record(ctx, u, r.CompletedAt, r.RevisitOn); err != nil {
		s.logger(ctx).Warn("chat: result not put on the desk", "err", err)
	}
}

// recordShare puts a client on the desk of the manager they shared with.
func (s *Service) recordShare(ctx context.Context, k conversation.Key, manager conversation.UserID) {
	if s.desk == nil {
		return
	}
	rs, err := s.results(ctx, []conversation.UserKey{k.UserKey}, 1)
	if err == nil && len(rs[0]) > 0 {
		r := rs[0][0]
		m := revisit.Manager{Platform: k.Platform, Workspace: k.Workspace, Target: string(manager)}
		err = s.desk.Share(ctx, k.UserKey, m, r.CompletedAt, r.Recommendation.RevisitOn)
	}
	if err != nil {
		s.logger(ctx).Warn("chat: share not put on the desk", "err", err)
	}
}
