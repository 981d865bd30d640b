// Package pgtest starts a real PostgreSQL primary and a streaming standby on loopback for
// tests: Debian's PostgreSQL, initdb and pg_basebackup -R -X stream, run as the postgres user
// (through runuser when the tests run as root, since PostgreSQL refuses root), on free ports,
// with TLS on (a server certificate from a CA made at test time) and password (SCRAM) logins
// over TCP only through TLS. The servers are stopped by their data directories and PIDs when
// the test ends, whether it passed or not.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// Names of what the harness creates.
const (
	// DBName is the application database, owned by AppUser, as RDS creates DB_NAME for its
	// master user.
	DBName = "appdb"
	// AppUser is the user the Lambdas log in as, with a password, over TLS.
	AppUser = "pgdr_app"
	// Superuser is the OS and database user that runs the servers; the harness logs in as it
	// over the Unix socket.
	Superuser = "postgres"

	dirPrefix = "pgdr-pg-"
)

// Node is one PostgreSQL server of a Pair.
type Node struct {
	Name      string
	Host      string
	Port      int
	DataDir   string
	SocketDir string
	LogFile   string

	pair *Pair
}

// Pair is a primary and its streaming standby.
type Pair struct {
	Base    string
	BinDir  string
	Primary *Node
	Standby *Node
	// CAFile is the PEM file of the CA that signed both servers' certificate.
	CAFile   string
	User     string
	Password string
	DB       string

	asRoot bool
}

// BinDir finds PostgreSQL's programs: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin
// (Debian's layout), else the directory of initdb on the PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(a) - versionOf(b) })
	for _, dir := range slices.Backward(dirs) {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(r), nil
		}
	}
	return "", errors.New("cannot find PostgreSQL's initdb: install Debian's postgresql (hack/install-postgres.sh) or set PG_BINDIR")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start starts a primary and a streaming standby and stops them when tb ends. Setup takes
// about three seconds.
func Start(tb testing.TB) *Pair {
	tb.Helper()
	p, err := start(tb.Cleanup)
	if err != nil {
		tb.Fatalf("cannot start PostgreSQL primary and standby: %v", err)
	}
	return p
}

// StartPair starts a primary and a streaming standby that the caller stops with Stop, for
// benchmarks that need a fresh pair per iteration.
func StartPair() (*Pair, error) {
	var stop func()
	p, err := start(func(f func()) { stop = f })
	if err != nil {
		if stop != nil {
			stop()
		}
		return nil, err
	}
	return p, nil
}

// Stop stops both servers and removes their directories.
func (p *Pair) Stop() { p.stop() }

