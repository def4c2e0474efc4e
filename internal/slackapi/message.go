package slackapi

import (
	"encoding/json"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/wirejson"
)

// Message is what the adapter posts: blocks and the plain fallback text
// Slack shows in notifications and screen readers.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// EncodeBlocks is the JSON array of a message's blocks; "[]" for none, as
// slack-go sends it (an update without blocks clears the old ones).
func EncodeBlocks(bs []slack.Block) ([]byte, error) {
	if len(bs) == 0 {
		return []byte("[]"), nil
	}
	return wirejson.Marshal(bs)
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

// appendJSONString appends s as json.Marshal encodes it: printable ASCII
// with nothing to escape (IDs, most fallback text) is copied, any other
// string goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s) // cannot fail for a string
			if err != nil {
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
