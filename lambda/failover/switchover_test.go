package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// The switchover tests run on a real primary and streaming standby (internal/pgtest) with the
// roles of an RDS instance, as far as a local server has them:
//
//   - masterUser is the Lambda's user, standing for the RDS master user: not a superuser (on RDS
//     "CREATE ROLE postgres WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE …"), with what
//     rds_superuser gives it: it sees every session in pg_stat_activity and can end any
//     session but a superuser's, "rds_superuser can stop any connections by using
//     pg_terminate_backend" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html),
//     "You're an rds_superuser or a member of the default role pg_signal_backend", and ending an
//     rdsadmin (superuser) session fails with "must be a superuser to terminate superuser
//     process" (https://repost.aws/knowledge-center/rds-cancel-long-running-queries). Here:
//     member of pg_signal_backend and pg_read_all_stats (PostgreSQL: "Only superusers can
//     signal superuser backends"; other roles' activity is shown to roles with the privileges of
//     pg_read_all_stats, https://www.postgresql.org/docs/15/functions-admin.html,
//     https://www.postgresql.org/docs/15/monitoring-stats.html), of the application database's
//     owner, and owner of the postgres database, so that ALTER DATABASE … SET works on each
//     ("Only the database owner or a superuser can change the session defaults for a
//     database", https://www.postgresql.org/docs/15/sql-alterdatabase.html).
//   - writerUser is the application: a plain role that writes rows.
//   - The harness's own sessions are the postgres superuser's (standing for rdsadmin), which the
//     fence must leave alone, as rds_superuser cannot end them.
const (
	masterUser = "pgdr_master"
	writerUser = "pgdr_writer"
	otherUser  = "pgdr_other"
)

// newSwitchoverFixture is a fixture whose secret is the master user's, with the application's
// table sw that writerUser writes to.
func newSwitchoverFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, true)
	ctx := t.Context()
	pw := f.pair.Password
	for _, q := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' CREATEDB CREATEROLE IN ROLE pg_signal_backend, pg_read_all_stats, %s", masterUser, pw, pgtest.AppUser),
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", writerUser, pw),
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", otherUser, pw),
		"ALTER DATABASE postgres OWNER TO " + masterUser,
		"CREATE TABLE sw (id bigint PRIMARY KEY, writer int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
		"GRANT SELECT, INSERT ON sw TO " + writerUser,
	} {
		if err := f.pair.Primary.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	f.env[contract.EnvDBSecretARN] = f.aws.AddSecret("rds!db-orders-master", fmt.Sprintf(`{"username":%q,"password":%q}`, masterUser, pw))
	waitReplayed(t, f)
	return f
}

// waitReplayed waits until the standby has replayed the primary's WAL as of now.
func waitReplayed(t *testing.T, f *fixture) {
	t.Helper()
	ctx := t.Context()
	c, err := f.pair.Primary.Admin(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var target string
	if err := c.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&target); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		behind, err := f.pair.Standby.QueryFloat(ctx, "SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::float8", target)
		if err == nil && behind <= 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not replay up to %s: %v behind, %v", target, behind, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) asUser(n *pgtest.Node, user string) *pgx.ConnConfig {
	cfg := n.App()
	cfg.User, cfg.Password = user, f.pair.Password
	cfg.ConnectTimeout = 2 * time.Second
	return cfg
}

// writers insert rows with unique IDs from several connections, as an application does: each
// writer connects to the address the PRIMARY record names (the primary, then the promoted
// standby once the record points at it, as DNS does for real clients), and on any error (a
// terminated session, a read-only transaction, a refused connection) reconnects and goes on.
// A row is acknowledged when its INSERT's commit returned OK.
type writers struct {
	f    *fixture
	next atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	acked   map[int64]string // ID → node it was acknowledged by
	acks    []ack
	lastAck time.Time
	maxGap  time.Duration
	errs    map[string]int // SQLSTATE (or "connect") → count
}

