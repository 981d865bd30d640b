package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/jackc/pgx/v5"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgconnect"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// switchover is one run of a planned switchover.
type switchover struct {
	h     *Handler
	c     config.Failover
	r     request
	creds secrets.Credentials
	res   contract.SwitchoverResult
	// fs carries the promotion's and the DNS change's state for the helpers the failover path
	// uses too.
	fs Summary
	// fencedAt is when the writer's databases were set read-only, on the Lambda's clock.
	fencedAt time.Time
	// rc is the connection to the replica for the catch-up, and replicaErr its last error.
	rc         *pgx.Conn
	replicaErr error
}

// Switchover runs a planned switchover: fence the writer (PRIMARY_HOST), wait until the replica
// (REPLICA_HOST, REPLICA_INSTANCE_ID) has replayed its last WAL, promote the replica and point
// the PRIMARY record at it (best effort). It returns the result for both outcomes, Promoted and
// Aborted; an error means a step failed in a way a retry can fix, and the same request again
// resumes safely: fencing is idempotent, a promoted replica is never promoted again, and the old
// writer is never unfenced once the replica was promoted.
func (h *Handler) Switchover(ctx context.Context, r request) (contract.SwitchoverResult, error) {
	c, err := config.LoadFailover(h.Env)
	if err != nil {
		return contract.SwitchoverResult{}, err
	}
	s := &switchover{h: h, c: c, r: r, res: contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: r.ID}}
	s.fs = Summary{ReplicaInstanceID: c.ReplicaInstanceID, Record: c.RecordName}
	if r.Delete {
		s.res.Outcome = contract.SwitchoverIgnored
		s.res.Reason = "Terraform's delete of the Invocation (lifecycle_scope CRUD): a delete never switches over"
		h.logSwitchover(c, s.res, nil)
		return s.res, nil
	}
	err = s.run(ctx)
	if err != nil {
		err = errors.New(pgconnect.Redact(err, s.creds))
	}
	h.logSwitchover(c, s.res, err)
	h.notifySwitchover(ctx, c, s.res, err)
	if err != nil {
		return contract.SwitchoverResult{}, err
	}
	return s.res, nil
}

func (s *switchover) step(name, detail string) {
	s.res.Steps = append(s.res.Steps, contract.SwitchoverStep{Step: name, At: s.h.now().UTC(), Detail: detail})
}

func (s *switchover) run(ctx context.Context) error {
	creds, err := s.h.Secrets.Get(ctx, s.c.SecretARN)
	if err == nil {
		creds, err = secrets.WithUsername(creds, s.c.Username)
	}
	if err != nil {
		return err
	}
	s.creds = creds
	inst, err := s.h.describe(ctx, s.c.ReplicaInstanceID)
	if err != nil {
		return err
	}
	if !isReplica(inst) {
		return s.resume(ctx, inst)
	}
	switch st := status(inst); st {
	case "available":
	case "backing-up":
		s.abort(fmt.Sprintf("%s is backing up, and RDS does not promote a read replica while it backs up (PromoteReadReplica is refused): nothing was fenced. "+
			"Try again once the backup has ended", s.c.ReplicaInstanceID))
		return nil
	default:
		return fmt.Errorf("cannot switch over to %s: it is %s, not available; nothing was fenced (if a promotion of it is under way, the next attempt finishes the switchover)",
			s.c.ReplicaInstanceID, st)
	}
	if reason := s.budget(ctx); reason != "" {
		s.abort(reason)
		return nil
	}
	w, err := pgconnect.Connect(ctx, pgconnect.NewTarget(s.c.DB, s.c.Primary, creds, applicationName))
	if err != nil {
		if pgconnect.Answered(err) {
			s.abort(fmt.Sprintf("the writer at %s answers but the connection failed (%s): check %s and %s; nothing was fenced or promoted",
				s.c.Primary, pgconnect.Redact(err, creds), contract.EnvDBSecretARN, contract.EnvSSLRootCert))
			return nil
		}
		s.abort(fmt.Sprintf("the writer at %s does not answer (%s): a planned switchover needs the writer, to fence it and to wait for the replica to have all of its WAL; "+
			"nothing was fenced or promoted. If the writer's region is down, use the failover path (the DR alarm promotes the replica)", s.c.Primary, pgconnect.Redact(err, creds)))
		return nil
	}
	defer w.Close(context.Background()) //nolint:errcheck // nothing to do about it
	// The catch-up's connection, opened before anything is fenced: a replica the Lambda cannot
	// reach could never be seen to catch up.
	rc, err := pgconnect.Connect(ctx, pgconnect.NewTarget(s.c.DB, s.c.Replica, creds, applicationName))
	if err != nil {
		s.abort(fmt.Sprintf("the replica %s at %s does not take the Lambda's connection (%s): the switchover must see it replay the writer's WAL; nothing was fenced or promoted",
			s.c.ReplicaInstanceID, s.c.Replica, pgconnect.Redact(err, creds)))
		return nil
	}
	s.rc = rc
	defer func() {
		if s.rc != nil {
			_ = s.rc.Close(context.Background())
		}
	}()
	return s.fenceAndPromote(ctx, w)
}

