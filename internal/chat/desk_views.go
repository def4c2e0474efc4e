package chat

import (
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/portfolio"
)

// Desk is a page of an account manager's clients: each with their name
// and workspace, their latest verdict and its strength, when it came, what
// changed since the result before it, when their revisit is due, and
// Invite to retake, Show the card and Snooze the nudge; the two orders,
// the exports, and the pages either side.
func (v *Views) Desk(d DeskPage, who Who) Message {
	w := v.w
	pg := d.Page
	owner := who.Key.User
	m := Message{Kind: KindDesk, Title: w.t("Your clients"), Summary: w.t("Your clients")}
	orderWords := w.t("due soonest first")
	if pg.Order == portfolio.ByChanged {
		orderWords = w.t("most recently changed first")
	}
	switch {
	case pg.Total == 0:
		m.Lead = txt(w.t("No clients yet: clients appear here once they share their itfit result with you, or once they finish the audit in a workspace the operator assigned to you."))
	case len(pg.Entries) == 0:
		m.Lead = txt(w.f("You have %d clients; this page is past the last of them.", pg.Total))
	default:
		m.Lead = txt(w.f("Clients %d–%d of %d, %s.", pg.Before+1, pg.Before+len(pg.Entries), pg.Total, orderWords))
	}
	m.Summary = w.f("Your clients: %d", pg.Total)
	sortBtn := func(o portfolio.Order, label string) Action {
		a := Action{Intent: IntentClients, Label: label, Value: Value{Owner: owner, Sort: string(o)}}
		if pg.Order == o {
			a.Style = StylePrimary
		}
		return a
	}
	controls := Section{Actions: []Action{
		sortBtn(portfolio.ByDue, w.t("Due soonest")),
		sortBtn(portfolio.ByChanged, w.t("Changed recently")),
	}}
	if pg.Total > 0 {
		controls.Actions = append(controls.Actions,
			Action{Intent: IntentExport, Label: w.t("Export CSV"), Value: Value{Owner: owner, Sort: string(pg.Order), Format: "csv"}},
			Action{Intent: IntentExport, Label: w.t("Export JSON"), Value: Value{Owner: owner, Sort: string(pg.Order), Format: "json"}})
	}
	m.Sections = append(m.Sections, controls)
	here := Value{Owner: owner, Sort: string(pg.Order), Page: string(pg.At)}
	for _, c := range d.Clients {
		m.Sections = append(m.Sections, v.deskClient(c, here))
	}
	var nav []Action
	if pg.Prev != "" {
		nav = append(nav, Action{Intent: IntentClients, Label: w.t("← Previous"), Value: Value{Owner: owner, Sort: string(pg.Order), Page: string(pg.Prev)}})
	}
	if pg.Next != "" {
		nav = append(nav, Action{Intent: IntentClients, Label: w.t("Next →"), Style: StylePrimary, Value: Value{Owner: owner, Sort: string(pg.Order), Page: string(pg.Next)}})
	}
	if len(nav) > 0 {
		m.Sections = append(m.Sections, Section{Divider: true, Actions: nav})
	}
	m.Footer = txt(w.t("Invite to retake asks the client to take the audit again now; Snooze the nudge moves your reminder about them a month on. Only clients who shared their result with you, or whose workspace is assigned to you, are listed."))
	return m
}

// deskClient is one client's row on the desk.
func (v *Views) deskClient(c DeskClient, here Value) Section {
	w := v.w
	r := c.Latest.Recommendation
	at := here
	at.Client = c.Entry.Client
	return Section{
		Divider: true,
		Text:    txt(c.Person),
		Facts: []Fact{
			{Label: w.t("Latest result"), Value: txt(strong(r.VerdictName), ", ", w.strength(r.Strength))},
			{Label: w.t("Completed"), Value: txt(c.Latest.CompletedAt)},
			{Label: w.t("Since the previous result"), Value: txt(v.sincePrevious(c))},
			{Label: w.t("Next revisit due"), Value: txt(c.Entry.Due)},
		},
		Actions: []Action{
			{Intent: IntentClientInvite, Label: w.t("Invite to retake"), Style: StylePrimary, Value: at},
			{Intent: IntentClientCard, Label: w.t("Show the card"), Value: at},
			{Intent: IntentClientSnooze, Label: w.t("Snooze the nudge"), Value: at},
		},
	}
}

// sincePrevious says what changed between a client's two latest results.
func (v *Views) sincePrevious(c DeskClient) string {
	w := v.w
	if c.Previous == nil {
		return w.t("First result")
	}
	ch := v.audit.Compare(c.Previous.Answers, c.Previous.CompletedAt, c.Latest.Answers, &c.Latest.Recommendation)
	if ch.VerdictMoved {
		return w.f("The verdict moved: it was %s (%s)", ch.PreviousVerdictName, w.strength(ch.PreviousStrength))
	}
	if len(ch.Answers) == 0 {
		return w.t("Same verdict, same answers")
	}
	return w.plural(len(ch.Answers), "Same verdict; %d answer changed", "Same verdict; %d answers changed")
}

// row is one client of an export: IDs, the names the platform gave, the
// verdict's own IDs beside its name, times in RFC 3339.
func (v *Views) row(c DeskClient, info ClientInfo) portfolio.Row {
	r := c.Latest.Recommendation
	u := c.Entry.Client
	row := portfolio.Row{
		Platform: string(u.Platform), Workspace: string(u.Workspace), WorkspaceName: info.Place,
		User: string(u.User), Name: info.Name,
		Verdict: string(r.Verdict), VerdictName: r.VerdictName, Strength: string(r.Strength),
		CompletedAt: portfolio.Time(c.Latest.CompletedAt), RevisitDue: portfolio.Time(c.Entry.Due),
	}
	if c.Previous != nil {
		ch := v.audit.Compare(c.Previous.Answers, c.Previous.CompletedAt, c.Latest.Answers, &c.Latest.Recommendation)
		row.PreviousVerdict, row.VerdictMoved, row.AnswersChanged = string(ch.PreviousVerdict), ch.VerdictMoved, len(ch.Answers)
	}
	return row
}

// ClientCard is a client's card as their manager opens it from the desk:
// the card, without the buttons (they act on whoever presses them).
func (v *Views) ClientCard(c Client, last conversation.Result) Message {
	w := v.w
	m := v.card(last.Recommendation, nil, "", false)
	m.Kind = KindShared
	m.Notes = append([]Text{txt(c.Person, w.t(": their itfit result of "), last.CompletedAt, w.t(", from your desk."))}, m.Notes...)
	return m
}

// Report is the recommendation as a printed page shows it (the PDF): the
// card's own content, without buttons.
func (v *Views) Report(last conversation.Result) Message {
	m := v.card(last.Recommendation, nil, "", false)
	m.Summary = m.Title
	return m
}

// Reports returns views whose cards offer the PDF (where download links
// are switched on).
func (v *Views) Reports(on bool) *Views {
	c := *v
	c.reports = on
	return &c
}

// withDesk puts a page of the desk under the person's home.
func (v *Views) withDesk(home Message, d DeskPage, who Who, note Text) Message {
	desk := v.Desk(d, who)
	home.Sections = append(home.Sections, Section{Divider: true, Title: desk.Title, Text: desk.Lead})
	home.Sections = append(home.Sections, desk.Sections...)
	if len(note) > 0 {
		home.Notes = append([]Text{note}, home.Notes...)
	}
	return home
}
