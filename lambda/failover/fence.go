package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// What fencing needs of PostgreSQL, and where it is documented:
//
//   - ALTER DATABASE … SET default_transaction_read_only = on sets a database's session default:
//     it applies to sessions started after it, not to those already connected, and needs the
//     database's owner (or a member of the owning role); the RDS master user is not a superuser.
//     https://www.postgresql.org/docs/15/sql-alterdatabase.html
//   - default_transaction_read_only only sets the default: a session can still SET
//     transaction_read_only = off. https://www.postgresql.org/docs/15/runtime-config-client.html
//   - pg_terminate_backend needs pg_signal_backend (or the session's role), and only superusers
//     can terminate superuser sessions. https://www.postgresql.org/docs/15/functions-admin.html
//     On RDS, rds_superuser can see and terminate every session but those of superusers such as
//     rdsadmin (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html,
//     https://repost.aws/knowledge-center/rds-cancel-long-running-queries).
//   - pg_stat_activity shows other roles' backend_type and backend_start only to roles with the
//     privileges of pg_read_all_stats. https://www.postgresql.org/docs/15/monitoring-stats.html

// rdsAdmin is RDS's own superuser, whose sessions rds_superuser cannot end, and its database.
const rdsAdmin = "rdsadmin"

// sessionsEndTimeout bounds the wait for the writer's other sessions to end once they were told
// to terminate; sessionsSettle is how long no old session and no write transaction must be seen
// before the wait ends, for a session that was authenticating when the fence was set.
const (
	sessionsEndTimeout = 10 * time.Second
	sessionsSettle     = 20 * time.Millisecond
)

// outcomeInProgress is the outcome of a switchover's row on the writer before it fences: it
// names the databases it will fence, so that a later run (a retry, or the failover path on a
// replica promoted meanwhile) knows what to reset.
const outcomeInProgress = "InProgress"

// lsn is a WAL position, PostgreSQL's pg_lsn: two hexadecimal 32-bit halves, "16/B374D848".
type lsn uint64

// parseLSN reads a pg_lsn's text form.
func parseLSN(s string) (lsn, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("cannot parse WAL position %q: want X/Y in hexadecimal", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("cannot parse WAL position %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("cannot parse WAL position %q: %w", s, err)
	}
	return lsn(h<<32 | l), nil
}

// String is the pg_lsn text form.
func (l lsn) String() string {
	return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF)
}

// pgBool reads a boolean setting as PostgreSQL does (parse_bool): true, yes, on, 1 and unique
// prefixes of true and yes, in any case.
func pgBool(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return false
	}
	for _, word := range []string{"true", "yes"} {
		if len(v) <= len(word) && word[:len(v)] == v {
			return true
		}
	}
	return v == "on" || v == "1"
}

// readOnlySetting returns the default_transaction_read_only of a pg_db_role_setting setconfig
// array, and whether it sets it at all.
func readOnlySetting(setconfig []string) (on, set bool) {
	for _, kv := range setconfig {
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, "default_transaction_read_only") {
			return pgBool(v), true
		}
	}
	return false, false
}

// readOnlyDefault reports whether a pg_db_role_setting setconfig array makes sessions read-only.
func readOnlyDefault(setconfig []string) bool {
	on, _ := readOnlySetting(setconfig)
	return on
}

const roleSettingsSQL = `SELECT r.rolname, coalesce(d.datname, ''), s.setconfig
FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase
WHERE r.rolname <> '` + rdsAdmin + `'
ORDER BY 1, 2`

