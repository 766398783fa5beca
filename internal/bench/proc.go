package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server the bench started, in a process of its own so its
// CPU time and memory are its own.
type process struct {
	name string
	cmd  *exec.Cmd
	url  string
}

// start runs a server and waits until it answers at url; when url is "",
// the server prints its URL on the first line of stdout. Everything else
// it writes goes to logPath.
func start(ctx context.Context, name, logPath, url string, env []string, bin string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var firstLine chan string
	if url == "" {
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		firstLine = make(chan string, 1)
		go func() {
			reader := bufio.NewReader(stdout)
			line, _ := reader.ReadString('\n')
			firstLine <- strings.TrimSpace(line)
			io.Copy(logFile, reader)
		}()
	} else {
		cmd.Stdout = logFile
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, url: url}
	if firstLine != nil {
		select {
		case p.url = <-firstLine:
		case <-time.After(30 * time.Second):
			p.stop()
			return nil, fmt.Errorf("%s printed no URL within 30s (log: %s)", name, logPath)
		}
	}
	if err := waitUp(p.url, 30*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w (log: %s)", name, err, logPath)
	}
	return p, nil
}

// waitUp polls url until it answers at all.
func waitUp(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %v: %w", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the process with SIGTERM and waits for it.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
}

// cpu is the CPU time, user and system, the process has used so far.
func (p *process) cpu() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces; fields count from
	// after it. utime and stime are fields 14 and 15 of the whole line.
	_, rest, ok := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", p.cmd.Process.Pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	// Linux reports in USER_HZ, which is 100 on every architecture Go
	// supports.
	return time.Duration(ticks) * (time.Second / 100), nil
}

// memory returns the process's resident set now and at its peak.
func (p *process) memory() (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(data)) {
		name, value, _ := strings.Cut(line, ":")
		kb, convErr := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			rss, err = kb<<10, convErr
		case "VmHWM":
			peak, err = kb<<10, convErr
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return rss, peak, nil
}

// freeAddr returns a loopback address with a free port. The port is free
// now, not reserved: good enough for a bench, which fails loudly if another
// program takes it first.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
