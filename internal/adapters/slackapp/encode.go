package slackapp

import (
	"bytes"
	"strconv"
	"sync"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/slackapi"
)

// maxCached bounds the cache below; an operator replacing the audit leaves
// the old questions' entries behind, so a full cache is simply emptied.
const maxCached = 4096

// renderCache keeps the encoded blocks of the messages every answer sends
// (a question, an answered question), which differ between people only by
// the session's revision: encoding Block Kit through slack-go's types costs
// more than the rest of an answer's rendering. A message with a Key is
// encoded once with a sentinel revision that is replaced by the real one;
// it is cached only if rendering with a second sentinel shows that the
// sentinel stands for the revision alone.
type renderCache struct {
	mu      sync.Mutex
	encoded map[string][]byte // nil value: not cacheable
}

const (
	sentinelRev  = 7193046284917305531
	sentinelRev2 = 6028471937264810429
)

var (
	sentinelText  = []byte(strconv.FormatInt(sentinelRev, 10))
	sentinelText2 = []byte(strconv.FormatInt(sentinelRev2, 10))
)

func newRenderCache() *renderCache {
	return &renderCache{encoded: map[string][]byte{}}
}

// blocks is slackapi.EncodeBlocks(Render(m).Blocks).
func (c *renderCache) blocks(m chat.Message) ([]byte, error) {
	c.mu.Lock()
	tmpl, ok := c.encoded[m.Key]
	c.mu.Unlock()
	if !ok {
		tmpl = template(m)
		c.mu.Lock()
		if len(c.encoded) >= maxCached {
			clear(c.encoded)
		}
		c.encoded[m.Key] = tmpl
		c.mu.Unlock()
	}
	if tmpl == nil {
		return slackapi.EncodeBlocks(Render(m).Blocks)
	}
	if !bytes.Contains(tmpl, sentinelText) {
		return tmpl, nil
	}
	return bytes.ReplaceAll(tmpl, sentinelText, strconv.AppendInt(nil, m.Rev, 10)), nil
}

// template is m's blocks with sentinelRev for the revision, or nil when
// that substitution would not be exact.
func template(m chat.Message) []byte {
	m.Rev = sentinelRev
	a, err := slackapi.EncodeBlocks(Render(m).Blocks)
	if err != nil {
		return nil
	}
	m.Rev = sentinelRev2
	b, err := slackapi.EncodeBlocks(Render(m).Blocks)
	if err != nil || bytes.Contains(a, sentinelText2) || !bytes.Equal(bytes.ReplaceAll(a, sentinelText, sentinelText2), b) {
		return nil
	}
	return a
}
