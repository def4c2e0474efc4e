package slackapp

import (
	"fmt"
	"strings"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/slackapi"
)

// Rules are Slack's own rules for revisits: how ITFIT_ACCOUNT_MANAGERS
// names a manager, and which workspaces an uninstall covers.
func Rules() revisit.Rules {
	return revisit.Rules{Manager: manager, Covers: covers}
}

// manager reads "UMANAGER" or "CCHANNEL" (in the client's workspace), or
// "TPROVIDER/UMANAGER" (a manager in another workspace, the provider's;
// "EPROVIDER:TPROVIDER/…" on Grid).
func manager(client conversation.WorkspaceID, target string) (revisit.Manager, error) {
	m := revisit.Manager{Platform: conversation.Slack, Workspace: client, Target: target}
	if ws, t, ok := strings.Cut(target, "/"); ok {
		m.Workspace, m.Target = conversation.WorkspaceID(ws), t
	}
	if !slackapi.IsID(m.Target) || !slackapi.IsWorkspaceID(string(m.Workspace)) {
		return revisit.Manager{}, fmt.Errorf("%q is not a Slack user or channel ID (U…, W…, C…), optionally after its workspace (T…/U…)", target)
	}
	return m, nil
}

// covers: an Enterprise Grid org-wide install ("E1:", the enterprise
// without a team) served every workspace of the organisation.
func covers(ws conversation.WorkspaceID) string {
	if strings.HasSuffix(string(ws), ":") {
		return revisit.GlobLiteral(string(ws)) + "*"
	}
	return revisit.GlobLiteral(string(ws))
}