// readWriteRoles names the roles whose own settings (ALTER ROLE … [IN DATABASE …] SET
// default_transaction_read_only = off) override a database's: the fence would not make their
// new sessions read-only. PostgreSQL: "Role-specific variable settings take effect only at
// login … Database-role-specific settings override role-specific ones, which in turn override
// database-specific ones" (https://www.postgresql.org/docs/15/sql-alterrole.html).
func readWriteRoles(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, roleSettingsSQL)
	if err != nil {
		return nil, fmt.Errorf("cannot read the roles' settings: %w", err)
	}
	var out []string
	for rows.Next() {
		var role, db string
		var setconfig []string
		if err := rows.Scan(&role, &db, &setconfig); err != nil {
			return nil, fmt.Errorf("cannot read the roles' settings: %w", err)
		}
		if on, set := readOnlySetting(setconfig); set && !on {
			if db != "" {
				role += " in " + db
			}
			out = append(out, role)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the roles' settings: %w", err)
	}
	return out, nil
}

// database is one database of the writer that clients can connect to.
type database struct {
	Name string
	// ReadOnly: its default_transaction_read_only is on (ALTER DATABASE … SET).
	ReadOnly bool
}

// toFence returns the databases a switchover sets read-only: every database that is not
// read-only already, and those a previous run of the same switchover set (they look read-only
// already, for it did).
func toFence(dbs []database, previous []string) []string {
	var out []string
	for _, d := range dbs {
		if !d.ReadOnly || slices.Contains(previous, d.Name) {
			out = append(out, d.Name)
		}
	}
	return out
}

// prepareSession makes the Lambda's own session able to write and bounds its statements. The
// session may start on a fenced server (a retry), whose databases are read-only by default.
func prepareSession(ctx context.Context, conn *pgx.Conn) error {
	for _, q := range []string{
		"SET default_transaction_read_only = off",
		"SET synchronous_commit = on",
		"SET lock_timeout = '5s'",
		"SET statement_timeout = '15s'",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("cannot prepare the session (%s): %w", q, err)
		}
	}
	return nil
}

// hiddenSessionsSQL counts the sessions whose backend type the Lambda's user cannot see
// (without pg_read_all_stats), other than RDS's own.
const hiddenSessionsSQL = `SELECT count(*) FROM pg_stat_activity WHERE backend_type IS NULL AND usename IS DISTINCT FROM '` + rdsAdmin + `'`

// hiddenSessions returns how many of the server's sessions the Lambda cannot see.
func hiddenSessions(ctx context.Context, conn *pgx.Conn) (int, error) {
	var n int
	if err := conn.QueryRow(ctx, hiddenSessionsSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("cannot read pg_stat_activity: %w", err)
	}
	return n, nil
}

const databasesSQL = `SELECT d.datname, coalesce(s.setconfig, '{}')
FROM pg_database d LEFT JOIN pg_db_role_setting s ON s.setdatabase = d.oid AND s.setrole = 0
WHERE d.datallowconn AND NOT d.datistemplate AND d.datname <> '` + rdsAdmin + `'
ORDER BY d.datname`

// listDatabases returns the databases clients can connect to, but the templates and rdsadmin.
func listDatabases(ctx context.Context, conn *pgx.Conn) ([]database, error) {
	rows, err := conn.Query(ctx, databasesSQL)
	if err != nil {
		return nil, fmt.Errorf("cannot list the databases: %w", err)
	}
	var out []database
	for rows.Next() {
		var d database
		var setconfig []string
		if err := rows.Scan(&d.Name, &setconfig); err != nil {
			return nil, fmt.Errorf("cannot list the databases: %w", err)
		}
		d.ReadOnly = readOnlyDefault(setconfig)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the databases: %w", err)
	}
	return out, nil
}

// setReadOnly sets (on) or resets (off) default_transaction_read_only of each database and
// returns those it changed, in order, up to the first error.
func setReadOnly(ctx context.Context, conn *pgx.Conn, dbs []string, on bool) ([]string, error) {
	var done []string
	for _, db := range dbs {
		q := "ALTER DATABASE " + pgx.Identifier{db}.Sanitize() + " RESET default_transaction_read_only"
		if on {
			q = "ALTER DATABASE " + pgx.Identifier{db}.Sanitize() + " SET default_transaction_read_only = on"
		}
		if _, err := conn.Exec(ctx, q); err != nil {
			return done, fmt.Errorf("cannot run %s: %w", q, err)
		}
		done = append(done, db)
	}
	return done, nil
}

