package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/heartbeat"
	"github.com/pgdr/function-postgres-dr/lambda/internal/metrics"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgconnect"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// applicationName is how the monitor shows in pg_stat_activity.
const applicationName = "pgdr-replication-lag"

// pollInterval is how often the replica is asked whether the heartbeat has arrived.
const pollInterval = 10 * time.Millisecond

// measurement is a sample and what explains it.
type measurement struct {
	metrics.Sample
	HeartbeatSeen bool
	InRecovery    *bool
	PrimaryErr    error
	ReplicaErr    error
	// LoginFailed is set when a server answered but the connection could not be made: a
	// refused password, a certificate that does not verify. That is a configuration error,
	// not an outage.
	LoginFailed bool
	AuthFailed  bool
}

// replicaState is what the replica reports about its WAL.
type replicaState struct {
	inRecovery bool
	receiveLSN *string
	replayLSN  *string
	lastReplay *time.Time
}

// measure connects to both servers and measures the lag, as described in the package
// documentation. It never fails: what cannot be measured is left out and explained.
func measure(ctx context.Context, c config.Lag, creds secrets.Credentials) measurement {
	var m measurement
	var primary, replica *pgx.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		primary, m.PrimaryErr = pgconnect.Connect(ctx, pgconnect.NewTarget(c.DB, c.Primary, creds, applicationName))
	})
	wg.Go(func() {
		replica, m.ReplicaErr = pgconnect.Connect(ctx, pgconnect.NewTarget(c.DB, c.Replica, creds, applicationName))
	})
	wg.Wait()
	defer closeConn(primary)
	defer closeConn(replica)
	for _, e := range []error{m.PrimaryErr, m.ReplicaErr} {
		if e != nil && pgconnect.Answered(e) {
			m.LoginFailed = true
			m.AuthFailed = m.AuthFailed || pgconnect.AuthFailed(e)
		}
	}
	m.PrimaryReachable = primary != nil || pgconnect.Answered(m.PrimaryErr)
	m.ReplicaReachable = replica != nil || pgconnect.Answered(m.ReplicaErr)
	qctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout+c.HeartbeatWait+c.ConnectTimeout)
	defer cancel()

	// 1. The heartbeat on the primary. Any answer, even an error, means it is reachable.
	var seq int64
	if primary != nil {
		var err error
		seq, err = heartbeat.Beat(qctx, primary)
		m.PrimaryReachable = err == nil || pgconnect.Answered(err)
		m.PrimaryErr = err
	}

	// 2. Wait for the heartbeat on the replica, then read its WAL positions.
	var rs replicaState
	var waited time.Duration
	var hb heartbeat.State
	if replica != nil {
		var err error
		if seq > 0 {
			m.HeartbeatSeen, waited, hb, err = heartbeat.Wait(qctx, replica, seq, c.HeartbeatWait, pollInterval)
		}
		if err == nil {
			err = replica.QueryRow(qctx, `SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text,
  pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()`).Scan(&rs.inRecovery, &rs.receiveLSN, &rs.replayLSN, &rs.lastReplay)
		}
		m.ReplicaReachable = err == nil || pgconnect.Answered(err)
		m.ReplicaErr = err
		if err == nil {
			m.InRecovery = &rs.inRecovery
		}
	}
	if m.PrimaryErr != nil || m.ReplicaErr != nil || !m.ReplicaReachable {
		return m
	}
	if !rs.inRecovery {
		m.ReplicaErr = errors.New("the replica is not in recovery: it has been promoted, there is no replication to measure")
		return m
	}

	// 3. Byte lag against the primary's current WAL position, computed by the primary.
	var lagBytes, receiveBytes *float64
	var primaryNow time.Time
	err := primary.QueryRow(qctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8,
  pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn)::float8, clock_timestamp()`, rs.replayLSN, rs.receiveLSN).Scan(&lagBytes, &receiveBytes, &primaryNow)
	if err != nil {
		m.PrimaryErr = err
		m.PrimaryReachable = pgconnect.Answered(err)
		return m
	}
	m.ReplicationLagBytes = nonNegative(lagBytes)
	m.ReceiveLagBytes = nonNegative(receiveBytes)

	// 4. Seconds: how long the heartbeat took to arrive, or how old the replica's newest commit is.
	secs := lagSeconds(waited, m.HeartbeatSeen, hb.WrittenAt, rs.lastReplay, primaryNow)
	m.ReplicationLagSeconds = &secs
	return m
}

// lagSeconds is how long the heartbeat took to arrive. When it did not arrive within the
// wait, the replica is at least that far behind, and the age of the newest commit it has
// replayed (its last replayed transaction, or the last heartbeat it has, whichever is
// newer; the heartbeats keep this fresh on an idle primary) says how far.
func lagSeconds(waited time.Duration, seen bool, lastHeartbeat time.Time, lastReplay *time.Time, primaryNow time.Time) float64 {
	secs := waited.Seconds()
	if seen {
		return secs
	}
	last := lastHeartbeat
	if lastReplay != nil && lastReplay.After(last) {
		last = *lastReplay
	}
	if last.IsZero() {
		return secs
	}
	return max(secs, primaryNow.Sub(last).Seconds())
}

func nonNegative(v *float64) *float64 {
	if v == nil {
		return nil
	}
	x := max(*v, 0)
	return &x
}

func closeConn(c *pgx.Conn) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx)
}
