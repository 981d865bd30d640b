package main

import (
	"net"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/crossplane/function-sdk-go/errors"
)

// server is a function binary running as a child process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	log     *tail
	exited  chan struct{}
	waitErr error
}

// startServer starts the binary serving insecure gRPC on a free loopback port, with flags after
// --insecure and --address, and returns once that port accepts connections.
func startServer(binary string, timeout time.Duration, flags ...string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Wrap(err, "cannot find a free loopback port")
	}
	addr := l.Addr().String()
	_ = l.Close()

	s := &server{addr: addr, log: &tail{}, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, append([]string{"--insecure", "--address=" + addr}, flags...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, errors.Wrapf(err, "cannot start %s", binary)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()

	giveUp := time.After(timeout)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, errors.Errorf("%s exited before serving (%v):\n%s", binary, s.waitErr, s.log)
		case <-giveUp:
			_ = s.stop(time.Second)
			return nil, errors.Errorf("%s did not serve at %s within %s:\n%s", binary, addr, timeout, s.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM and waits for the server to exit; after the grace period it kills it. A
// server that exits 0 or is killed by the SIGTERM (function-go-templating does not catch it)
// stopped cleanly.
func (s *server) stop(grace time.Duration) error {
	select {
	case <-s.exited:
		return errors.Errorf("the server had already exited (%v):\n%s", s.waitErr, s.log)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return errors.Wrap(err, "cannot send SIGTERM to the server")
	}
	select {
	case <-s.exited:
		if s.waitErr == nil || killedBy(s.waitErr, syscall.SIGTERM) {
			return nil
		}
		return errors.Wrapf(s.waitErr, "the server did not exit cleanly on SIGTERM:\n%s", s.log)
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.Errorf("the server did not exit within %s of SIGTERM; killed it", grace)
	}
}

// killedBy tells whether a process's Wait error says a signal killed it.
func killedBy(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// tailSize is how much of a server's output tail keeps for error messages.
const tailSize = 4 << 10

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if n := len(t.buf) - tailSize; n > 0 {
		t.buf = append(t.buf[:0], t.buf[n:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