func startWriters(t *testing.T, f *fixture, n int) *writers {
	t.Helper()
	w := &writers{f: f, stop: make(chan struct{}), acked: map[int64]string{}, errs: map[string]int{}}
	for i := range n {
		w.wg.Go(func() { w.write(i) })
	}
	t.Cleanup(w.halt)
	return w
}

// current is the node the PRIMARY record names.
func (w *writers) current() *pgtest.Node {
	if rec, ok := w.f.aws.Record(zoneID, recordName, "CNAME", setID); ok && slices.Equal(rec.Values, []string{drEndpoint}) {
		return w.f.pair.Standby
	}
	return w.f.pair.Primary
}

func (w *writers) fail(kind string) {
	w.mu.Lock()
	w.errs[kind]++
	w.mu.Unlock()
}

func (w *writers) write(writer int) {
	var conn *pgx.Conn
	var node *pgtest.Node
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		if conn == nil {
			node = w.current()
			c, err := pgx.ConnectConfig(context.Background(), w.f.asUser(node, writerUser))
			if err != nil {
				w.fail("connect")
				time.Sleep(5 * time.Millisecond)
				continue
			}
			conn = c
		}
		id := w.next.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := conn.Exec(ctx, "INSERT INTO sw (id, writer) VALUES ($1, $2)", id, writer)
		cancel()
		if err != nil {
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
				w.fail(pgErr.Code)
			} else {
				w.fail("connection")
			}
			_ = conn.Close(context.Background())
			conn = nil
			time.Sleep(5 * time.Millisecond)
			continue
		}
		now := time.Now()
		w.mu.Lock()
		w.acked[id] = node.Name
		w.acks = append(w.acks, ack{node: node.Name, at: now})
		if !w.lastAck.IsZero() {
			w.maxGap = max(w.maxGap, now.Sub(w.lastAck))
		}
		w.lastAck = now
		w.mu.Unlock()
	}
}

// ack is one acknowledged commit.
type ack struct {
	node string
	at   time.Time
}

// halt stops the writers and waits for them; it can be called more than once.
func (w *writers) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

// waitAcks waits until n commits were acknowledged after since, by the node named, at most d.
func (w *writers) waitAcks(t *testing.T, node string, since time.Time, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if got := w.acksSince(node, since); got >= n {
			return
		}
		if time.Now().After(deadline) {
			w.mu.Lock()
			errs := fmt.Sprint(w.errs)
			w.mu.Unlock()
			t.Fatalf("the writers had %d commits acknowledged by the %s after %s, want %d within %s (errors: %s)",
				w.acksSince(node, since), node, since.Format(time.StampMilli), n, d, errs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *writers) acksSince(node string, since time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.acks {
		if a.at.After(since) && a.node == node {
			n++
		}
	}
	return n
}

// count is how many commits the node acknowledged.
func (w *writers) count(node string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, by := range w.acked {
		if by == node {
			n++
		}
	}
	return n
}

// lost counts the acknowledged rows that the node does not have.
func (w *writers) lost(t *testing.T, n *pgtest.Node) int {
	t.Helper()
	c, err := n.Admin(t.Context(), pgtest.DBName)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	rows, err := c.Query(t.Context(), "SELECT id FROM sw")
	if err != nil {
		t.Fatal(err)
	}
	present := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		present[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	lost := 0
	for id := range w.acked {
		if !present[id] {
			lost++
		}
	}
	return lost
}

// invokeSwitchover sends a switchover request through Handler.Invoke, the Lambda's entry point.
func invokeSwitchover(ctx context.Context, h *Handler, req contract.SwitchoverRequest) (contract.SwitchoverResult, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return contract.SwitchoverResult{}, err
	}
	out, err := h.Invoke(ctx, b)
	if err != nil {
		return contract.SwitchoverResult{}, err
	}
	var r contract.SwitchoverResult
	if err := json.Unmarshal(out, &r); err != nil {
		return contract.SwitchoverResult{}, fmt.Errorf("cannot decode the result %s: %w", out, err)
	}
	return r, nil
}

func stepNames(r contract.SwitchoverResult) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Step)
	}
	return out
}