// serverNow is the server's clock_timestamp(), to compare with pg_stat_activity's times.
func serverNow(ctx context.Context, conn *pgx.Conn) (time.Time, error) {
	var t time.Time
	if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("cannot read the server's clock: %w", err)
	}
	return t, nil
}

// clientSessions selects the other client sessions the Lambda can end: not its own, not RDS's
// (rdsadmin), not a superuser's (rds_superuser cannot end them).
const clientSessions = `FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() AND a.usename IS DISTINCT FROM '` + rdsAdmin + `'`

const notSuperuser = `NOT coalesce(r.rolsuper, false)`

// terminateSQL ends the sessions that started before $1, the fence: they may have read the
// databases' defaults before it.
const terminateSQL = `SELECT a.pid, coalesce(a.usename, ''), pg_terminate_backend(a.pid) ` + clientSessions +
	` AND ` + notSuperuser + ` AND a.backend_start < $1`

// sessionsLeftSQL counts the sessions that started before the fence and are still there, and
// the sessions (any role but RDS's) in a transaction that holds a transaction ID, i.e. that
// wrote; and names their roles.
const sessionsLeftSQL = `SELECT
  count(*) FILTER (WHERE ` + notSuperuser + ` AND a.backend_start < $1),
  count(*) FILTER (WHERE a.backend_xid IS NOT NULL),
  coalesce(string_agg(DISTINCT coalesce(a.usename, '?'), ', ') FILTER (WHERE (` + notSuperuser + ` AND a.backend_start < $1) OR a.backend_xid IS NOT NULL), '')
` + clientSessions

// ended is what endSessions did.
type ended struct {
	// Terminated counts the sessions pg_terminate_backend was sent to.
	Terminated int
	// Roles are their roles.
	Roles []string
}

