package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultGOGC is the garbage collector's target when GOGC is not set: the
// heap may grow to 3 times what is live before a collection, instead of
// Go's 2 times. `bot serve` keeps little live and allocates per request;
// collections were about a tenth of its CPU at saturation. Measured with
// scripts/load (100 users in flight, alternating, on a shared machine at
// load average 14-19): over HTTP/2, GOGC 400 took 266-302 us of bot CPU per
// answer against 314-318 us at 100, RSS 68-71 MiB against 44-46; over
// HTTP/1.1 (Teams), 100 / 200 / 400 took 332 / 348 / 331 us, within the
// machine's noise, and 62 / 79 / 118 MiB. 400 would break issue 18's
// 100 MiB over HTTP/1.1, so 200.
const defaultGOGC = 200

// memoryShare is the part of the container's memory limit (cgroup v2
// memory.max) that becomes the Go runtime's soft limit when GOMEMLIMIT is
// not set: close to the limit the collector runs as often as it must,
// whatever GOGC says, rather than let the pod be OOM-killed.
const memoryShare = 0.75

// tuneGC applies defaultGOGC and the memory limit, unless the environment
// sets GOGC or GOMEMLIMIT itself (the runtime has read those already).
// cgroupMax is the path of the cgroup's memory.max.
func tuneGC(log *slog.Logger, getenv func(string) string, cgroupMax string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	b, err := os.ReadFile(cgroupMax)
	if err != nil {
		return // not in a cgroup v2 container: no limit to keep under
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || limit <= 0 {
		return // "max": no limit
	}
	soft := int64(float64(limit) * memoryShare)
	debug.SetMemoryLimit(soft)
	log.Info("go memory limit from the container's", "container_bytes", limit, "gomemlimit_bytes", soft)
}
