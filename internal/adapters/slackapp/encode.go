package slackapp

import (
	"strconv"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/stencil"
)

// maxCached bounds the encoded blocks kept (stencil.Cache).
const maxCached = 4096

// revSentinels are the revision's sentinels as Block Kit JSON spells them.
var revSentinels = [2][][]byte{{stencil.RevText(0)}, {stencil.RevText(1)}}

// blocks is slackapi.EncodeBlocks(Render(m).Blocks). The messages every
// answer sends (a question, an answered question; those with a Key) differ
// between people only by the session's revision, and encoding Block Kit
// through slack-go's types costs more than the rest of an answer's
// rendering: they are encoded once, with a sentinel for the revision
// (package stencil).
func (a *App) blocks(m chat.Message) ([]byte, error) {
	t := a.render.Get(m.Key, func() *stencil.Template {
		return stencil.Make(func(set int) ([]byte, error) {
			s := m
			s.Rev = stencil.Rev[set]
			return slackapi.EncodeBlocks(Render(s).Blocks)
		}, revSentinels)
	})
	if t == nil {
		return slackapi.EncodeBlocks(Render(m).Blocks)
	}
	return t.Fill(strconv.AppendInt(nil, m.Rev, 10)), nil
}
