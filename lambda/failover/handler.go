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

	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// What an invocation did.
const (
	// ActionIgnored: the event is not the ALARM state of the configured alarm.
	ActionIgnored = "ignored"
	// ActionRefused: the primary answers, so promoting the replica would make two primaries.
	ActionRefused = "refused"
	// ActionPromoted: the replica was promoted, takes writes, and the record points at it.
	ActionPromoted = "promoted"
	// ActionResumed: the replica had been promoted already (an earlier invocation that
	// failed half-way, or by hand); the remaining steps were done.
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
	Action            string  `json:"action"`
	Reason            string  `json:"reason,omitempty"`
	Alarm             string  `json:"alarm,omitempty"`
	ReplicaInstanceID string  `json:"replicaInstanceId,omitempty"`
	Endpoint          string  `json:"endpoint,omitempty"`
	Record            string  `json:"record,omitempty"`
	DNSChangeID       string  `json:"dnsChangeId,omitempty"`
	PrimaryProbe      string  `json:"primaryProbe,omitempty"`
	Error             string  `json:"error,omitempty"`
	Timings           Timings `json:"timings"`
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
		points, err := h.recordPointsAt(ctx, c, endpoint)
		if err != nil {
			return err
		}
		if points && status(inst) == "available" {
			s.Action, s.Endpoint = ActionAlreadyDone, endpoint
			s.Reason = fmt.Sprintf("%s is no longer a replica and %s already points at it", c.ReplicaInstanceID, c.RecordName)
			return nil
		}
		s.Action = ActionResumed
		s.Reason = fmt.Sprintf("%s is no longer a replica; finishing the failover", c.ReplicaInstanceID)
	}
	deadline := h.now().Add(c.PromoteTimeout)
	inst, err = h.waitPromoted(ctx, c, deadline)
	if err != nil {
		return err
	}
	s.Timings.AvailableAt = h.now()
	s.Endpoint = address(inst, c)
	if err := h.waitWritable(ctx, c, creds, deadline); err != nil {
		return err
	}
	s.Timings.WritableAt = h.now()
	id, err := h.pointRecord(ctx, c, s.Endpoint)
	if err != nil {
		return err
	}
	s.DNSChangeID = id
	s.Timings.DNSUpdatedAt = h.now()
	return nil
}

func (h *Handler) log(s Summary) {
	if h.Log == nil {
		return
	}
	level := slog.LevelInfo
	if s.Action == ActionFailed {
		level = slog.LevelError
	}
	h.Log.Log(context.Background(), level, "failover", "action", s.Action, "reason", s.Reason, "replica", s.ReplicaInstanceID,
		"endpoint", s.Endpoint, "error", s.Error, "alarmToWritableMs", s.Timings.AlarmToWritableMs)
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
