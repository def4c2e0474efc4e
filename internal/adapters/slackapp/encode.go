package slackapp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/chat"
)

// encodeBlocks is the JSON array of a message's blocks; "[]" for none, as
// slack-go sends it (an update without blocks clears the old ones).
func encodeBlocks(bs []slack.Block) ([]byte, error) {
	if len(bs) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(bs)
}

// chatBody is the JSON body of chat.postMessage (ts empty) and chat.update,
// around blocks already encoded.
func chatBody(channel, ts, text string, blocks []byte) []byte {
	b := make([]byte, 0, len(blocks)+len(text)+len(channel)+len(ts)+48)
	b = append(b, `{"channel":`...)
	b = appendJSONString(b, channel)
	if ts != "" {
		b = append(b, `,"ts":`...)
		b = appendJSONString(b, ts)
	}
	b = append(b, `,"text":`...)
	b = appendJSONString(b, text)
	b = append(b, `,"blocks":`...)
	b = append(b, blocks...)
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, err := json.Marshal(s) // cannot fail for a string
	if err != nil {
		return append(b, `""`...)
	}
	return append(b, q...)
}

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

// blocks is encodeBlocks(Render(m).Blocks).
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
		return encodeBlocks(Render(m).Blocks)
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
	a, err := encodeBlocks(Render(m).Blocks)
	if err != nil {
		return nil
	}
	m.Rev = sentinelRev2
	b, err := encodeBlocks(Render(m).Blocks)
	if err != nil || bytes.Contains(a, sentinelText2) || !bytes.Equal(bytes.ReplaceAll(a, sentinelText, sentinelText2), b) {
		return nil
	}
	return a
}
