package chat

import (
	"context"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

// Outbox is how a platform reaches people who did not just write to the
// bot: the user's private chat with it, an account manager (a person, or a
// channel where the platform has them). It sends; it never words.
type Outbox interface {
	// ToUser sends the message build makes to the person. build is told
	// how the message will be seen: a shared conversation (when the
	// platform has no private chat with them) shows whose it is.
	ToUser(ctx context.Context, to conversation.Key, build func(Who) Message) error
	// ToManager sends a message about a client to their account manager
	// (the client's own conversation is what a platform without a chat with
	// the manager yet opens one through).
	ToManager(ctx context.Context, m revisit.Manager, client conversation.Key, msg Message) error
	// Client says how manager m's platform can show the client.
	Client(ctx context.Context, m revisit.Manager, client conversation.UserKey) ClientInfo
}

// ClientInfo is what a platform knows of a client, for their manager.
type ClientInfo struct {
	// Mention is set where the platform can show the client as a
	// mention that resolves for the manager (Slack, same workspace).
	Mention bool
	// Name and Place are the client's name and their workspace's name,
	// each "" when unknown.
	Name, Place string
}

// Notifier delivers revisit nudges and shared results through one
// platform's Outbox: it is what revisit.Service.Register takes.
type Notifier struct {
	s   *Service
	out Outbox
}

var _ revisit.Notifier = (*Notifier)(nil)

// Notifier returns the notifier for a platform's outbox, for
// revisit.Service.Register. The service keeps the outbox too, to name
// clients in what it tells their managers.
func (s *Service) Notifier(p conversation.Platform, out Outbox) *Notifier {
	s.mu.Lock()
	s.outboxes[p] = out
	s.mu.Unlock()
	return &Notifier{s: s, out: out}
}

// client names a client to manager m (who), where the platform can.
func (s *Service) client(ctx context.Context, who Who, m revisit.Manager, client conversation.UserKey, words string) Span {
	s.mu.Lock()
	out := s.outboxes[m.Platform]
	s.mu.Unlock()
	if out == nil {
		return Span{Kind: Person, ID: string(client.User), Mention: true, S: words}
	}
	v := s.in(who)
	p := v.person(out.Client(ctx, m, client), client)
	if !p.Mention && p.S == v.w.t("a client") {
		p.S = words
	}
	return p
}

// NudgeUser reminds a user of their last result, in their language.
func (n *Notifier) NudgeUser(ctx context.Context, to conversation.Key, last conversation.Result, why revisit.Reason) error {
	l, _ := n.s.languageOf(ctx, to.UserKey)
	v := n.s.ViewsIn(l)
	return n.out.ToUser(ctx, to, func(who Who) Message {
		m := v.Nudge(last, why, who)
		m.Lang = v.w.lang
		return m
	})
}

// NudgeManager tells the manager a client's revisit is due, in the
// manager's language (see managerViews).
func (n *Notifier) NudgeManager(ctx context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	v := n.managerViews(ctx, m, client.UserKey)
	c := n.client(ctx, v, m, client)
	msg := v.ManagerNudge(c, conversation.UserID(m.Target), last)
	msg.Lang = v.w.lang
	return n.out.ToManager(ctx, m, client, msg)
}

// ShareResult sends the manager a client's card now, in the manager's
// language.
func (n *Notifier) ShareResult(ctx context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	v := n.managerViews(ctx, m, client.UserKey)
	return n.out.ToManager(ctx, m, client, v.Shared(n.client(ctx, v, m, client), last))
}

// managerViews words what goes to an account manager: in the manager's
// own language when itfit knows it (they chose one, or their platform said
// when they used itfit themselves), else in the client's (a manager
// usually works in their clients' language), else in English. A manager
// that is a channel has no language of its own: the client's.
func (n *Notifier) managerViews(ctx context.Context, m revisit.Manager, client conversation.UserKey) *Views {
	mgr := conversation.UserKey{Platform: m.Platform, Workspace: m.Workspace, User: conversation.UserID(m.Target)}
	if l, ok := n.s.languageOf(ctx, mgr); ok {
		return n.s.ViewsIn(l)
	}
	l, _ := n.s.languageOf(ctx, client)
	return n.s.ViewsIn(l)
}

func (n *Notifier) client(ctx context.Context, v *Views, m revisit.Manager, client conversation.Key) Client {
	info := n.out.Client(ctx, m, client.UserKey)
	return Client{Key: client, Person: v.person(info, client.UserKey)}
}

// person names a client for their manager: a mention where it resolves,
// else their name and workspace, else what is known.
func (v *Views) person(info ClientInfo, u conversation.UserKey) Span {
	w := v.w
	p := Span{Kind: Person, ID: string(u.User), Mention: info.Mention, S: info.Name, Place: info.Place}
	if info.Mention {
		return p
	}
	if p.S == "" {
		p.S = w.t("a client")
		if u.Platform == conversation.Slack {
			p.S = w.f("a client (Slack user %s)", u.User)
		}
	}
	if p.Place == "" && u.Platform == conversation.Slack {
		p.Place = w.f("workspace %s", u.Workspace)
	}
	return p
}