// budget says why the invocation cannot finish a switchover in its remaining time, or "".
func (s *switchover) budget(ctx context.Context) string {
	dl, ok := ctx.Deadline()
	if !ok {
		return ""
	}
	need := s.r.CatchUpTimeout + s.c.PromoteTimeout + contract.SwitchoverOverhead
	left := time.Until(dl)
	if left >= need {
		return ""
	}
	return fmt.Sprintf("the invocation has %s left and a switchover may need %s (catchUpTimeoutSeconds %s + %s %s + %s): nothing was fenced. "+
		"Raise the failover Lambda's timeout, or lower catchUpTimeoutSeconds or %s",
		left.Round(time.Second), need, s.r.CatchUpTimeout, contract.EnvPromoteTimeout, s.c.PromoteTimeout, contract.SwitchoverOverhead, contract.EnvPromoteTimeout)
}

// abort ends the switchover as Aborted without touching the writer.
func (s *switchover) abort(reason string) {
	s.res.Outcome, s.res.Reason = contract.SwitchoverAborted, reason
}

// preflight says why the writer cannot be fenced safely, or "": it is a replica, its sessions
// are hidden from the Lambda's user, or role settings would keep sessions read-write.
func preflight(ctx context.Context, w *pgx.Conn, c config.Failover) (string, error) {
	var inRecovery bool
	if err := w.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
		return "", fmt.Errorf("cannot ask the writer whether it is in recovery: %w", err)
	}
	if inRecovery {
		return fmt.Sprintf("the server at %s (%s) is in recovery, a replica, not the writer: nothing was fenced or promoted", c.Primary, contract.EnvPrimaryHost), nil
	}
	n, err := hiddenSessions(ctx, w)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return fmt.Sprintf("the database user cannot see %d of the writer's sessions in pg_stat_activity, so it cannot end them: grant it pg_read_all_stats "+
			"(the RDS master user, rds_superuser, sees every session); nothing was fenced", n), nil
	}
	rw, err := readWriteRoles(ctx, w)
	if err != nil {
		return "", err
	}
	if len(rw) > 0 {
		return fmt.Sprintf("role settings make new sessions read-write whatever the database's default (ALTER ROLE … SET default_transaction_read_only = off): %s. "+
			"The fence would not stop their writes, which the promotion could lose: RESET that setting; nothing was fenced", list(rw)), nil
	}
	return "", nil
}

