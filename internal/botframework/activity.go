package botframework

import (
	"encoding/json"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// InboundActivity is an activity as the Bot Connector posts it to the bot.
// schema.Activity gives the shape; three of its fields are too thin for
// Teams and are shadowed here (the outer field wins in encoding/json):
// mention entities need "mentioned" and "text", channelData carries the
// tenant, and a card submit's value is kept as the JSON it came as, for
// the bot to decode into its own payload.
type InboundActivity struct {
	schema.Activity
	Entities    []Entity         `json:"entities,omitempty"`
	ChannelData TeamsChannelData `json:"channelData"`
	Value       json.RawMessage  `json:"value,omitempty"`
}

// Entity is one of an activity's entities; only a mention's fields are
// read.
type Entity struct {
	Type      string                `json:"type"`
	Mentioned schema.ChannelAccount `json:"mentioned"`
	Text      string                `json:"text"`
}

// TeamsChannelData is the channelData Teams sends with an activity.
type TeamsChannelData struct {
	Tenant struct {
		ID string `json:"id"`
	} `json:"tenant"`
	// Channel and Team are set in a team's channels only.
	Channel *IDOnly `json:"channel"`
	Team    *IDOnly `json:"team"`
	// EventType names a conversationUpdate ("teamMemberAdded",
	// "teamRenamed", ...).
	EventType string `json:"eventType,omitempty"`
}

// IDOnly is a channel or team of TeamsChannelData, by its ID.
type IDOnly struct {
	ID string `json:"id"`
}

// AdaptiveCardInvokeValue is the value of an adaptiveCard/action invoke (a
// card's Action.Execute): the button's data is under action.data, in the
// same shape as an Action.Submit's.
type AdaptiveCardInvokeValue struct {
	Action struct {
		Type string          `json:"type"`
		Verb string          `json:"verb"`
		Data json.RawMessage `json:"data"`
	} `json:"action"`
}
