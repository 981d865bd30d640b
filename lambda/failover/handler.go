package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgconnect"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// What an invocation did.
const (
	// ActionIgnored: the event is not the ALARM state of the configured alarm.
	ActionIgnored = "ignored"
	// ActionRefused: the primary answers, so promoting the replica would make two primaries.
	ActionRefused = "refused"
	// ActionPromoted: the replica was promoted and takes writes. The record points at it
	// unless Summary.DNSUpdated says otherwise: a failed DNS change does not fail the run.
	ActionPromoted = "promoted"
	// ActionResumed: the replica had been promoted already (an earlier invocation that
	// failed half-way, or by hand); the remaining steps were done, the DNS change best effort
	// as for ActionPromoted.
	ActionResumed = "resumed"
	// ActionAlreadyDone: the replica had been promoted and the record points at it; nothing
	// was changed.
	ActionAlreadyDone = "already-failed-over"
	// ActionFailed: a step failed; see Error. The Lambda returns the error, so EventBridge's
	// retries run it again, which resumes where it stopped.
	ActionFailed = "failed"
)

// Handler is the failover orchestrator.
type Handler struct {
	Env     config.Lookup
	Secrets *secrets.Source
	RDS     RDSAPI
	Route53 Route53API
	SNS     SNSAPI
	Log     *slog.Logger
	Now     func() time.Time
}

// RDSAPI is the part of the RDS API the Handler uses.
type RDSAPI interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, opts ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	PromoteReadReplica(ctx context.Context, in *rds.PromoteReadReplicaInput, opts ...func(*rds.Options)) (*rds.PromoteReadReplicaOutput, error)
}

// Route53API is the part of the Route53 API the Handler uses.
type Route53API interface {
	ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
}

// SNSAPI is the part of the SNS API the Handler uses.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// NewHandler returns a Handler that calls AWS with cfg and reads its configuration from env.
func NewHandler(cfg aws.Config, env config.Lookup, log *slog.Logger) *Handler {
	return &Handler{
		Env:     env,
		Secrets: secrets.NewSource(secretsmanager.NewFromConfig(cfg)),
		RDS:     rds.NewFromConfig(cfg),
		Route53: route53.NewFromConfig(cfg),
		SNS:     sns.NewFromConfig(cfg),
		Log:     log,
		Now:     time.Now,
	}
}

// Summary is what an invocation did, returned to the caller and sent to SNS.
type Summary struct {
	Action            string `json:"action"`
	Reason            string `json:"reason,omitempty"`
	Alarm             string `json:"alarm,omitempty"`
	ReplicaInstanceID string `json:"replicaInstanceId,omitempty"`
	Endpoint          string `json:"endpoint,omitempty"`
	Record            string `json:"record,omitempty"`
	DNSChangeID       string `json:"dnsChangeId,omitempty"`
	// DNSUpdated says whether the PRIMARY record points at Endpoint at the end of the run
	// (changed by it, or already): false when Route53 failed or did not answer within
	// DNS_TIMEOUT, which does not fail the run (see DNSError). Unset when the run did not get
	// that far.
	DNSUpdated *bool  `json:"dnsUpdated,omitempty"`
	DNSError   string `json:"dnsError,omitempty"`
	// PromoteReissues counts the PromoteReadReplica requests sent after the first, because
	// the replica was seen available and still a replica (RDS refused the first one while it
	// was backing up, say).
	PromoteReissues int `json:"promoteReissues,omitempty"`
	// PromoteRefusal is RDS's last InvalidDBInstanceState refusal of PromoteReadReplica.
	PromoteRefusal string  `json:"promoteRefusal,omitempty"`
	PrimaryProbe   string  `json:"primaryProbe,omitempty"`
	Error          string  `json:"error,omitempty"`
	Timings        Timings `json:"timings"`
}

// Timings are the moments of a failover and the durations between them.
type Timings struct {
	AlarmAt            time.Time `json:"alarmAt,omitzero"`
	ReceivedAt         time.Time `json:"receivedAt,omitzero"`
	PromoteRequestedAt time.Time `json:"promoteRequestedAt,omitzero"`
	AvailableAt        time.Time `json:"availableAt,omitzero"`
	WritableAt         time.Time `json:"writableAt,omitzero"`
	DNSUpdatedAt       time.Time `json:"dnsUpdatedAt,omitzero"`
	FinishedAt         time.Time `json:"finishedAt,omitzero"`

	AlarmToWritableMs     float64 `json:"alarmToWritableMs,omitempty"`
	ReceivedToWritableMs  float64 `json:"receivedToWritableMs,omitempty"`
	PromoteToAvailableMs  float64 `json:"promoteToAvailableMs,omitempty"`
	AvailableToWritableMs float64 `json:"availableToWritableMs,omitempty"`
}

func ms(from, to time.Time) float64 {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return float64(to.Sub(from).Microseconds()) / 1000
}

func (t *Timings) compute() {
	t.AlarmToWritableMs = ms(t.AlarmAt, t.WritableAt)
	t.ReceivedToWritableMs = ms(t.ReceivedAt, t.WritableAt)
	t.PromoteToAvailableMs = ms(t.PromoteRequestedAt, t.AvailableAt)
	t.AvailableToWritableMs = ms(t.AvailableAt, t.WritableAt)
}