func (s *switchover) fenceAndPromote(ctx context.Context, w *pgx.Conn) error {
	if err := prepareSession(ctx, w); err != nil {
		return err
	}
	reason, err := preflight(ctx, w, s.c)
	if err != nil {
		return err
	}
	if reason != "" {
		s.abort(reason)
		return nil
	}
	prev, err := readSwitchover(ctx, w, s.r.ID)
	if err != nil {
		return err
	}
	var previous []string
	switch {
	case prev != nil && prev.Outcome == contract.SwitchoverPromoted:
		// The same switchover, done, and the roles changed since (a fail-back made the promoted
		// instance the writer again): the same ID is the same switchover.
		s.res = *prev
		return nil
	case prev != nil && prev.Outcome == outcomeInProgress:
		previous = prev.FencedDatabases
	}
	dbs, err := listDatabases(ctx, w)
	if err != nil {
		return err
	}
	s.res.FencedDatabases = toFence(dbs, previous)

	// The row names what will be fenced before anything is, and replicates with the fence: a
	// run that stops half-way leaves what the next one (or a promoted replica) needs to reset.
	s.res.Outcome = outcomeInProgress
	if err := writeSwitchover(ctx, w, s.res); err != nil {
		return err
	}
	plan := s.res.FencedDatabases
	done, err := setReadOnly(ctx, w, plan, true)
	s.fencedAt = s.h.now()
	if err != nil {
		// Unfence what this run fenced, and what an earlier run of it did past the database
		// that failed.
		for _, db := range plan[len(done)+1:] {
			if slices.Contains(previous, db) {
				done = append(done, db)
			}
		}
		s.res.FencedDatabases = done
		return s.unfence(ctx, w, fmt.Sprintf("cannot fence the writer: %s. The Lambda's database user must own each database or be a member of its owner's role "+
			"(GRANT <owner> TO <user>)", pgconnect.Redact(err, s.creds)))
	}
	s.step(contract.StepFenced, "default_transaction_read_only = on in "+list(done))
	serverFencedAt, err := serverNow(ctx, w)
	if err != nil {
		return s.unfence(ctx, w, pgconnect.Redact(err, s.creds))
	}
	e, err := endSessions(ctx, w, serverFencedAt, sessionsEndTimeout)
	if err != nil {
		return s.unfence(ctx, w, "cannot end the writer's other sessions: "+pgconnect.Redact(err, s.creds))
	}
	s.step(contract.StepSessionsEnded, fmt.Sprintf("terminated %d client sessions (roles: %s); no other session holds a write transaction", e.Terminated, list(e.Roles)))
	fenced, err := markFence(ctx, w)
	if err != nil {
		return s.unfence(ctx, w, pgconnect.Redact(err, s.creds))
	}
	s.res.FencedLSN = fenced.String()

	rp, caughtUp, err := s.catchUp(ctx, fenced)
	if err != nil {
		return err
	}
	if !caughtUp {
		return s.catchUpTimedOut(ctx, w, fenced, rp)
	}
	return s.promote(ctx)
}

