// Package check renders the itfit Helm chart with the helm binary named by
// $HELM and checks the result: helm lint --strict, strict decoding of every
// rendered object into its k8s.io/api type, the security and probe policy,
// the values schema, the Secret/existingSecret switch and the NOTES.
//
// It is its own Go module so that k8s.io/api stays out of the application's
// dependencies. Run it with scripts/check-deploy, or:
//
//	cd charts/check && HELM=$(../../scripts/helm) go test ./...
//
// It also runs the bot's own `bot check --config-only` on the environment
// rendered from every ../itfit/ci/*-values.yaml, with the binary named by
// $BOT (scripts/check-deploy passes its static build), else one built from
// ../../cmd/bot.
package check
