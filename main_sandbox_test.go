package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// onEveryInterface is a loopback listener that reports itself as
// listening on every interface ([::]:port), as one bound to
// SANDBOX_ADDR=[::]:port or 0.0.0.0:port does, without a test listening
// beyond loopback.
type onEveryInterface struct{ net.Listener }

func (l onEveryInterface) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv6unspecified, Port: l.Listener.Addr().(*net.TCPAddr).Port}
}

// TestRunWarnsOfASandboxBeyondLoopback: the app's own sandbox on every
// interface is warned about, as the standalone one is, and the app is
// pointed at an address it can dial, 127.0.0.1, never [::].
func TestRunWarnsOfASandboxBeyondLoopback(t *testing.T) {
	env := map[string]string{}
	app, loopback := bindEnv(t, env)
	sandbox := &listener{Listener: onEveryInterface{loopback.Listener}, closed: make(chan struct{})}
	env["SANDBOX_ADDR"] = sandbox.Addr().String()
	r := startRun(t, env, app, sandbox)
	logs := r.logs.String()
	if !strings.Contains(logs, "beyond loopback") {
		t.Errorf("run() with SANDBOX_ADDR=%s logged no warning:\n%s", env["SANDBOX_ADDR"], logs)
	}
	port := strconv.Itoa(loopback.Addr().(*net.TCPAddr).Port)
	if strings.Contains(logs, "http://[::]") || !strings.Contains(logs, "sandbox=http://127.0.0.1:"+port) {
		t.Errorf("run() with SANDBOX_ADDR=%s advertised the sandbox as:\n%s\nwant http://127.0.0.1:%s", env["SANDBOX_ADDR"], logs, port)
	}
}
