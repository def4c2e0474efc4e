package webhooks

import _ "embed"

// SchemaV1 is the JSON Schema (draft 2020-12) of every payload of version
// 1, the file schema/v1.json; tests validate every body they see against
// it.
//
//go:embed schema/v1.json
var SchemaV1 []byte
