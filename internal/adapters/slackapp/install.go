package slackapp

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/slackauth"
)

// installCheck bounds how long a slash command's immediate reply waits for
// the workspace's installation. The token is usually in memory; a slow
// Redis or a token refresh must not cost the 3-second acknowledgement, so
// past this the command goes ahead and its work reports what went wrong.
const installCheck = time.Second

// commandNotInstalled says whether a slash command comes from a workspace
// itfit has no installation for, so that its immediate reply can say so
// instead of promising a DM that cannot be sent.
func (a *App) commandNotInstalled(ctx context.Context, ws conversation.WorkspaceID) bool {
	ctx, cancel := context.WithTimeout(ctx, installCheck)
	defer cancel()
	return a.notInstalled(ctx, ws)
}

// uninstall handles app_uninstalled and tokens_revoked (bot tokens): the
// workspace's installation and cached tokens go, and so do its users'
// scheduled nudges, their managers' included, since nothing can be
// delivered there any more. For an org-wide Grid install the identity is
// the enterprise alone, and every workspace it served is stopped.
func (a *App) uninstall(ctx context.Context, log *slog.Logger, enterprise, team string, orgWide bool) {
	if orgWide {
		team = ""
	}
	ws := slackapi.Workspace(enterprise, team)
	if enterprise == "" && team == "" {
		log.Warn("slack uninstall event without a workspace ignored")
		return
	}
	if a.installs.store != nil {
		in, err := a.installs.store.Delete(ctx, enterprise, team)
		switch {
		case errors.Is(err, slackauth.ErrNotInstalled):
			log.Info("slack uninstall: no installation left to delete", "workspace", ws)
		case err != nil:
			// Carry on: stopping the nudges does not depend on it, and the
			// tokens no longer work anyway.
			log.Error("slack uninstall: delete the installation", "workspace", ws, "err", err)
		default:
			log.Info("slack installation deleted", "installation", in)
		}
	}
	a.slack.ForgetToken(ws)
	if a.workspaces == nil {
		return
	}
	n, err := a.workspaces.StopWorkspace(ctx, conversation.Slack, ws)
	if err != nil {
		log.Error("slack uninstall: stop the workspace's nudges", "workspace", ws, "stopped", n, "err", err)
		return
	}
	log.Info("slack uninstall: nudges stopped", "workspace", ws, "stopped", n)
}