// WaitStreaming waits until the primary has a streaming standby.
func (p *Pair) WaitStreaming(ctx context.Context) error {
	c, err := p.Primary.Admin(ctx, "postgres")
	if err != nil {
		return err
	}
	defer c.Close(context.Background()) //nolint:errcheck // closing a test connection
	for {
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").Scan(&n); err != nil {
			return fmt.Errorf("cannot read pg_stat_replication: %w", err)
		}
		if n == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the standby did not start streaming: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var reapOnce sync.Once

var traceT0 = time.Now()

func trace(s string) {
	if os.Getenv("PGTEST_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "pgtest: %v %s\n", time.Since(traceT0), s)
	}
}

func start(cleanup func(func())) (*Pair, error) {
	reapOnce.Do(reapOrphans)
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	p := &Pair{BinDir: bin, User: AppUser, DB: DBName, Password: randomPassword(), asRoot: os.Geteuid() == 0}
	base, err := os.MkdirTemp(scratchDir(), dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("cannot make a base directory: %w", err)
	}
	p.Base = base
	// Registered before any server starts, so a failure anywhere below still stops them.
	cleanup(p.stop)
	if err := os.WriteFile(filepath.Join(base, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write owner.pid: %w", err)
	}
	sock := filepath.Join(base, "sock")
	if err := os.MkdirAll(sock, 0o700); err != nil {
		return nil, fmt.Errorf("cannot make the socket directory: %w", err)
	}
	p.Primary = &Node{Name: "primary", Host: "127.0.0.1", DataDir: filepath.Join(base, "primary"), SocketDir: sock, LogFile: filepath.Join(base, "primary.log"), pair: p}
	p.Standby = &Node{Name: "standby", Host: "127.0.0.1", DataDir: filepath.Join(base, "standby"), SocketDir: sock, LogFile: filepath.Join(base, "standby.log"), pair: p}
	if err := p.writeTLS(); err != nil {
		return nil, err
	}
	if err := p.chownBase(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trace("tls+chown")
	if err := p.initPrimary(ctx); err != nil {
		return nil, err
	}
	if err := p.startNode(ctx, p.Primary); err != nil {
		return nil, err
	}
	trace("started primary")
	if err := p.createAppDB(ctx); err != nil {
		return nil, err
	}
	trace("created db")
	if err := p.cloneStandby(ctx); err != nil {
		return nil, err
	}
	if err := p.startNode(ctx, p.Standby); err != nil {
		return nil, err
	}
	trace("started standby")
	if err := p.WaitStreaming(ctx); err != nil {
		return nil, err
	}
	trace("streaming")
	if err := p.enableFsync(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "pw-" + hex.EncodeToString(b)
}

func (p *Pair) writeTLS() error {
	ca, err := NewCA("pgdr test CA")
	if err != nil {
		return err
	}
	cert, key, err := ca.ServerCert([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, []string{"localhost"})
	if err != nil {
		return err
	}
	dir := filepath.Join(p.Base, "tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot make the TLS directory: %w", err)
	}
	p.CAFile = filepath.Join(dir, "ca.pem")
	for name, f := range map[string]struct {
		b    []byte
		mode os.FileMode
	}{"ca.pem": {ca.PEM, 0o644}, "server.crt": {cert, 0o644}, "server.key": {key, 0o600}} {
		if err := os.WriteFile(filepath.Join(dir, name), f.b, f.mode); err != nil {
			return fmt.Errorf("cannot write %s: %w", name, err)
		}
	}
	return nil
}

// chownBase gives the base directory to the postgres user when the tests run as root.
func (p *Pair) chownBase() error {
	if !p.asRoot {
		return nil
	}
	u, err := user.Lookup(Superuser)
	if err != nil {
		return fmt.Errorf("cannot find the %s OS user (hack/install-postgres.sh creates it): %w", Superuser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(p.Base, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid) //nolint:gosec // G122: our own 0700 directory, and Lchown does not follow a final symlink.
	})
}

// run runs one of PostgreSQL's programs, as the postgres user when the tests run as root.
func (p *Pair) run(ctx context.Context, prog string, args ...string) error {
	t0 := time.Now()
	defer func() {
		if os.Getenv("PGTEST_TRACE") != "" {
			fmt.Fprintf(os.Stderr, "pgtest: %s %v\n", prog, time.Since(t0))
		}
	}()
	argv := append([]string{filepath.Join(p.BinDir, prog)}, args...)
	if p.asRoot {
		argv = append([]string{"runuser", "-u", Superuser, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.Base
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// initPrimary makes the primary's data directory from the initdb template and configures it.
// The servers start with fsync off, which makes the checkpoint of pg_basebackup and the
// standby's first start fast; enableFsync turns it on before the tests begin.
func (p *Pair) initPrimary(ctx context.Context) error {
	n := p.Primary
	tmpl, err := p.template(ctx)
	if err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", tmpl, n.DataDir).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot copy the initdb template: %w: %s", err, out)
	}
	tls := filepath.Join(p.Base, "tls")
	conf := strings.Join([]string{
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("unix_socket_directories = '%s'", n.SocketDir),
		"wal_level = replica",
		"max_wal_senders = 5",
		"wal_keep_size = 256MB",
		"hot_standby = on",
		"wal_retrieve_retry_interval = 200ms",
		"synchronous_commit = on",
		"logging_collector = off",
		"ssl = on",
		fmt.Sprintf("ssl_cert_file = '%s'", filepath.Join(tls, "server.crt")),
		fmt.Sprintf("ssl_key_file = '%s'", filepath.Join(tls, "server.key")),
		"password_encryption = 'scram-sha-256'",
		"max_connections = 50",
		"shared_buffers = 32MB",
		// Dynamic shared memory in the data directory, so it goes with it even after SIGKILL.
		"dynamic_shared_memory_type = mmap",
		"fsync = off",
	}, "\n") + "\n"
	if err := appendFile(filepath.Join(n.DataDir, "postgresql.conf"), conf); err != nil {
		return err
	}
	// The harness logs in over the socket; replication is trusted on loopback; everyone else
	// logs in with a password, over TLS only.
	hba := strings.Join([]string{
		"local all all trust", //nolint:dupword // pg_hba.conf's columns: all databases, all users.
		"host replication " + Superuser + " 127.0.0.1/32 trust",
		"hostssl all all 127.0.0.1/32 scram-sha-256", //nolint:dupword // pg_hba.conf's columns: all databases, all users.
	}, "\n") + "\n"
	return os.WriteFile(filepath.Join(n.DataDir, "pg_hba.conf"), []byte(hba), 0o600)
}

// template returns a data directory made by initdb, made once per PostgreSQL version and
// machine (initdb takes seconds here; a copy takes a fraction of one).
func (p *Pair) template(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(p.BinDir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("cannot run postgres --version: %w", err)
	}
	sum := sha256.Sum256(append(out, []byte(p.BinDir+"|"+initdbArgs)...))
	dir := filepath.Join(scratchDir(), fmt.Sprintf("pgdr-pgtemplate-%x", sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return dir, nil
	}
	work := filepath.Join(p.Base, "template")
	if err := p.run(ctx, "initdb", append([]string{"-D", work}, strings.Fields(initdbArgs)...)...); err != nil {
		return "", err
	}
	// Rename is atomic: a concurrent test process either finds the template whole or makes
	// its own, and the loser's copy is discarded.
	if err := os.Rename(work, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "PG_VERSION")); serr != nil {
			return "", fmt.Errorf("cannot keep the initdb template: %w", err)
		}
		_ = os.RemoveAll(work)
	}
	return dir, nil
}

const initdbArgs = "-U " + Superuser + " --auth=trust -E UTF8 --no-locale --no-sync"

// enableFsync turns fsync on in both servers, so that a commit is acknowledged only after its
// WAL is on disk, as on RDS.
func (p *Pair) enableFsync(ctx context.Context) error {
	for _, n := range []*Node{p.Primary, p.Standby} {
		if err := appendFile(filepath.Join(n.DataDir, "postgresql.conf"), "fsync = on\n"); err != nil {
			return err
		}
		if err := p.run(ctx, "pg_ctl", "-D", n.DataDir, "reload"); err != nil {
			return err
		}
	}
	return p.waitSetting(ctx, "fsync", "on")
}

func (p *Pair) waitSetting(ctx context.Context, name, want string) error {
	for _, n := range []*Node{p.Primary, p.Standby} {
		c, err := n.Admin(ctx, "postgres")
		if err != nil {
			return err
		}
		for {
			var got string
			if err := c.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil {
				_ = c.Close(ctx)
				return fmt.Errorf("cannot read %s on the %s: %w", name, n.Name, err)
			}
			if got == want {
				break
			}
			select {
			case <-ctx.Done():
				_ = c.Close(ctx)
				return fmt.Errorf("%s is %s on the %s, want %s: %w", name, got, n.Name, want, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
		_ = c.Close(ctx)
	}
	return nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", path, err)
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return f.Close()
}

// startNode starts a server on a free port, trying another port if one was taken meanwhile.
func (p *Pair) startNode(ctx context.Context, n *Node) error {
	var err error
	for range 3 {
		var port int
		if port, err = FreePort(); err != nil {
			return err
		}
		n.Port = port
		if err = appendFile(filepath.Join(n.DataDir, "postgresql.conf"), fmt.Sprintf("port = %d\n", port)); err != nil {
			return err
		}
		if err = p.run(ctx, "pg_ctl", "-D", n.DataDir, "-l", n.LogFile, "-w", "-t", "60", "start"); err == nil {
			return nil
		}
	}
	log, _ := os.ReadFile(n.LogFile)
	return fmt.Errorf("cannot start the %s: %w\n%s", n.Name, err, tail(string(log), 2000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// scratchDir is where the servers' directories go: $PGTEST_DIR, else /dev/shm (tmpfs; creating
// files on this machine's disk is slow enough to triple the setup time), else the temp dir.
func scratchDir() string {
	if d := os.Getenv("PGTEST_DIR"); d != "" {
		return d
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() && unix.Access("/dev/shm", unix.W_OK) == nil {
		return "/dev/shm"
	}
	return os.TempDir()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close() //nolint:errcheck // only the port number is used
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (p *Pair) createAppDB(ctx context.Context) error {
	c, err := p.Primary.Admin(ctx, "postgres")
	if err != nil {
		return err
	}
	defer c.Close(context.Background()) //nolint:errcheck // closing a test connection
	for _, q := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", AppUser, p.Password),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", DBName, AppUser),
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("cannot create the application database: %w", err)
		}
	}
	return nil
}

func (p *Pair) cloneStandby(ctx context.Context) error {
	s := p.Standby
	return p.run(ctx, "pg_basebackup", "-h", p.Primary.Host, "-p", strconv.Itoa(p.Primary.Port), "-U", Superuser,
		"-D", s.DataDir, "-R", "-X", "stream", "-c", "fast", "--no-sync")
}

// Admin connects to a database of the node as the superuser, over the Unix socket.
func (n *Node) Admin(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable connect_timeout=5", n.SocketDir, n.Port, Superuser, db))
	if err != nil {
		return nil, fmt.Errorf("cannot parse the admin configuration: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the %s as %s: %w", n.Name, Superuser, err)
	}
	return c, nil
}

// App returns the configuration with which the application user connects to the node over
// TCP with TLS verify-full against the test CA.
func (n *Node) App() *pgx.ConnConfig {
	p := n.pair
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=verify-full sslrootcert=%s connect_timeout=5",
		n.Host, n.Port, p.User, p.DB, p.CAFile))
	if err != nil {
		panic(fmt.Sprintf("cannot parse the application configuration: %v", err))
	}
	cfg.Password = p.Password
	return cfg
}

// Exec runs statements on the application database as the superuser.
func (n *Node) Exec(ctx context.Context, sql string, args ...any) error {
	c, err := n.Admin(ctx, DBName)
	if err != nil {
		return err
	}
	defer c.Close(context.Background()) //nolint:errcheck // closing a test connection
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("cannot run %q on the %s: %w", sql, n.Name, err)
	}
	return nil
}

// QueryFloat runs a query that returns one number, on the application database as superuser.
func (n *Node) QueryFloat(ctx context.Context, sql string, args ...any) (float64, error) {
	c, err := n.Admin(ctx, DBName)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background()) //nolint:errcheck // closing a test connection
	var f *float64
	if err := c.QueryRow(ctx, sql, args...).Scan(&f); err != nil {
		return 0, fmt.Errorf("cannot run %q on the %s: %w", sql, n.Name, err)
	}
	if f == nil {
		return 0, fmt.Errorf("%q on the %s returned NULL", sql, n.Name)
	}
	return *f, nil
}

// InRecovery reports pg_is_in_recovery().
func (n *Node) InRecovery(ctx context.Context) (bool, error) {
	c, err := n.Admin(ctx, "postgres")
	if err != nil {
		return false, err
	}
	defer c.Close(context.Background()) //nolint:errcheck // closing a test connection
	var r bool
	if err := c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r); err != nil {
		return false, fmt.Errorf("cannot read pg_is_in_recovery() on the %s: %w", n.Name, err)
	}
	return r, nil
}

// Promote runs pg_promote(true, 60) and returns when the server has left recovery.
func (n *Node) Promote(ctx context.Context) error {
	c, err := n.Admin(ctx, "postgres")
	if err != nil {
		return err
	}
	defer c.Close(context.Background()) //nolint:errcheck // closing a test connection
	var ok bool
	if err := c.QueryRow(ctx, "SELECT pg_promote(true, 60)").Scan(&ok); err != nil {
		return fmt.Errorf("cannot promote the %s: %w", n.Name, err)
	}
	if !ok {
		return fmt.Errorf("the %s did not finish promoting within 60s", n.Name)
	}
	return nil
}

// PauseReplay runs pg_wal_replay_pause() on the node, which must be the standby. WAL is still
// received; it is not applied.
func (n *Node) PauseReplay(ctx context.Context) error {
	return n.Exec(ctx, "SELECT pg_wal_replay_pause()")
}

// ResumeReplay runs pg_wal_replay_resume().
func (n *Node) ResumeReplay(ctx context.Context) error {
	return n.Exec(ctx, "SELECT pg_wal_replay_resume()")
}

// PID returns the postmaster's PID from postmaster.pid.
func (n *Node) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(n.DataDir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("cannot read the %s's postmaster.pid: %w", n.Name, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("cannot parse the %s's postmaster.pid: %w", n.Name, err)
	}
	return pid, nil
}

// Kill sends SIGKILL to the postmaster and all its processes at once, as a crash of the host
// would, and waits until they are gone.
func (n *Node) Kill() error {
	pid, err := n.PID()
	if err != nil {
		return err
	}
	procs := append([]int{pid}, children(pid)...)
	for _, p := range procs {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range procs {
		for alive(p) {
			if time.Now().After(deadline) {
				return fmt.Errorf("process %d of the %s survived SIGKILL", p, n.Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// Stop stops the node with pg_ctl -m immediate.
func (n *Node) Stop(ctx context.Context) error {
	return n.pair.run(ctx, "pg_ctl", "-D", n.DataDir, "-m", "immediate", "-w", "stop")
}

// removeSysVSegment removes the server's System V shared memory segment, which outlives a
// server stopped with SIGKILL or -m immediate. Its ID is on line 7 of postmaster.pid.
func (n *Node) removeSysVSegment() {
	b, err := os.ReadFile(filepath.Join(n.DataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 7 {
		return
	}
	f := strings.Fields(lines[6])
	if len(f) != 2 {
		return
	}
	key, err1 := strconv.ParseInt(f[0], 10, 64)
	id, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return
	}
	var ds unix.SysvShmDesc
	// Only a segment with our key and nobody attached.
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err == nil && int64(ds.Perm.Key) == key && ds.Nattch == 0 {
		_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	}
}

// children returns the PIDs whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _ := procStat(c); ppid == pid {
			out = append(out, c)
		}
	}
	return out
}

// procStat returns a process's parent PID and state from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state byte) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0][0]
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	_, st := procStat(pid)
	return st != 0 && st != 'Z' && st != 'X'
}

// stop stops both servers by their data directories, kills what is left by PID, and removes
// the base directory.
func (p *Pair) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []*Node{p.Standby, p.Primary} {
		if n == nil {
			continue
		}
		pid, err := n.PID()
		if err != nil {
			continue
		}
		if alive(pid) {
			if err := n.Stop(ctx); err != nil {
				_ = n.Kill()
			}
		}
		n.removeSysVSegment()
	}
	_ = os.RemoveAll(p.Base)
}

// reapOrphans stops the servers of earlier test processes that died before their cleanup ran
// (for example on a test timeout) and removes their directories.
func reapOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(scratchDir(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(owner) {
			continue
		}
		bin, err := BinDir()
		if err != nil {
			return
		}
		p := &Pair{Base: d, BinDir: bin, asRoot: os.Geteuid() == 0}
		p.Primary = &Node{Name: "primary", DataDir: filepath.Join(d, "primary"), pair: p}
		p.Standby = &Node{Name: "standby", DataDir: filepath.Join(d, "standby"), pair: p}
		p.stop()
	}
}
