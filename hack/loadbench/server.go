package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crossplane/function-sdk-go/errors"
)

// server is the function binary running as a child process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	exited  chan struct{}
	waitErr error
	// diesOnSIGTERM: the binary does not catch SIGTERM (function-go-templating), so being killed
	// by it is its clean exit. Ours must drain and exit 0.
	diesOnSIGTERM bool

	mu  sync.Mutex
	log []string // the last lines it logged, for error messages
}

// startServer starts the binary serving insecure gRPC on a loopback port. With addr empty it
// asks for a free port and returns once the binary logs the address it serves at; otherwise it
// serves at addr, and startServer returns once that accepts connections (for binaries that do
// not log their address). Flags go to the binary after --insecure and --address.
func startServer(binary, addr string, timeout time.Duration, flags ...string) (*server, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, errors.Wrap(err, "cannot create a pipe for the server's log")
	}
	listen := addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	cmd := exec.Command(binary, append([]string{"--insecure", "--address", listen}, flags...)...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, errors.Wrapf(err, "cannot start %s", binary)
	}
	_ = w.Close()
	s := &server{cmd: cmd, exited: make(chan struct{})}
	logged := make(chan string, 1)
	go s.readLog(r, logged)
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()

	ready := logged
	if addr != "" {
		ready = make(chan string, 1)
		go waitAccepting(addr, s.exited, ready)
	}
	select {
	case s.addr = <-ready:
		return s, nil
	case <-s.exited:
		return nil, errors.Errorf("%s exited before serving (%v):\n%s", binary, s.waitErr, s.lastLog())
	case <-time.After(timeout):
		_ = s.stop(time.Second)
		return nil, errors.Errorf("%s did not serve within %s:\n%s", binary, timeout, s.lastLog())
	}
}

// waitAccepting sends addr on ready once it accepts TCP connections, unless exited closes first.
func waitAccepting(addr string, exited <-chan struct{}, ready chan<- string) {
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			ready <- addr
			return
		}
		select {
		case <-exited:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeLoopbackAddress returns a loopback address with a port free at the time of the call.
func freeLoopbackAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", errors.Wrap(err, "cannot find a free loopback port")
	}
	defer l.Close() //nolint:errcheck // Only its port was wanted.
	return l.Addr().String(), nil
}

// readLog reads the server's log until it closes, sends the first address it logs on addr,
// and keeps the last lines.
func (s *server) readLog(r io.ReadCloser, addr chan<- string) {
	defer r.Close() //nolint:errcheck // Read only.
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.log = append(s.log, line)
		if len(s.log) > 20 {
			s.log = s.log[1:]
		}
		s.mu.Unlock()
		if a, ok := parseAddress(line); ok && !sent {
			addr <- a
			sent = true
		}
	}
}

func (s *server) lastLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM and waits for the server to drain and exit; after the grace period it
// kills it. It returns an error when the server did not exit cleanly on SIGTERM.
func (s *server) stop(grace time.Duration) error {
	select {
	case <-s.exited:
		return errors.Errorf("the server had already exited (%v):\n%s", s.waitErr, s.lastLog())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return errors.Wrap(err, "cannot send SIGTERM to the server")
	}
	select {
	case <-s.exited:
		if s.diesOnSIGTERM && killedBy(s.waitErr, syscall.SIGTERM) {
			return nil
		}
		return errors.Wrap(s.waitErr, "the server did not exit cleanly on SIGTERM")
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

// parseAddress returns the address a JSON log line names, if it names one.
func parseAddress(line string) (string, bool) {
	l := struct {
		Address string `json:"address"`
	}{}
	if err := json.Unmarshal([]byte(line), &l); err != nil || l.Address == "" {
		return "", false
	}
	return l.Address, true
}