// catchUp polls the replica until it has replayed the writer's WAL up to fenced, at most the
// request's catch-up timeout. It returns the replica's last replay state and whether it caught
// up. An unreachable replica is polled again until the deadline.
func (s *switchover) catchUp(ctx context.Context, fenced lsn) (replay, bool, error) {
	start := s.h.now()
	deadline := start.Add(s.r.CatchUpTimeout)
	var last replay
	pause := time.Millisecond
	for {
		if s.rc == nil {
			s.rc, s.replicaErr = pgconnect.Connect(ctx, pgconnect.NewTarget(s.c.DB, s.c.Replica, s.creds, applicationName))
		}
		if s.rc != nil {
			rp, err := readReplay(ctx, s.rc)
			switch {
			case err != nil:
				s.replicaErr = err
				_ = s.rc.Close(context.Background())
				s.rc = nil
			case !rp.InRecovery:
				// Not this run's doing: it has not asked RDS to promote. Leave the writer fenced.
				return rp, false, fmt.Errorf("%s left recovery during the switchover, before it was asked to promote (promoted by someone else?): "+
					"the old writer stays fenced; the next attempt reports the promoted replica", s.c.ReplicaInstanceID)
			case rp.LSN >= fenced:
				s.res.CatchUpMs = s.h.now().Sub(start).Milliseconds()
				s.step(contract.StepCaughtUp, fmt.Sprintf("replica replayed %s, fenced at %s", rp.LSN, fenced))
				return rp, true, nil
			default:
				last = rp
			}
		}
		if s.h.now().After(deadline) {
			// last.LSN is 0 when the replica never answered.
			return last, false, nil
		}
		if err := sleep(ctx, pause); err != nil {
			return last, false, fmt.Errorf("cannot wait for %s to catch up: %w", s.c.ReplicaInstanceID, err)
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// catchUpTimedOut aborts a switchover whose replica did not catch up in time: the writer is
// unfenced, unless the replica is being promoted meanwhile (then an error, and the writer stays
// fenced).
func (s *switchover) catchUpTimedOut(ctx context.Context, w *pgx.Conn, fenced lsn, rp replay) error {
	inst, err := s.h.describe(ctx, s.c.ReplicaInstanceID)
	if err != nil {
		return fmt.Errorf("the replica did not catch up within %s, and it cannot be told whether it is being promoted, so the writer stays fenced: %w", s.r.CatchUpTimeout, err)
	}
	if st := status(inst); !isReplica(inst) || (st != "available" && st != "backing-up") {
		return fmt.Errorf("the replica did not catch up within %s and is %s (replica: %t): it may be being promoted, so the writer stays fenced; "+
			"the next attempt reports the promoted replica", s.r.CatchUpTimeout, st, isReplica(inst))
	}
	var why string
	if rp.LSN == 0 {
		why = fmt.Sprintf("the replica at %s did not answer within %s (catchUpTimeoutSeconds: %s); the writer is at %s",
			s.c.Replica, s.r.CatchUpTimeout, pgconnect.Redact(s.replicaErr, s.creds), fenced)
	} else {
		why = fmt.Sprintf("the replica replayed %s and the writer is at %s: %d bytes behind after %s (catchUpTimeoutSeconds)",
			rp.LSN, fenced, uint64(fenced-rp.LSN), s.r.CatchUpTimeout)
	}
	if rp.Paused {
		why += "; replay is paused on the replica (pg_wal_replay_pause(); pg_wal_replay_resume() resumes it)"
	}
	return s.unfence(ctx, w, why+". Check the replica's replay (is it paused? lagging? see "+contract.MetricReplicationLagBytes+
		"), then set spec.activeRegion back, or try again")
}

// unfence resets what this switchover fenced on the writer and ends it as Aborted; the writer
// takes writes again. Only before PromoteReadReplica was sent.
func (s *switchover) unfence(ctx context.Context, w *pgx.Conn, why string) error {
	done, err := setReadOnly(ctx, w, s.res.FencedDatabases, false)
	if err != nil {
		return fmt.Errorf("%s; and cannot unfence the writer, which stays read-only in %s (the same request again retries; or run ALTER DATABASE … RESET default_transaction_read_only): %w",
			why, list(s.res.FencedDatabases), err)
	}
	if !s.fencedAt.IsZero() {
		s.res.WriteUnavailableMs = s.h.now().Sub(s.fencedAt).Milliseconds()
	}
	s.step(contract.StepUnfenced, "default_transaction_read_only reset in "+list(done))
	s.abort(why + "; nothing was promoted, and the writer takes writes again (unfenced " + list(done) + ")")
	if err := writeSwitchover(ctx, w, s.res); err != nil {
		s.h.warnSwitchover("cannot record the aborted switchover on the writer", s.c, err, s.creds)
	}
	return nil
}

// promote promotes the caught-up replica, makes it writable and points the record at it.
func (s *switchover) promote(ctx context.Context) error {
	if s.rc != nil {
		if rp, err := readReplay(ctx, s.rc); err == nil {
			s.res.ReplicaLSN = rp.LSN.String()
		}
		// RDS restarts the instance as it promotes it.
		_ = s.rc.Close(context.Background())
		s.rc = nil
	}
	if err := s.h.promote(ctx, s.c, &s.fs); err != nil {
		return fmt.Errorf("%w; the writer stays fenced, and the same request again retries", err)
	}
	detail := "PromoteReadReplica " + s.c.ReplicaInstanceID
	if s.fs.PromoteRefusal != "" {
		detail += "; refused: " + s.fs.PromoteRefusal + " (asked again once it is available)"
	}
	s.step(contract.StepPromoteRequested, detail)
	return s.finish(ctx, fmt.Sprintf("the writer was fenced, %s replayed all of its WAL (%s) and was promoted; the old writer stays read-only",
		s.c.ReplicaInstanceID, s.res.FencedLSN))
}

// finish waits for the promoted replica, resets the fence it replicated, proves it takes a
// write, records the result on it and points the record at it.
func (s *switchover) finish(ctx context.Context, reason string) error {
	deadline := s.h.now().Add(s.c.PromoteTimeout)
	inst, err := s.h.waitPromoted(ctx, s.c, &s.fs, deadline)
	if err != nil {
		return err
	}
	s.res.Endpoint = address(inst, s.c)
	if err := s.h.resetFence(ctx, s.c, s.creds, s.res.FencedDatabases, deadline); err != nil {
		return err
	}
	if err := s.h.waitWritable(ctx, s.c, s.creds, deadline); err != nil {
		return err
	}
	if !s.fencedAt.IsZero() {
		s.res.WriteUnavailableMs = s.h.now().Sub(s.fencedAt).Milliseconds()
	}
	s.step(contract.StepWritable, fmt.Sprintf("%s took a write; default_transaction_read_only reset in %s", s.res.Endpoint, list(s.res.FencedDatabases)))
	s.res.Outcome, s.res.Reason = contract.SwitchoverPromoted, reason
	if err := s.record(ctx); err != nil {
		return err
	}
	s.fs.Endpoint = s.res.Endpoint
	s.h.updateRecord(ctx, s.c, &s.fs, s.creds)
	s.res.DNSUpdated, s.res.DNSError = s.fs.DNSUpdated, s.fs.DNSError
	if s.fs.DNSUpdated != nil && *s.fs.DNSUpdated {
		s.step(contract.StepRecordUpdated, fmt.Sprintf("%s points at %s", s.c.RecordName, s.res.Endpoint))
	}
	if err := s.record(ctx); err != nil {
		s.h.warnSwitchover("cannot record the DNS change of the switchover", s.c, err, s.creds)
	}
	return nil
}

// record writes the result to the promoted replica.
func (s *switchover) record(ctx context.Context) error {
	conn, err := pgconnect.Connect(ctx, pgconnect.NewTarget(s.c.DB, s.c.Replica, s.creds, applicationName))
	if err != nil {
		return fmt.Errorf("cannot record the switchover on %s: %w", s.c.ReplicaInstanceID, err)
	}
	defer conn.Close(context.Background()) //nolint:errcheck // nothing to do about it
	if err := prepareSession(ctx, conn); err != nil {
		return err
	}
	return writeSwitchover(ctx, conn, s.res)
}

// resume handles a replica that is no longer a replica: this switchover promoted it (the same
// request again), or an earlier run of it stopped half-way, or someone else promoted it. It
// never promotes, and never touches the old writer.
func (s *switchover) resume(ctx context.Context, inst types.DBInstance) error {
	conn, err := pgconnect.Connect(ctx, pgconnect.NewTarget(s.c.DB, s.c.Replica, s.creds, applicationName))
	if err != nil {
		return fmt.Errorf("%s is no longer a replica, and cannot read its switchover record: %w", s.c.ReplicaInstanceID, err)
	}
	defer conn.Close(context.Background()) //nolint:errcheck // nothing to do about it
	if err := prepareSession(ctx, conn); err != nil {
		return err
	}
	prev, err := readSwitchover(ctx, conn, s.r.ID)
	if err != nil {
		return err
	}
	switch {
	case prev != nil && prev.Outcome == contract.SwitchoverPromoted:
		s.res = *prev
		return nil
	case prev != nil && prev.Outcome == outcomeInProgress:
		s.res = *prev
		return s.finish(ctx, fmt.Sprintf("%s had been promoted by an earlier run of this switchover that stopped before it recorded the result: this run finished it "+
			"(the old writer stays read-only)", s.c.ReplicaInstanceID))
	}
	s.res.Outcome = contract.SwitchoverPromoted
	s.res.Endpoint = address(inst, s.c)
	s.res.Reason = fmt.Sprintf("%s was already promoted (it is no longer a read replica) and has no record of this switchover: it was promoted by the failover path "+
		"or by hand; this run fenced and promoted nothing", s.c.ReplicaInstanceID)
	return writeSwitchover(ctx, conn, s.res)
}

// resetFence resets default_transaction_read_only, which the fence set on the writer and which
// replicated, in the promoted replica's databases, retrying until deadline (the instance may
// still be restarting). Sessions opened after the replica replayed the fence keep the
// read-only default until they reconnect.
func (h *Handler) resetFence(ctx context.Context, c config.Failover, creds secrets.Credentials, dbs []string, deadline time.Time) error {
	if len(dbs) == 0 {
		return nil
	}
	for {
		err := resetFenceOnce(ctx, c, creds, dbs)
		if err == nil {
			return nil
		}
		if h.now().After(deadline) {
			return fmt.Errorf("cannot reset default_transaction_read_only in %s on %s within %s (%s): %s", list(dbs), c.ReplicaInstanceID, c.PromoteTimeout,
				contract.EnvPromoteTimeout, pgconnect.Redact(err, creds))
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return fmt.Errorf("cannot wait for %s to reset its fence: %w", c.ReplicaInstanceID, err)
		}
	}
}

func resetFenceOnce(ctx context.Context, c config.Failover, creds secrets.Credentials, dbs []string) error {
	conn, err := pgconnect.Connect(ctx, pgconnect.NewTarget(c.DB, c.Replica, creds, applicationName))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // nothing to do about it
	if err := prepareSession(ctx, conn); err != nil {
		return err
	}
	_, err = setReadOnly(ctx, conn, dbs, false)
	return err
}

// liftSwitchoverFence is the failover path's part: a replica promoted while a switchover was
// under way (its row says InProgress) may have replayed the fence but not its reset; the
// promoted instance would then be read-only for new sessions. Best effort: a failure is logged,
// and the writable check that follows tells whether it matters.
func (h *Handler) liftSwitchoverFence(ctx context.Context, c config.Failover, creds secrets.Credentials) {
	err := func() error {
		conn, err := pgconnect.Connect(ctx, pgconnect.NewTarget(c.DB, c.Replica, creds, applicationName))
		if err != nil {
			return err
		}
		defer conn.Close(context.Background()) //nolint:errcheck // nothing to do about it
		if err := prepareSession(ctx, conn); err != nil {
			return err
		}
		dbs, err := inProgressFences(ctx, conn)
		if err != nil || len(dbs) == 0 {
			return err
		}
		if _, err := setReadOnly(ctx, conn, dbs, false); err != nil {
			return err
		}
		if h.Log != nil {
			h.Log.Warn("reset the fence of a switchover that was under way when the replica was promoted", "replica", c.ReplicaInstanceID, "databases", dbs)
		}
		return nil
	}()
	if err != nil {
		h.warn("cannot check for the fence of an interrupted switchover on the promoted replica", c, err, creds)
	}
}

// list is a list of names for a message, or "none".
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (h *Handler) warnSwitchover(msg string, c config.Failover, err error, creds secrets.Credentials) {
	if h.Log == nil {
		return
	}
	h.Log.Warn(msg, "replica", c.ReplicaInstanceID, "error", pgconnect.Redact(err, creds))
}

// logSwitchover logs the switchover's summary on one line.
func (h *Handler) logSwitchover(c config.Failover, r contract.SwitchoverResult, err error) {
	if h.Log == nil {
		return
	}
	level := slog.LevelInfo
	switch {
	case err != nil:
		level = slog.LevelError
	case r.Outcome == contract.SwitchoverAborted, r.DNSUpdated != nil && !*r.DNSUpdated:
		level = slog.LevelWarn
	}
	attrs := []any{
		"id", r.ID, "outcome", r.Outcome, "reason", r.Reason, "replica", c.ReplicaInstanceID, "endpoint", r.Endpoint,
		"fencedLsn", r.FencedLSN, "replicaLsn", r.ReplicaLSN, "writeUnavailableMs", r.WriteUnavailableMs, "catchUpMs", r.CatchUpMs,
		"fencedDatabases", r.FencedDatabases,
	}
	if r.DNSUpdated != nil {
		attrs = append(attrs, "dnsUpdated", *r.DNSUpdated, "dnsError", r.DNSError)
	}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	h.Log.Log(context.Background(), level, "switchover", attrs...)
}

// switchoverSubject is the SNS subject of a switchover: printable ASCII, under 100 characters.
func switchoverSubject(c config.Failover, r contract.SwitchoverResult, err error) string {
	outcome := r.Outcome
	if err != nil {
		outcome = "failed"
	}
	text := fmt.Sprintf("PostgresDR switchover %s: %s", outcome, c.ReplicaInstanceID)
	if r.DNSUpdated != nil && !*r.DNSUpdated {
		text += " (DNS not updated)"
	}
	return snsSubject(text)
}

// switchoverMessage is the text of a switchover's notification, then the result as JSON.
func switchoverMessage(c config.Failover, r contract.SwitchoverResult, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "PostgreSQL DR switchover %q to %s: %s\n", r.ID, c.ReplicaInstanceID, r.Outcome)
	if r.Reason != "" {
		fmt.Fprintf(&b, "Why: %s\n", r.Reason)
	}
	if err != nil {
		fmt.Fprintf(&b, "Error: %s\nThe same request again resumes the switchover.\n", err)
	}
	if r.FencedLSN != "" {
		fmt.Fprintf(&b, "WAL: writer fenced at %s; replica at %s when promoted\n", r.FencedLSN, r.ReplicaLSN)
	}
	if r.WriteUnavailableMs > 0 || r.CatchUpMs > 0 {
		fmt.Fprintf(&b, "Timings: writes unavailable %d ms; catch-up %d ms\n", r.WriteUnavailableMs, r.CatchUpMs)
	}
	if r.DNSUpdated != nil {
		if *r.DNSUpdated {
			fmt.Fprintf(&b, "DNS: %s points at %s\n", c.RecordName, r.Endpoint)
		} else {
			fmt.Fprintf(&b, "DNS: %s was NOT updated to point at %s: %s\n", c.RecordName, r.Endpoint, r.DNSError)
		}
	}
	b.WriteString("\n")
	j, jerr := json.MarshalIndent(r, "", "  ")
	if jerr != nil {
		fmt.Fprintf(&b, "(cannot encode the result as JSON: %v)\n", jerr)
		return b.String()
	}
	b.Write(j)
	return b.String()
}

// notifySwitchover publishes the switchover's result to the topic. A failure is logged, not
// returned: the result must reach the caller, and a retry would act again.
func (h *Handler) notifySwitchover(ctx context.Context, c config.Failover, r contract.SwitchoverResult, err error) {
	_, perr := h.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(c.TopicARN),
		Subject:  aws.String(switchoverSubject(c, r, err)),
		Message:  aws.String(switchoverMessage(c, r, err)),
	})
	if perr != nil && h.Log != nil {
		h.Log.Warn("cannot notify the topic of the switchover", "topic", c.TopicARN, "error", perr.Error())
	}
}
