package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/metrics"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgconnect"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// Handler is the replication-lag monitor. One Handler serves all invocations of a warm
// Lambda; it keeps the database credentials for secrets.DefaultTTL.
type Handler struct {
	Env        config.Lookup
	Secrets    *secrets.Source
	CloudWatch metrics.Putter
	Log        *slog.Logger
	Now        func() time.Time
}

// NewHandler returns a Handler that calls AWS with cfg and reads its configuration from env.
func NewHandler(cfg aws.Config, env config.Lookup, log *slog.Logger) *Handler {
	return &Handler{
		Env:        env,
		Secrets:    secrets.NewSource(secretsmanager.NewFromConfig(cfg)),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		Log:        log,
		Now:        time.Now,
	}
}

// Result is what an invocation returns: the published sample and why anything is missing.
type Result struct {
	Pair                  string   `json:"pair"`
	Namespace             string   `json:"namespace"`
	PrimaryReachable      bool     `json:"primaryReachable"`
	ReplicaReachable      bool     `json:"replicaReachable"`
	ReplicationLagBytes   *float64 `json:"replicationLagBytes,omitempty"`
	ReceiveLagBytes       *float64 `json:"receiveLagBytes,omitempty"`
	ReplicationLagSeconds *float64 `json:"replicationLagSeconds,omitempty"`
	HeartbeatSeen         bool     `json:"heartbeatSeen"`
	PrimaryError          string   `json:"primaryError,omitempty"`
	ReplicaError          string   `json:"replicaError,omitempty"`
	DurationMs            float64  `json:"durationMs"`
}

// Handle measures the lag and publishes it. The event (an EventBridge schedule) is not read.
// An unreachable server is a measurement, not an error. A missing setting or secret is an
// error, and so is a server that answers but refuses the login: both are mistakes to fix,
// which the Lambda's Errors metric should show.
func (h *Handler) Handle(ctx context.Context, _ json.RawMessage) (Result, error) {
	start := h.now()
	c, err := config.LoadLag(h.Env)
	if err != nil {
		return Result{}, err
	}
	creds, err := h.Secrets.Get(ctx, c.SecretARN)
	if err == nil {
		creds, err = secrets.WithUsername(creds, c.Username)
	}
	if err != nil {
		return Result{}, err
	}
	m := measure(ctx, c, creds)
	if m.AuthFailed {
		// The password may have been rotated since it was read: read it again and retry once.
		h.Secrets.Forget(c.SecretARN)
		if fresh, err := h.Secrets.Get(ctx, c.SecretARN); err == nil && fresh.Password != creds.Password {
			fresh, _ = secrets.WithUsername(fresh, c.Username)
			creds = fresh
			m = measure(ctx, c, creds)
		}
	}
	at := h.now()
	r := Result{
		Pair: c.PairName, Namespace: c.Namespace,
		PrimaryReachable: m.PrimaryReachable, ReplicaReachable: m.ReplicaReachable,
		ReplicationLagBytes: m.ReplicationLagBytes, ReceiveLagBytes: m.ReceiveLagBytes, ReplicationLagSeconds: m.ReplicationLagSeconds,
		HeartbeatSeen: m.HeartbeatSeen,
		PrimaryError:  pgconnect.Redact(m.PrimaryErr, creds),
		ReplicaError:  pgconnect.Redact(m.ReplicaErr, creds),
	}
	perr := metrics.Publish(ctx, h.CloudWatch, c.Namespace, c.PairName, m.Sample, at)
	r.DurationMs = float64(h.now().Sub(start).Microseconds()) / 1000
	h.log(r)
	var errs []error
	if perr != nil {
		errs = append(errs, perr)
	}
	if m.LoginFailed {
		errs = append(errs, fmt.Errorf("cannot log in to a server that answered (check %s, %s and %s): primary: %s; replica: %s",
			contract.EnvDBSecretARN, contract.EnvSSLRootCert, contract.EnvSSLMode, orNone(r.PrimaryError), orNone(r.ReplicaError)))
	}
	return r, errors.Join(errs...)
}

func orNone(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

func (h *Handler) log(r Result) {
	if h.Log == nil {
		return
	}
	attrs := []any{
		"pair", r.Pair, "primaryReachable", r.PrimaryReachable, "replicaReachable", r.ReplicaReachable,
		"heartbeatSeen", r.HeartbeatSeen, "durationMs", r.DurationMs,
	}
	for k, v := range map[string]*float64{"replicationLagBytes": r.ReplicationLagBytes, "receiveLagBytes": r.ReceiveLagBytes, "replicationLagSeconds": r.ReplicationLagSeconds} {
		if v != nil {
			attrs = append(attrs, k, *v)
		}
	}
	if r.PrimaryError != "" {
		attrs = append(attrs, "primaryError", r.PrimaryError)
	}
	if r.ReplicaError != "" {
		attrs = append(attrs, "replicaError", r.ReplicaError)
	}
	h.Log.Info("measured replication", attrs...)
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}
