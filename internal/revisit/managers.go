package revisit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/itfit/itfit/internal/conversation"
)

// Manager is where an account manager is reached: a user (or, in Slack, a
// channel) on a platform, possibly in another workspace than the client's
// (the provider's own Slack workspace).
type Manager struct {
	Platform  conversation.Platform
	Workspace conversation.WorkspaceID
	Target    string // a user ID, or a Slack channel ID
}

// Rules are what revisit cannot know about a platform's IDs. Each adapter
// registers its own (slackapp.Rules, teams.Rules); revisit applies them
// without knowing which platform it is.
type Rules struct {
	// Manager reads what follows "=" in an ITFIT_ACCOUNT_MANAGERS entry
	// for a client workspace: where that client's manager is. Nil: in the
	// client's own workspace, as written.
	Manager func(client conversation.WorkspaceID, target string) (Manager, error)
	// Covers is the glob (SCAN MATCH syntax, already escaped) of every
	// workspace ID that an uninstall of ws concerns (Slack: an org-wide
	// Grid install covers all of its workspaces). Nil: ws alone.
	Covers func(ws conversation.WorkspaceID) string
}

// Platforms are the rules of every platform itfit serves.
type Platforms map[conversation.Platform]Rules

// Directory maps a client workspace to its account manager.
type Directory map[workspaceRef]Manager

type workspaceRef struct {
	platform  conversation.Platform
	workspace conversation.WorkspaceID
}

// ParseDirectory reads ITFIT_ACCOUNT_MANAGERS: entries separated by commas,
// each "platform:workspace=manager", where each platform's Rules read the
// manager part, for example
//
//	slack:T0CLIENT=U0MANAGER,slack:T0OTHER=T0PROVIDER/C0ACCOUNTS,teams:0d9c…=29:1a2b…
func ParseDirectory(s string, ps Platforms) (Directory, error) {
	d := Directory{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		client, target, ok := strings.Cut(entry, "=")
		platform, workspace, ok2 := strings.Cut(client, ":")
		if !ok || !ok2 || workspace == "" || target == "" {
			return nil, fmt.Errorf("ITFIT_ACCOUNT_MANAGERS entry %q: want platform:workspace=manager", entry)
		}
		p := conversation.Platform(platform)
		rules, known := ps[p]
		if !known {
			return nil, fmt.Errorf("ITFIT_ACCOUNT_MANAGERS entry %q: platform must be one of %s", entry, ps.names())
		}
		m := Manager{Platform: p, Workspace: conversation.WorkspaceID(workspace), Target: target}
		if rules.Manager != nil {
			var err error
			if m, err = rules.Manager(conversation.WorkspaceID(workspace), target); err != nil {
				return nil, fmt.Errorf("ITFIT_ACCOUNT_MANAGERS entry %q: %w", entry, err)
			}
			m.Platform = p
		}
		ref := workspaceRef{p, conversation.WorkspaceID(workspace)}
		if _, dup := d[ref]; dup {
			return nil, fmt.Errorf("ITFIT_ACCOUNT_MANAGERS names %s:%s twice", platform, workspace)
		}
		d[ref] = m
	}
	return d, nil
}

func (ps Platforms) names() string {
	var names []string
	for p := range ps {
		names = append(names, string(p))
	}
	if len(names) == 0 {
		return "(none configured)"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// For returns the manager configured for a client's workspace.
func (d Directory) For(u conversation.UserKey) (Manager, bool) {
	m, ok := d[workspaceRef{u.Platform, u.Workspace}]
	return m, ok
}

// Workspace is a client workspace on a platform.
type Workspace struct {
	Platform  conversation.Platform
	Workspace conversation.WorkspaceID
}

// AssignedTo returns the client workspaces whose manager is m, sorted: the
// clients an operator gave that manager (the account managers' desk shows
// them).
func (d Directory) AssignedTo(m Manager) []Workspace {
	var out []Workspace
	for ref, got := range d {
		if got == m {
			out = append(out, Workspace{Platform: ref.platform, Workspace: ref.workspace})
		}
	}
	slices.SortFunc(out, func(a, b Workspace) int {
		return strings.Compare(string(a.Platform)+"\x00"+string(a.Workspace), string(b.Platform)+"\x00"+string(b.Workspace))
	})
	return out
}
