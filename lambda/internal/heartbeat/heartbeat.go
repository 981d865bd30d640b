// Package heartbeat writes and reads the heartbeat row that measures replication lag in
// seconds. The replication-lag monitor bumps the row on the primary and times how long the
// new value takes to show on the replica, with its own monotonic clock: no clock skew between
// servers, a true reading on an idle primary, and no NULL on a fresh standby (which is where
// now() - pg_last_xact_replay_timestamp() fails). The failover Lambda bumps it on the promoted
// replica to prove that it takes writes.
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

var table = pgx.Identifier{contract.HeartbeatTable}.Sanitize()

// CreateSQL creates the heartbeat table: one row, a counter and the time of the last write.
var CreateSQL = fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  id         integer PRIMARY KEY CHECK (id = 1),
  seq        bigint NOT NULL,
  written_at timestamptz NOT NULL
)`, table)

var beatSQL = fmt.Sprintf(`INSERT INTO %[1]s AS h (id, seq, written_at) VALUES (1, 1, clock_timestamp())
ON CONFLICT (id) DO UPDATE SET seq = h.seq + 1, written_at = excluded.written_at
RETURNING seq`, table)

var seenSQL = fmt.Sprintf(`SELECT seq, written_at FROM %s WHERE id = 1`, table)

// Querier runs statements; *pgx.Conn is one.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func undefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// Beat bumps the heartbeat and returns its new sequence number, creating the table the first
// time. It returns when the write is committed.
func Beat(ctx context.Context, q Querier) (int64, error) {
	var seq int64
	err := q.QueryRow(ctx, beatSQL).Scan(&seq)
	if undefinedTable(err) {
		if _, err := q.Exec(ctx, CreateSQL); err != nil {
			return 0, fmt.Errorf("cannot create the heartbeat table %s: %w", table, err)
		}
		err = q.QueryRow(ctx, beatSQL).Scan(&seq)
	}
	if err != nil {
		return 0, fmt.Errorf("cannot write the heartbeat: %w", err)
	}
	return seq, nil
}

// State is the heartbeat as a server has it: 0 and the zero time when it has none yet.
type State struct {
	Seq       int64
	WrittenAt time.Time
}

// Seen returns the heartbeat as a server has it.
func Seen(ctx context.Context, q Querier) (State, error) {
	var s State
	err := q.QueryRow(ctx, seenSQL).Scan(&s.Seq, &s.WrittenAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows), undefinedTable(err):
		return State{}, nil
	case err != nil:
		return State{}, fmt.Errorf("cannot read the heartbeat: %w", err)
	}
	return s, nil
}

// Wait polls a server until its heartbeat reaches seq or wait has passed: after 1 ms, then
// twice as long each time up to interval, since a streaming replica usually has it within a
// millisecond or two. It returns whether the heartbeat arrived, the time from its call to the
// arrival (or to the end of the wait), and the heartbeat the server had last.
func Wait(ctx context.Context, q Querier, seq int64, wait, interval time.Duration) (bool, time.Duration, State, error) {
	start := time.Now()
	pause := min(time.Millisecond, interval)
	for {
		got, err := Seen(ctx, q)
		if err != nil {
			return false, time.Since(start), got, err
		}
		if got.Seq >= seq {
			return true, time.Since(start), got, nil
		}
		left := wait - time.Since(start)
		if left <= 0 {
			return false, time.Since(start), got, nil
		}
		select {
		case <-ctx.Done():
			return false, time.Since(start), got, ctx.Err()
		case <-time.After(min(pause, left)):
		}
		pause = min(2*pause, interval)
	}
}