// endSessions terminates the client sessions that started before fencedAt (server time) and
// waits until none is left and no other session holds a write transaction, within timeout. It
// terminates on each round: a session that was being authenticated when the fence was set has
// read the old default and shows up in pg_stat_activity a moment later.
func endSessions(ctx context.Context, conn *pgx.Conn, fencedAt time.Time, timeout time.Duration) (ended, error) {
	var e ended
	seen := map[int32]bool{}
	deadline := time.Now().Add(timeout)
	var quietSince time.Time
	pause := time.Millisecond
	for {
		rows, err := conn.Query(ctx, terminateSQL, fencedAt)
		if err != nil {
			return e, fmt.Errorf("cannot terminate the other sessions: %w", err)
		}
		for rows.Next() {
			var pid int32
			var role string
			var ok bool
			if err := rows.Scan(&pid, &role, &ok); err != nil {
				return e, fmt.Errorf("cannot terminate the other sessions: %w", err)
			}
			if ok && !seen[pid] {
				seen[pid] = true
				e.Terminated++
				if !slices.Contains(e.Roles, role) {
					e.Roles = append(e.Roles, role)
				}
			}
		}
		if err := rows.Err(); err != nil {
			return e, fmt.Errorf("cannot terminate the other sessions: %w", err)
		}
		var old, writing int
		var who string
		if err := conn.QueryRow(ctx, sessionsLeftSQL, fencedAt).Scan(&old, &writing, &who); err != nil {
			return e, fmt.Errorf("cannot read pg_stat_activity: %w", err)
		}
		now := time.Now()
		switch {
		case old > 0 || writing > 0:
			quietSince = time.Time{}
		case quietSince.IsZero():
			quietSince = now
		case now.Sub(quietSince) >= sessionsSettle:
			slices.Sort(e.Roles)
			return e, nil
		}
		if now.After(deadline) {
			return e, fmt.Errorf("%d sessions that started before the fence are still there and %d sessions hold a write transaction after %s (roles: %s)",
				old, writing, timeout, who)
		}
		if err := sleep(ctx, pause); err != nil {
			return e, fmt.Errorf("cannot wait for the other sessions to end: %w", err)
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// markFence returns the writer's WAL position once no other session writes: the insert
// position, read in a transaction that takes a transaction ID and commits synchronously. Every
// commit acknowledged before ends at or below that position, and the commit flushes the WAL
// past it, so the replica receives all of it even if nothing else is ever written (the WAL
// writer flushes only whole pages and asynchronous commits on its own).
func markFence(ctx context.Context, conn *pgx.Conn) (lsn, error) {
	var pos string
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text, pg_current_wal_insert_lsn()::text").Scan(nil, &pos)
	})
	if err != nil {
		return 0, fmt.Errorf("cannot read the writer's WAL position: %w", err)
	}
	return parseLSN(pos)
}

// replay is what the replica says of its recovery.
type replay struct {
	InRecovery bool
	LSN        lsn
	Paused     bool
}

const replaySQL = `SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, '0/0'),
  CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END`

// readReplay reads the replica's replay position.
func readReplay(ctx context.Context, conn *pgx.Conn) (replay, error) {
	var r replay
	var pos string
	if err := conn.QueryRow(ctx, replaySQL).Scan(&r.InRecovery, &pos, &r.Paused); err != nil {
		return replay{}, fmt.Errorf("cannot read the replica's replay position: %w", err)
	}
	l, err := parseLSN(pos)
	if err != nil {
		return replay{}, err
	}
	r.LSN = l
	return r, nil
}

var switchoverTable = pgx.Identifier{contract.SwitchoverTable}.Sanitize()

// createSwitchoverTableSQL creates the table of switchover results.
var createSwitchoverTableSQL = fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  id     text PRIMARY KEY,
  result jsonb NOT NULL,
  at     timestamptz NOT NULL DEFAULT clock_timestamp()
)`, switchoverTable)

func undefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// readSwitchover returns the recorded result of a switchover, or nil when there is none.
func readSwitchover(ctx context.Context, conn *pgx.Conn, id string) (*contract.SwitchoverResult, error) {
	var b []byte
	err := conn.QueryRow(ctx, "SELECT result::text FROM "+switchoverTable+" WHERE id = $1", id).Scan(&b)
	switch {
	case errors.Is(err, pgx.ErrNoRows), undefinedTable(err):
		return nil, nil //nolint:nilnil // No row is not an error: the switchover was not recorded.
	case err != nil:
		return nil, fmt.Errorf("cannot read switchover %q from %s: %w", id, switchoverTable, err)
	}
	var r contract.SwitchoverResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("cannot decode switchover %q from %s: %w", id, switchoverTable, err)
	}
	return &r, nil
}

// inProgressFences returns the databases that switchovers recorded as in progress were to
// fence: a replica promoted while one was under way may have replayed its fence.
func inProgressFences(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT result::text FROM "+switchoverTable+" WHERE result->>'outcome' = $1", outcomeInProgress)
	if undefinedTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", switchoverTable, err)
	}
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", switchoverTable, err)
		}
		var r contract.SwitchoverResult
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("cannot decode a row of %s: %w", switchoverTable, err)
		}
		for _, db := range r.FencedDatabases {
			if !slices.Contains(out, db) {
				out = append(out, db)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", switchoverTable, err)
	}
	return out, nil
}

// writeSwitchover records a switchover's result, creating the table the first time.
func writeSwitchover(ctx context.Context, conn *pgx.Conn, r contract.SwitchoverResult) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cannot encode switchover %q: %w", r.ID, err)
	}
	if _, err := conn.Exec(ctx, createSwitchoverTableSQL); err != nil {
		return fmt.Errorf("cannot create %s: %w", switchoverTable, err)
	}
	q := "INSERT INTO " + switchoverTable + " (id, result) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET result = excluded.result, at = clock_timestamp()"
	if _, err := conn.Exec(ctx, q, r.ID, string(b)); err != nil {
		return fmt.Errorf("cannot record switchover %q in %s: %w", r.ID, switchoverTable, err)
	}
	return nil
}
