package slackapp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
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

// maxCached bounds each cache below; an operator replacing the audit leaves
// the old questions' entries behind, so a full cache is simply emptied.
const maxCached = 4096

// renderCache keeps the encoded blocks of the messages every answer sends,
// which differ between users only by the session's revision: encoding Block
// Kit through slack-go's types costs more than the rest of an answer's
// rendering. A question's blocks are encoded once with a sentinel revision
// that is replaced by the real one; they are cached only if rendering with
// a second sentinel shows the sentinel stands for the revision alone.
type renderCache struct {
	mu       sync.Mutex
	question map[questionKey][]byte // nil value: not cacheable
	answered map[answeredKey][]byte
}

// questionKey is what QuestionMessage renders besides the revision.
type questionKey struct {
	q          *advisor.Question
	pos, total int
}

type answeredKey struct {
	q      *advisor.Question
	labels string
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
	return &renderCache{question: map[questionKey][]byte{}, answered: map[answeredKey][]byte{}}
}

// questionBlocks is encodeBlocks(QuestionMessage(r).Blocks).
func (c *renderCache) questionBlocks(r conversation.Reply) ([]byte, error) {
	k := questionKey{q: r.Question, pos: r.Position, total: r.Total}
	c.mu.Lock()
	tmpl, ok := c.question[k]
	c.mu.Unlock()
	if !ok {
		tmpl = questionTemplate(r)
		c.mu.Lock()
		if len(c.question) >= maxCached {
			clear(c.question)
		}
		c.question[k] = tmpl
		c.mu.Unlock()
	}
	if tmpl == nil {
		return encodeBlocks(QuestionMessage(r).Blocks)
	}
	return bytes.ReplaceAll(tmpl, sentinelText, strconv.AppendInt(nil, r.Rev, 10)), nil
}

// questionTemplate is the question's blocks with sentinelRev for the
// revision, or nil when that substitution would not be exact.
func questionTemplate(r conversation.Reply) []byte {
	r.Rev = sentinelRev
	a, err := encodeBlocks(QuestionMessage(r).Blocks)
	if err != nil {
		return nil
	}
	r.Rev = sentinelRev2
	b, err := encodeBlocks(QuestionMessage(r).Blocks)
	if err != nil || bytes.Contains(a, sentinelText2) || !bytes.Equal(bytes.ReplaceAll(a, sentinelText, sentinelText2), b) {
		return nil
	}
	return a
}

// answeredBlocks is encodeBlocks(AnsweredMessage(e).Blocks).
func (c *renderCache) answeredBlocks(e conversation.Echo) ([]byte, error) {
	k := answeredKey{q: e.Question, labels: strings.Join(e.Labels, "\x00")}
	c.mu.Lock()
	b, ok := c.answered[k]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := encodeBlocks(AnsweredMessage(e).Blocks)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.answered) >= maxCached {
		clear(c.answered)
	}
	c.answered[k] = b
	c.mu.Unlock()
	return b, nil
}
