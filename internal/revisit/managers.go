package revisit

import (
	"fmt"
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

// Directory maps a client workspace to its account manager.
type Directory map[workspaceRef]Manager

type workspaceRef struct {
	platform  conversation.Platform
	workspace conversation.WorkspaceID
}

// ParseDirectory reads ITFIT_ACCOUNT_MANAGERS: entries separated by commas,
// each "platform:workspace=target" or "platform:workspace=workspace/target"
// when the manager lives in another workspace, for example
//
//	slack:T0CLIENT=U0MANAGER,slack:T0OTHER=T0PROVIDER/C0ACCOUNTS,teams:0d9c…=29:1a2b…
func ParseDirectory(s string) (Directory, error) {
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
		if p != conversation.Slack && p != conversation.Teams {
			return nil, fmt.Errorf("ITFIT_ACCOUNT_MANAGERS entry %q: platform must be slack or teams", entry)
		}
		m := Manager{Platform: p, Workspace: conversation.WorkspaceID(workspace), Target: target}
		// A Teams user ID holds ':' but never '/'; a Slack cross-workspace
		// target is "T…/U…".
		if ws, t, ok := strings.Cut(target, "/"); ok && p == conversation.Slack {
			m.Workspace, m.Target = conversation.WorkspaceID(ws), t
		}
		ref := workspaceRef{p, conversation.WorkspaceID(workspace)}
		if _, dup := d[ref]; dup {
			return nil, fmt.Errorf("ITFIT_ACCOUNT_MANAGERS names %s:%s twice", platform, workspace)
		}
		d[ref] = m
	}
	return d, nil
}

// For returns the manager configured for a client's workspace.
func (d Directory) For(u conversation.UserKey) (Manager, bool) {
	m, ok := d[workspaceRef{u.Platform, u.Workspace}]
	return m, ok
}
