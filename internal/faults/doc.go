// Package faults holds the fault experiments of issue 15 as tests: whole
// `bot serve` processes (the binary built from cmd/bot), killed with
// SIGKILL or stopped with SIGTERM, in front of redis-servers of their own
// (append-only file on, restarted with SIGTERM, slowed or black-holed by a
// TCP proxy), against a fake Slack Web API that can be slow, answer 500
// after it posted, or answer 429 Retry-After: 20, over HTTP/1.1 or HTTP/2.
// Simulated users drive the real endpoints and click again after silence,
// as people do. The package has no code of its own: everything is in its
// tests, which need redis-server on PATH (they fail without it in CI).
package faults
