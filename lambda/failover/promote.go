package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/heartbeat"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgconnect"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// applicationName is how the Lambda shows in pg_stat_activity.
const applicationName = "pgdr-failover"

func (h *Handler) describe(ctx context.Context, id string) (types.DBInstance, error) {
	out, err := h.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return types.DBInstance{}, fmt.Errorf("cannot describe DB instance %s (%s): %w", id, contract.EnvReplicaInstanceID, err)
	}
	if len(out.DBInstances) != 1 {
		return types.DBInstance{}, fmt.Errorf("cannot describe DB instance %s: %d instances returned", id, len(out.DBInstances))
	}
	return out.DBInstances[0], nil
}

func isReplica(i types.DBInstance) bool {
	return aws.ToString(i.ReadReplicaSourceDBInstanceIdentifier) != ""
}

func status(i types.DBInstance) string {
	return aws.ToString(i.DBInstanceStatus)
}

// address is the instance's endpoint, or REPLICA_HOST when RDS does not say.
func address(i types.DBInstance, c config.Failover) string {
	if i.Endpoint != nil && aws.ToString(i.Endpoint.Address) != "" {
		return aws.ToString(i.Endpoint.Address)
	}
	return c.Replica.Host
}

// probePrimary reports whether a PostgreSQL server answers at the primary's address, trying
// contract.PrimaryProbeAttempts times. Any answer counts, even a refused login or a certificate
// that does not verify: something is alive there.
func (h *Handler) probePrimary(ctx context.Context, c config.Failover, creds secrets.Credentials) (bool, string) {
	var detail string
	for i := range contract.PrimaryProbeAttempts {
		if i > 0 {
			if sleep(ctx, contract.PrimaryProbeInterval) != nil {
				break
			}
		}
		conn, err := pgconnect.Connect(ctx, pgconnect.NewTarget(c.DB, c.Primary, creds, applicationName))
		if err == nil {
			var inRecovery bool
			qerr := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery)
			_ = conn.Close(context.Background())
			if qerr == nil {
				return true, fmt.Sprintf("connected; in recovery: %t", inRecovery)
			}
			err = qerr
		}
		detail = pgconnect.Redact(err, creds)
		if pgconnect.Answered(err) {
			return true, detail
		}
	}
	return false, fmt.Sprintf("no answer after %d attempts: %s", contract.PrimaryProbeAttempts, detail)
}

// requestPromotion sends PromoteReadReplica. RDS refuses it with InvalidDBInstanceState while a
// promotion is under way and while the replica is backing up; that refusal is returned as text
// (code: message), not as an error, for the caller to wait and ask again.
func (h *Handler) requestPromotion(ctx context.Context, c config.Failover) (refusal string, err error) {
	_, err = h.RDS.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String(c.ReplicaInstanceID)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "InvalidDBInstanceState" {
		return ae.ErrorCode() + ": " + ae.ErrorMessage(), nil
	}
	return "", err
}

// promote asks RDS to promote the replica and notes when it first asked. A refusal
// (InvalidDBInstanceState: a promotion under way, or a replica that is backing up) is not an
// error: waitPromoted waits, and asks again once the replica is available.
func (h *Handler) promote(ctx context.Context, c config.Failover, s *Summary) error {
	s.Timings.PromoteRequestedAt = h.now()
	refusal, err := h.requestPromotion(ctx, c)
	if err != nil {
		return fmt.Errorf("cannot promote read replica %s: %w", c.ReplicaInstanceID, err)
	}
	if refusal != "" {
		s.PromoteRefusal = refusal
		if h.Log != nil {
			h.Log.Warn("promotion refused; waiting, and asking again once the replica is available", "replica", c.ReplicaInstanceID, "refusal", refusal)
		}
	}
	return nil
}

// reissuePromotion asks RDS again to promote a replica that is available: nothing promotes it,
// for RDS refused the first request (it was backing up, say). It counts the request in the
// summary; the promotion's start stays the first request's.
func (h *Handler) reissuePromotion(ctx context.Context, c config.Failover, s *Summary) error {
	s.PromoteReissues++
	refusal, err := h.requestPromotion(ctx, c)
	if err != nil {
		return fmt.Errorf("cannot re-issue the promotion of read replica %s: %w", c.ReplicaInstanceID, err)
	}
	if refusal != "" {
		s.PromoteRefusal = refusal
	}
	if h.Log != nil {
		h.Log.Warn("re-issued the promotion: the replica was available and still a replica", "replica", c.ReplicaInstanceID,
			"reissue", s.PromoteReissues, "accepted", refusal == "", "refusal", refusal)
	}
	return nil
}

// waitPromoted polls DescribeDBInstances every POLL_INTERVAL until the instance is available
// and no longer a replica. An instance seen available and still a replica is not being
// promoted, so PromoteReadReplica is re-issued.
func (h *Handler) waitPromoted(ctx context.Context, c config.Failover, s *Summary, deadline time.Time) (types.DBInstance, error) {
	for {
		i, err := h.describe(ctx, c.ReplicaInstanceID)
		if err == nil && status(i) == "available" {
			if !isReplica(i) {
				return i, nil
			}
			if err := h.reissuePromotion(ctx, c, s); err != nil {
				return i, err
			}
		}
		if h.now().After(deadline) {
			if err != nil {
				return i, fmt.Errorf("%s was not promoted within %s (%s): %w", c.ReplicaInstanceID, c.PromoteTimeout, contract.EnvPromoteTimeout, err)
			}
			return i, notPromoted(c, i, s)
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return i, fmt.Errorf("cannot wait for %s to be promoted: %w", c.ReplicaInstanceID, err)
		}
	}
}

// notPromoted is the error of an instance that was not promoted in time: its state, and why
// RDS refused to promote it.
func notPromoted(c config.Failover, i types.DBInstance, s *Summary) error {
	msg := fmt.Sprintf("%s was not promoted within %s (%s): status %s, replica of %q", c.ReplicaInstanceID, c.PromoteTimeout,
		contract.EnvPromoteTimeout, status(i), aws.ToString(i.ReadReplicaSourceDBInstanceIdentifier))
	if status(i) == "backing-up" {
		msg += "; RDS does not promote a read replica while it is backing up"
	}
	if s.PromoteRefusal != "" {
		msg += fmt.Sprintf("; PromoteReadReplica refused: %s", s.PromoteRefusal)
	}
	if s.PromoteReissues > 0 {
		msg += "; re-issued " + times(s.PromoteReissues)
	}
	return errors.New(msg)
}

// times is "once" or "n times".
func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// waitWritable writes the heartbeat on the promoted replica every POLL_INTERVAL until a write
// commits.
func (h *Handler) waitWritable(ctx context.Context, c config.Failover, creds secrets.Credentials, deadline time.Time) error {
	for {
		err := writeHeartbeat(ctx, c, creds)
		if err == nil {
			return nil
		}
		if h.now().After(deadline) {
			return fmt.Errorf("%s at %s did not take a write within %s (%s): %s", c.ReplicaInstanceID, c.Replica, c.PromoteTimeout,
				contract.EnvPromoteTimeout, pgconnect.Redact(err, creds))
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return fmt.Errorf("cannot wait for %s to take writes: %w", c.ReplicaInstanceID, err)
		}
	}
}

func writeHeartbeat(ctx context.Context, c config.Failover, creds secrets.Credentials) error {
	conn, err := pgconnect.Connect(ctx, pgconnect.NewTarget(c.DB, c.Replica, creds, applicationName))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // nothing to do about it
	qctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout)
	defer cancel()
	_, err = heartbeat.Beat(qctx, conn)
	return err
}