func stepDetail(r contract.SwitchoverResult, step string) string {
	for _, s := range r.Steps {
		if s.Step == step {
			return s.Detail
		}
	}
	return ""
}

// readOnlyDatabases lists the node's databases whose default_transaction_read_only is on.
func readOnlyDatabases(t *testing.T, n *pgtest.Node) []string {
	t.Helper()
	c, err := n.Admin(t.Context(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	dbs, err := listDatabases(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dbs {
		if d.ReadOnly {
			out = append(out, d.Name)
		}
	}
	return out
}

// stillReplica reports whether the RDS fake describes the instance as a read replica.
func stillReplica(t *testing.T, f *fixture) bool {
	t.Helper()
	out, err := rds.NewFromConfig(f.aws.AWSConfig()).DescribeDBInstances(t.Context(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(replicaID)})
	if err != nil || len(out.DBInstances) != 1 {
		t.Fatalf("DescribeDBInstances: %+v, %v", out, err)
	}
	return aws.ToString(out.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier) != ""
}

// promoteCalls counts the PromoteReadReplica requests, answered or refused.
func promoteCalls(f *fixture) int {
	n := 0
	for _, c := range f.aws.Calls() {
		if c.Service == "rds" && c.Operation == "PromoteReadReplica" {
			n++
		}
	}
	return n
}

// switchoverSummary is the one line TestSwitchover prints, from its three scenarios.
type switchoverSummary struct {
	lost      int
	pauseMs   int64
	catchUpMs int64
	abortOK   bool
	fenced    bool
}

func (s switchoverSummary) String() string {
	return fmt.Sprintf("switchover: lost=%d write_pause_ms=%d catchup_ms=%d abort_ok=%t fenced=%t", s.lost, s.pauseMs, s.catchUpMs, s.abortOK, s.fenced)
}

// TestSwitchover runs the planned switchover on real streaming replication under a write load
// and prints one summary line: acknowledged commits lost (must be 0), the longest time the
// writers saw no commit acknowledged, the catch-up, whether the aborted switchover left the
// writer taking writes, and whether the old writer refuses writes after a promoted one. The
// line is also written to $PGDR_SWITCHOVER_SUMMARY when that is set (make lambda-test prints
// it). No speed goal is asserted.
func TestSwitchover(t *testing.T) {
	sum := switchoverSummary{lost: -1, pauseMs: -1, catchUpMs: -1}
	t.Run("Scenarios", func(t *testing.T) {
		t.Run("ZeroLoss", func(t *testing.T) {
			t.Parallel()
			testZeroLoss(t, &sum)
		})
		t.Run("Abort", func(t *testing.T) {
			t.Parallel()
			defer func() { sum.abortOK = !t.Failed() }()
			testAbort(t)
		})
	})
	line := sum.String()
	fmt.Fprintln(os.Stdout, line)
	t.Log(line)
	if p := os.Getenv("PGDR_SWITCHOVER_SUMMARY"); p != "" {
		if err := os.WriteFile(p, []byte(line+"\n"), 0o644); err != nil {
			t.Errorf("cannot write the summary: %v", err)
		}
	}
}

// testZeroLoss: 4 writers, a switchover, every acknowledged commit on the promoted standby;
// then the old writer refuses writes (Fence), and the same request again reports the same
// switchover without promoting (Idempotent). The writers' sessions must be ended, not only the
// default changed: ALTER DATABASE … SET applies "whenever a new session is subsequently started
// in that database" (https://www.postgresql.org/docs/15/sql-alterdatabase.html), so sessions
// already connected would go on writing.
func testZeroLoss(t *testing.T, sum *switchoverSummary) {
	f := newSwitchoverFixture(t)
	ctx := t.Context()
	// A superuser session (RDS's rdsadmin's, say) that the fence must not end.
	su, err := f.pair.Primary.Admin(ctx, pgtest.DBName)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(context.Background())

	w := startWriters(t, f, 4)
	w.waitAcks(t, "primary", time.Time{}, 500, 20*time.Second)
	h := f.handler()
	req := contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: "orders-switchover-1", CatchUpTimeoutSeconds: 30}
	res, err := invokeSwitchover(ctx, h, req)
	if err != nil {
		t.Fatalf("switchover: %v", err)
	}
	// The writers reach the promoted standby through the record, and write there.
	w.waitAcks(t, "standby", time.Time{}, 100, 20*time.Second)
	w.halt()
	f.aws.WaitPromotions()

	lost := w.lost(t, f.pair.Standby)
	sum.lost, sum.pauseMs, sum.catchUpMs = lost, w.maxGap.Milliseconds(), res.CatchUpMs
	t.Logf("switchover: %d commits acknowledged by the primary, %d by the promoted standby, %d lost; longest gap between acknowledged commits %s; "+
		"write unavailable %d ms (fence to the first commit on the standby), catch-up %d ms; writer errors %v",
		w.count("primary"), w.count("standby"), lost, w.maxGap.Round(time.Millisecond), res.WriteUnavailableMs, res.CatchUpMs, w.errs)
	if lost != 0 {
		t.Errorf("%d acknowledged commits are missing on the promoted standby, want 0", lost)
	}

	want := []string{contract.StepFenced, contract.StepSessionsEnded, contract.StepCaughtUp, contract.StepPromoteRequested, contract.StepWritable, contract.StepRecordUpdated}
	if diff := cmp.Diff(want, stepNames(res)); diff != "" {
		t.Errorf("steps: -want, +got:\n%s\n%+v", diff, res)
	}
	if res.Outcome != contract.SwitchoverPromoted || res.Endpoint != drEndpoint || res.DNSUpdated == nil || !*res.DNSUpdated {
		t.Errorf("result: %+v; want Promoted, endpoint %s, DNS updated", res, drEndpoint)
	}
	if diff := cmp.Diff([]string{"appdb", "postgres"}, res.FencedDatabases); diff != "" {
		t.Errorf("fenced databases: -want, +got:\n%s", diff)
	}
	fenced, ferr := parseLSN(res.FencedLSN)
	replica, rerr := parseLSN(res.ReplicaLSN)
	if ferr != nil || rerr != nil || fenced == 0 || replica < fenced {
		t.Errorf("LSNs: fenced %q, replica %q (%v, %v); want the replica at or past the fence", res.FencedLSN, res.ReplicaLSN, ferr, rerr)
	}
	if res.WriteUnavailableMs <= 0 {
		t.Errorf("WriteUnavailableMs = %d, want it measured", res.WriteUnavailableMs)
	}
	// The app role's sessions were ended (the superuser exclusion does not cover it), the
	// superuser's were not.
	if d := stepDetail(res, contract.StepSessionsEnded); !strings.Contains(d, "(roles: "+writerUser+")") {
		t.Errorf("SessionsEnded: %q, want the writers' sessions terminated", d)
	}
	if _, err := su.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("the superuser's session was ended: %v", err)
	}
	if got := promoteCalls(f); got != 1 {
		t.Errorf("PromoteReadReplica calls: %d, want 1", got)
	}
	// The promoted standby was unfenced: no database is read-only by default there.
	if got := readOnlyDatabases(t, f.pair.Standby); len(got) != 0 {
		t.Errorf("read-only databases on the promoted standby: %v, want none", got)
	}
	if m := f.aws.Messages(); len(m) != 1 || m[0].Subject != "PostgresDR switchover Promoted: orders-dr" {
		t.Errorf("notifications: %+v", m)
	}
	t.Logf("result: %+v", res)

	t.Run("Fence", func(t *testing.T) {
		defer func() { sum.fenced = !t.Failed() }()
		// The old writer stays fenced: a new session of the application cannot write.
		c, err := pgx.ConnectConfig(t.Context(), f.asUser(f.pair.Primary, writerUser))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		_, err = c.Exec(t.Context(), "INSERT INTO sw (id, writer) VALUES (-1, -1)")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
			t.Errorf("write to the old writer: %v; want SQLSTATE 25006, read-only transaction", err)
		}
		if diff := cmp.Diff([]string{"appdb", "postgres"}, readOnlyDatabases(t, f.pair.Primary)); diff != "" {
			t.Errorf("read-only databases on the old writer: -want, +got:\n%s", diff)
		}
		// The limit the README names: default_transaction_read_only "controls the default
		// read-only status of each new transaction" (https://www.postgresql.org/docs/15/runtime-config-client.html),
		// and a transaction can ask for READ WRITE (https://www.postgresql.org/docs/15/sql-set-transaction.html):
		// a session that does can still write. Hence the composition's parameter group and
		// security group on the old writer.
		if _, err := c.Exec(t.Context(), "BEGIN READ WRITE; INSERT INTO sw (id, writer) VALUES (-2, -2); COMMIT"); err != nil {
			t.Errorf("an explicit READ WRITE transaction on the fenced writer: %v; PostgreSQL documents that it can write", err)
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		again, err := invokeSwitchover(t.Context(), h, req)
		if err != nil {
			t.Fatalf("the same request again: %v", err)
		}
		if diff := cmp.Diff(res, again); diff != "" {
			t.Errorf("the same request again: want the recorded result; -first, +again:\n%s", diff)
		}
		if got := promoteCalls(f); got != 1 {
			t.Errorf("PromoteReadReplica calls: %d, want still 1", got)
		}
		if got := f.aws.CallCount("route53", "ChangeResourceRecordSets"); got != 1 {
			t.Errorf("DNS changes: %d, want still 1", got)
		}
	})
}

// testAbort: replay paused on the standby, so the switchover cannot catch up within its
// timeout: it aborts, promotes nothing, and the writers commit on the same primary again.
func testAbort(t *testing.T) {
	f := newSwitchoverFixture(t)
	ctx := t.Context()
	w := startWriters(t, f, 4)
	w.waitAcks(t, "primary", time.Time{}, 200, 20*time.Second)
	if err := f.pair.Standby.PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if err := f.pair.Standby.ResumeReplay(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(resume)
	w.waitAcks(t, "primary", time.Now(), 100, 20*time.Second)

	res, err := invokeSwitchover(ctx, f.handler(), contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: "orders-switchover-abort", CatchUpTimeoutSeconds: 2})
	if err != nil {
		t.Fatalf("switchover: %v", err)
	}
	aborted := time.Now()
	t.Logf("result: %+v", res)
	if diff := cmp.Diff([]string{contract.StepFenced, contract.StepSessionsEnded, contract.StepUnfenced}, stepNames(res)); diff != "" {
		t.Errorf("steps: -want, +got:\n%s", diff)
	}
	if res.Outcome != contract.SwitchoverAborted {
		t.Errorf("outcome %q, want Aborted", res.Outcome)
	}
	for _, want := range []string{"bytes behind after 2s", "replay is paused on the replica", "the writer is at " + res.FencedLSN, "set spec.activeRegion back", "takes writes again"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}
	// The writers commit on the same primary again.
	w.waitAcks(t, "primary", aborted, 100, 20*time.Second)
	w.halt()

	if got := promoteCalls(f); got != 0 {
		t.Errorf("PromoteReadReplica calls: %d, want none", got)
	}
	if !stillReplica(t, f) {
		t.Errorf("RDS says %s is no longer a replica", replicaID)
	}
	if r, err := f.pair.Standby.InRecovery(ctx); err != nil || !r {
		t.Errorf("standby in recovery: %t, %v; want true", r, err)
	}
	if got := readOnlyDatabases(t, f.pair.Primary); len(got) != 0 {
		t.Errorf("read-only databases on the primary after the abort: %v, want none", got)
	}
	if res.WriteUnavailableMs < 2000 {
		t.Errorf("WriteUnavailableMs = %d, want at least the 2 s catch-up timeout", res.WriteUnavailableMs)
	}
	// Once replay resumes, the standby has every acknowledged row and none of the fence.
	resume()
	waitReplayed(t, f)
	if lost := w.lost(t, f.pair.Standby); lost != 0 {
		t.Errorf("%d acknowledged rows missing on the standby after replay resumed", lost)
	}
	if got := readOnlyDatabases(t, f.pair.Standby); len(got) != 0 {
		t.Errorf("read-only databases on the standby: %v, want none", got)
	}
}

// switchoverCase is one switchover that ends before it promotes, and what it should leave.
type switchoverCase struct {
	reason string
	setup  func(t *testing.T, f *fixture)
	ctx    func(t *testing.T) context.Context
	// wantReason is text the result's reason contains.
	wantReason string
	want       switchoverOutcome
}

// switchoverOutcome is what a switchover did, as seen from outside.
type switchoverOutcome struct {
	outcome  string
	reason   string
	err      string
	steps    []string
	promotes int
	// readOnly are the primary's databases that are read-only by default afterwards.
	readOnly   []string
	inRecovery bool
}

// TestSwitchoverAborted: switchovers that must not promote, each on its own pair.
func TestSwitchoverAborted(t *testing.T) {
	cases := map[string]switchoverCase{
		"WriterDown": {
			reason: "The writer does not answer: a planned switchover needs it; nothing is fenced or promoted, and the reason points at the failover path.",
			setup: func(t *testing.T, f *fixture) {
				killPrimary(t, f)
			},
			wantReason: "a planned switchover needs the writer",
			want:       switchoverOutcome{outcome: contract.SwitchoverAborted, reason: "a planned switchover needs the writer", inRecovery: true},
		},
		"WriterIsAReplica": {
			reason: "PRIMARY_HOST names a server in recovery (the roles were swapped already, say): it is not the writer; nothing is fenced.",
			setup: func(t *testing.T, f *fixture) {
				f.env[contract.EnvPrimaryPort] = f.env[contract.EnvReplicaPort]
			},
			wantReason: "is in recovery, a replica, not the writer: nothing was fenced or promoted",
			want:       switchoverOutcome{outcome: contract.SwitchoverAborted, reason: "is in recovery, a replica, not the writer: nothing was fenced or promoted", inRecovery: true},
		},
		"ReplicaBackingUp": {
			reason: "RDS refuses to promote a replica that is backing up (PromoteReadReplica: \"a read replica cannot be promoted to a standalone instance " +
				"when it is in the backing-up status\", https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html): " +
				"the switchover aborts before it fences, rather than keep the writer fenced through the backup.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.aws.BackUp(replicaID, time.Minute); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "RDS does not promote a read replica while it backs up",
			want:       switchoverOutcome{outcome: contract.SwitchoverAborted, reason: "RDS does not promote a read replica while it backs up", inRecovery: true},
		},
		"NotOwner": {
			reason: "A database the Lambda's user does not own cannot be fenced (ALTER DATABASE … SET needs its owner): what was fenced is unfenced, and the reason says what to grant.",
			setup: func(t *testing.T, f *fixture) {
				if err := execAdmin(t, f.pair.Primary, "CREATE DATABASE ledger OWNER "+otherUser); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: `must be owner of database ledger (SQLSTATE 42501). The Lambda's database user must own each database or be a member of its owner's role (GRANT <owner> TO <user>)`,
			want: switchoverOutcome{
				outcome: contract.SwitchoverAborted, steps: []string{contract.StepUnfenced}, inRecovery: true,
				reason: `must be owner of database ledger (SQLSTATE 42501). The Lambda's database user must own each database or be a member of its owner's role (GRANT <owner> TO <user>)`,
			},
		},
		"CannotSeeSessions": {
			reason: "Without pg_read_all_stats the Lambda's user cannot see other roles' sessions in pg_stat_activity, so it could not end them: nothing is fenced.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.pair.Primary.Exec(t.Context(), "REVOKE pg_read_all_stats FROM "+masterUser); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "grant it pg_read_all_stats",
			want:       switchoverOutcome{outcome: contract.SwitchoverAborted, reason: "grant it pg_read_all_stats", inRecovery: true},
		},
		"RoleReadWrite": {
			reason: "A role setting overrides the database's default (https://www.postgresql.org/docs/15/sql-alterrole.html): the fence would not " +
				"make that role's new sessions read-only, so nothing is fenced.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.pair.Primary.Exec(t.Context(), "ALTER ROLE "+writerUser+" IN DATABASE appdb SET default_transaction_read_only = off"); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "(ALTER ROLE … SET default_transaction_read_only = off): pgdr_writer in appdb",
			want: switchoverOutcome{
				outcome: contract.SwitchoverAborted, reason: "(ALTER ROLE … SET default_transaction_read_only = off): pgdr_writer in appdb", inRecovery: true,
			},
		},
		"InvocationTooShort": {
			reason: "An invocation with less time left than catch-up + PROMOTE_TIMEOUT + 1 min aborts before it fences: a timeout half-way would leave the writer fenced.",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
				t.Cleanup(cancel)
				return ctx
			},
			wantReason: "and a switchover may need 2m1s (catchUpTimeoutSeconds 1s + PROMOTE_TIMEOUT 1m0s + 1m0s): nothing was fenced",
			want: switchoverOutcome{
				outcome: contract.SwitchoverAborted, inRecovery: true,
				reason: "and a switchover may need 2m1s (catchUpTimeoutSeconds 1s + PROMOTE_TIMEOUT 1m0s + 1m0s): nothing was fenced",
			},
		},
		"AlreadyReadOnly": {
			reason: "A database that was read-only before the switchover is not fenced, and stays read-only after an abort (catch-up timeout, replay paused).",
			setup: func(t *testing.T, f *fixture) {
				if err := execAdmin(t, f.pair.Primary, "CREATE DATABASE archive OWNER "+pgtest.AppUser); err != nil {
					t.Fatal(err)
				}
				if err := execAdmin(t, f.pair.Primary, "ALTER DATABASE archive SET default_transaction_read_only = on"); err != nil {
					t.Fatal(err)
				}
				waitReplayed(t, f)
				if err := f.pair.Standby.PauseReplay(t.Context()); err != nil {
					t.Fatal(err)
				}
				// WAL the paused standby cannot replay.
				if err := f.pair.Primary.Exec(t.Context(), "INSERT INTO sw (id, writer) VALUES (1, 1)"); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "replay is paused on the replica",
			want: switchoverOutcome{
				outcome: contract.SwitchoverAborted, reason: "replay is paused on the replica", inRecovery: true, readOnly: []string{"archive"},
				steps: []string{contract.StepFenced, contract.StepSessionsEnded, contract.StepUnfenced},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newSwitchoverFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx(t)
			}
			res, err := invokeSwitchover(ctx, f.handler(), contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: "s-" + name, CatchUpTimeoutSeconds: 1})
			got := switchoverOutcome{outcome: res.Outcome, reason: wanted(res.Reason, tc.wantReason), steps: stepNames(res), promotes: promoteCalls(f)}
			if err != nil {
				got.err = err.Error()
			}
			if name != "WriterDown" {
				got.readOnly = readOnlyDatabases(t, f.pair.Primary)
			}
			r, rerr := f.pair.Standby.InRecovery(t.Context())
			if rerr != nil {
				t.Fatal(rerr)
			}
			got.inRecovery = r
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(switchoverOutcome{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nresult: %+v", tc.reason, diff, res)
			}
		})
	}
}

// execAdmin runs a statement as the superuser in the postgres database (CREATE DATABASE cannot
// run in the database it copies from while others use it).
func execAdmin(t *testing.T, n *pgtest.Node, q string) error {
	t.Helper()
	c, err := n.Admin(t.Context(), "postgres")
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(t.Context(), q)
	return err
}

// resumeOutcome is what a switchover did when it found the replica promoted already.
type resumeOutcome struct {
	outcome         string
	reason          string
	steps           []string
	promotes        int
	dnsChanges      int
	primaryReadOnly []string
	standbyReadOnly []string
}

// TestSwitchoverResume: the replica is no longer a replica when the switchover starts. Nothing
// is promoted and the old writer is not touched; what was left undone is finished.
func TestSwitchoverResume(t *testing.T) {
	const id = "orders-switchover-2"
	cases := map[string]struct {
		reason     string
		setup      func(t *testing.T, f *fixture)
		wantReason string
		want       resumeOutcome
	}{
		"EarlierRunStopped": {
			reason: "An earlier run of this switchover fenced the writer and promoted the replica, then stopped (a Lambda timeout, say): " +
				"this run resets the replicated fence on the promoted replica, proves it writable, records the result and points the record at it.",
			setup: func(t *testing.T, f *fixture) {
				// As the earlier run did: the Lambda's user.
				c, err := pgx.ConnectConfig(t.Context(), f.asUser(f.pair.Primary, masterUser))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(context.Background())
				fenced := []string{"appdb", "postgres"}
				if err := writeSwitchover(t.Context(), c, contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: outcomeInProgress, FencedDatabases: fenced}); err != nil {
					t.Fatal(err)
				}
				if _, err := setReadOnly(t.Context(), c, fenced, true); err != nil {
					t.Fatal(err)
				}
				waitReplayed(t, f)
				if err := f.pair.Standby.Promote(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "had been promoted by an earlier run of this switchover that stopped before it recorded the result",
			want: resumeOutcome{
				outcome: contract.SwitchoverPromoted, reason: "had been promoted by an earlier run of this switchover that stopped before it recorded the result",
				steps: []string{contract.StepWritable, contract.StepRecordUpdated}, dnsChanges: 1, primaryReadOnly: []string{"appdb", "postgres"},
			},
		},
		"PromotedElsewhere": {
			reason: "The replica was promoted by someone else (the failover path, by hand) and has no record of this switchover: Promoted, " +
				"saying so; nothing fenced, promoted or changed in DNS.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.pair.Standby.Promote(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "has no record of this switchover: it was promoted by the failover path or by hand; this run fenced and promoted nothing",
			want: resumeOutcome{
				outcome: contract.SwitchoverPromoted,
				reason:  "has no record of this switchover: it was promoted by the failover path or by hand; this run fenced and promoted nothing",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newSwitchoverFixture(t)
			tc.setup(t, f)
			h := f.handler()
			req := contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: id}
			res, err := invokeSwitchover(t.Context(), h, req)
			if err != nil {
				t.Fatalf("switchover: %v", err)
			}
			got := resumeOutcome{
				outcome: res.Outcome, reason: wanted(res.Reason, tc.wantReason), steps: stepNames(res), promotes: promoteCalls(f),
				dnsChanges: f.aws.CallCount("route53", "ChangeResourceRecordSets"), primaryReadOnly: readOnlyDatabases(t, f.pair.Primary),
				standbyReadOnly: readOnlyDatabases(t, f.pair.Standby),
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(resumeOutcome{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nresult: %+v", tc.reason, diff, res)
			}
			// It was recorded: the same request again reports the same.
			again, err := invokeSwitchover(t.Context(), h, req)
			if err != nil {
				t.Fatalf("the same request again: %v", err)
			}
			if diff := cmp.Diff(res, again); diff != "" {
				t.Errorf("the same request again: -first, +again:\n%s", diff)
			}
		})
	}
}