// Handle acts on an EventBridge "CloudWatch Alarm State Change" event: on the ALARM state of
// its alarm it promotes the replica, unless the primary still answers. It is idempotent: an
// event after a finished failover reports and changes nothing; an event after a failover that
// stopped half-way finishes it.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) (Summary, error) {
	received := h.now()
	c, err := config.LoadFailover(h.Env)
	if err != nil {
		return Summary{}, err
	}
	a, ignore := parseAlarm(ev, c.AlarmName)
	if ignore != "" {
		s := Summary{Action: ActionIgnored, Reason: ignore}
		h.log(s)
		return s, nil
	}
	s := Summary{
		Alarm: a.Name, ReplicaInstanceID: c.ReplicaInstanceID, Record: c.RecordName,
		Timings: Timings{AlarmAt: a.Since, ReceivedAt: received},
	}
	err = h.failover(ctx, c, &s)
	if err != nil {
		s.Action, s.Error = ActionFailed, err.Error()
	}
	s.Timings.FinishedAt = h.now()
	s.Timings.compute()
	h.log(s)
	if nerr := h.notify(ctx, c, s); nerr != nil && err == nil {
		err = nerr
	}
	return s, err
}

func (h *Handler) failover(ctx context.Context, c config.Failover, s *Summary) error {
	creds, err := h.Secrets.Get(ctx, c.SecretARN)
	if err == nil {
		creds, err = secrets.WithUsername(creds, c.Username)
	}
	if err != nil {
		return err
	}
	inst, err := h.describe(ctx, c.ReplicaInstanceID)
	if err != nil {
		return err
	}
	if isReplica(inst) {
		answered, detail := h.probePrimary(ctx, c, creds)
		s.PrimaryProbe = detail
		if answered {
			s.Action = ActionRefused
			s.Reason = fmt.Sprintf("the primary at %s answers (%s); promoting %s now would make two primaries", c.Primary, detail, c.ReplicaInstanceID)
			return nil
		}
		if err := h.promote(ctx, c, s); err != nil {
			return err
		}
		s.Action = ActionPromoted
	} else {
		endpoint := address(inst, c)
		points, err := h.recordPointsAtWithin(ctx, c, endpoint)
		if err != nil {
			// Route53's control plane may be down with the primary's region: finish the
			// failover; updateRecord tries the record again and reports it.
			h.warn("cannot tell whether the record points at the promoted replica; finishing the failover", c, err, creds)
		}
		if points && status(inst) == "available" {
			s.Action, s.Endpoint, s.DNSUpdated = ActionAlreadyDone, endpoint, aws.Bool(true)
			s.Reason = fmt.Sprintf("%s is no longer a replica and %s already points at it", c.ReplicaInstanceID, c.RecordName)
			return nil
		}
		s.Action = ActionResumed
		s.Reason = fmt.Sprintf("%s is no longer a replica; finishing the failover", c.ReplicaInstanceID)
	}
	deadline := h.now().Add(c.PromoteTimeout)
	inst, err = h.waitPromoted(ctx, c, s, deadline)
	if err != nil {
		return err
	}
	s.Timings.AvailableAt = h.now()
	s.Endpoint = address(inst, c)
	h.liftSwitchoverFence(ctx, c, creds)
	if err := h.waitWritable(ctx, c, creds, deadline); err != nil {
		return err
	}
	s.Timings.WritableAt = h.now()
	h.updateRecord(ctx, c, s, creds)
	return nil
}

// updateRecord points the PRIMARY failover record at the promoted instance, best effort, within
// DNS_TIMEOUT. Route53's control plane is in us-east-1, often the failed primary's region,
// while its data plane is global: the PRIMARY record's health check already sends clients to
// the SECONDARY record, which names the replica. So a failed or late change is reported in the
// summary and the notification, and does not fail the failover.
func (h *Handler) updateRecord(ctx context.Context, c config.Failover, s *Summary, creds secrets.Credentials) {
	dctx, cancel := context.WithTimeout(ctx, c.DNSTimeout)
	defer cancel()
	id, err := h.pointRecord(dctx, c, s.Endpoint)
	if err != nil {
		if dctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("cannot update the record within %s (%s): %w", c.DNSTimeout, contract.EnvDNSTimeout, err)
		}
		s.DNSUpdated, s.DNSError = aws.Bool(false), pgconnect.Redact(err, creds)
		h.warn("the record was not updated; the PRIMARY record's health check sends clients to the SECONDARY record", c, err, creds)
		return
	}
	s.DNSUpdated, s.DNSChangeID = aws.Bool(true), id
	s.Timings.DNSUpdatedAt = h.now()
}

// recordPointsAtWithin is recordPointsAt bounded by DNS_TIMEOUT.
func (h *Handler) recordPointsAtWithin(ctx context.Context, c config.Failover, endpoint string) (bool, error) {
	dctx, cancel := context.WithTimeout(ctx, c.DNSTimeout)
	defer cancel()
	return h.recordPointsAt(dctx, c, endpoint)
}

func (h *Handler) warn(msg string, c config.Failover, err error, creds secrets.Credentials) {
	if h.Log == nil {
		return
	}
	h.Log.Warn(msg, "replica", c.ReplicaInstanceID, "record", c.RecordName, "error", pgconnect.Redact(err, creds))
}

func (h *Handler) log(s Summary) {
	if h.Log == nil {
		return
	}
	level := slog.LevelInfo
	switch {
	case s.Action == ActionFailed:
		level = slog.LevelError
	case s.DNSUpdated != nil && !*s.DNSUpdated:
		level = slog.LevelWarn
	}
	attrs := []any{
		"action", s.Action, "reason", s.Reason, "replica", s.ReplicaInstanceID,
		"endpoint", s.Endpoint, "error", s.Error, "alarmToWritableMs", s.Timings.AlarmToWritableMs,
	}
	if s.DNSUpdated != nil {
		attrs = append(attrs, "dnsUpdated", *s.DNSUpdated, "dnsError", s.DNSError)
	}
	if s.PromoteReissues > 0 {
		attrs = append(attrs, "promoteReissues", s.PromoteReissues, "promoteRefusal", s.PromoteRefusal)
	}
	h.Log.Log(context.Background(), level, "failover", attrs...)
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
