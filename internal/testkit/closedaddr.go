package testkit

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// ClosedAddr is a loopback host:port that refuses connections for as long
// as the test runs: a TCP socket bound to it that never listens, closed at
// the test's cleanup. Connecting gets a reset at once ("connection
// refused"), and no other test's listener can be given the port meanwhile.
//
// A port found free by listening and closing at once is not that: under
// `go test` many servers start on port 0 in parallel, and the kernel can
// hand the port straight to one of them, so a client meant to meet nothing
// met an HTTP server instead (go-redis: "can't parse map reply: HTTP/1.1
// 400 Bad Request").
func ClosedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("ClosedAddr: socket: %v", err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("ClosedAddr: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("ClosedAddr: getsockname: %v", err)
	}
	in, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("ClosedAddr: bound to %T", sa)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(in.Port))
}
