// Package botframework authenticates and talks to the Microsoft Bot Framework
// on behalf of the Teams adapter.
//
// It exists because github.com/infracloudio/msbotbuilder-go (v0.2.5, the only
// version served) is unsound where it matters: its inbound JWT check cannot be
// pointed at another metadata URL, ignores key endorsements, allows no clock
// skew, accepts tokens without the "Bearer" scheme or without "exp", and
// panics on a token without a serviceurl claim or with an array audience; its
// outbound client always asks the multi-tenant token endpoint, uses HTTP
// clients without timeouts, panics when the token endpoint is unreachable and
// races on its token cache. We keep only its Activity schema.
//
// The package has three parts:
//
//   - [Validator] checks the JWT that the Bot Connector service sends with every
//     activity, following Microsoft's "Authenticate requests with the Bot
//     Connector API" rules: Bearer scheme, issuer, audience, RS256 signature by
//     a key from the Bot Framework OpenID metadata, exp/nbf with five minutes of
//     clock skew, the key's endorsement of the activity's channel, and the
//     serviceurl claim bound to the activity's serviceUrl. There is no switch
//     to turn it off.
//   - [TokenSource] obtains the bot's own client-credentials token from
//     Microsoft Entra ID (single-tenant by default when a tenant is configured)
//     and caches it, fetching once however many goroutines ask.
//   - [Connector] calls the Bot Connector REST API (send, reply, update,
//     create conversation) with that token, timeouts, bounded retries and typed
//     errors.
//
// # Trusting serviceUrl
//
// The Connector sends the bot's bearer token to whatever serviceUrl it is
// given. A serviceUrl is only trustworthy once [Validator.Validate] has bound
// it to a valid token (the serviceurl claim), so callers must pass the
// Connector only a serviceUrl taken from an activity that passed validation,
// or from a conversation reference stored after such an activity. Never take
// one from user input, a query parameter or an unvalidated body. As a second
// line of defence the Connector refuses any serviceUrl that is not https.
package botframework
