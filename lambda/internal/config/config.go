// Package config reads the Lambdas' configuration from their environment. Every variable is
// named in package contract; a missing or malformed variable is reported by name.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// Lookup returns the value of an environment variable and whether it is set, like
// os.LookupEnv.
type Lookup func(key string) (string, bool)

// Endpoint is a PostgreSQL server's address.
type Endpoint struct {
	Host string
	Port uint16
}

// String returns host:port.
func (e Endpoint) String() string {
	return fmt.Sprintf("%s:%d", e.Host, e.Port)
}

// DB is how both Lambdas reach the primary and the replica.
type DB struct {
	Primary        Endpoint
	Replica        Endpoint
	Name           string
	SecretARN      string
	Username       string
	SSLMode        string
	SSLRootCert    string
	ConnectTimeout time.Duration
}

// Lag is the replication-lag monitor's configuration.
type Lag struct {
	DB
	PairName      string
	Namespace     string
	HeartbeatWait time.Duration
}

// Failover is the failover Lambda's configuration.
type Failover struct {
	DB
	AlarmName           string
	ReplicaInstanceID   string
	HostedZoneID        string
	RecordName          string
	RecordSetIdentifier string
	RecordTTL           int64
	TopicARN            string
	PromoteTimeout      time.Duration
	PollInterval        time.Duration
	DNSTimeout          time.Duration
}

// sslModes are the sslmode values libpq (and pgx) accept.
var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// reader collects what is missing or malformed while reading variables, so that one error
// names all of them.
type reader struct {
	lookup  Lookup
	missing []string
	invalid []string
}

func (r *reader) required(key string) string {
	v, ok := r.lookup(key)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		r.missing = append(r.missing, key)
	}
	return v
}

func (r *reader) optional(key, def string) string {
	v, ok := r.lookup(key)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return def
	}
	return v
}

func (r *reader) port(key string) uint16 {
	v := r.required(key)
	if v == "" {
		return 0
	}
	p, err := strconv.ParseUint(v, 10, 16)
	if err != nil || p == 0 {
		r.invalid = append(r.invalid, fmt.Sprintf("%s=%q is not a TCP port", key, v))
		return 0
	}
	return uint16(p)
}

// duration reads a Go duration ("90s", "10m") or a whole number of seconds ("90").
func (r *reader) duration(key string, def time.Duration) time.Duration {
	v := r.optional(key, "")
	if v == "" {
		return def
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		v = strconv.FormatUint(s, 10) + "s"
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.invalid = append(r.invalid, fmt.Sprintf("%s=%q is not a positive duration such as 30s or 10m", key, v))
		return def
	}
	return d
}

func (r *reader) integer(key string, def int64) int64 {
	v := r.optional(key, "")
	if v == "" {
		return def
	}
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil || i < 0 {
		r.invalid = append(r.invalid, fmt.Sprintf("%s=%q is not a non-negative integer", key, v))
		return def
	}
	return i
}

func (r *reader) oneOf(key, def string, allowed []string) string {
	v := r.optional(key, def)
	if slices.Contains(allowed, v) {
		return v
	}
	r.invalid = append(r.invalid, fmt.Sprintf("%s=%q is not one of %s", key, v, strings.Join(allowed, ", ")))
	return def
}

func (r *reader) db() DB {
	return DB{
		Primary:        Endpoint{Host: r.required(contract.EnvPrimaryHost), Port: r.port(contract.EnvPrimaryPort)},
		Replica:        Endpoint{Host: r.required(contract.EnvReplicaHost), Port: r.port(contract.EnvReplicaPort)},
		Name:           r.required(contract.EnvDBName),
		SecretARN:      r.required(contract.EnvDBSecretARN),
		Username:       r.optional(contract.EnvDBUsername, ""),
		SSLMode:        r.oneOf(contract.EnvSSLMode, contract.DefaultSSLMode, sslModes),
		SSLRootCert:    r.optional(contract.EnvSSLRootCert, DefaultSSLRootCert()),
		ConnectTimeout: r.duration(contract.EnvConnectTimeout, contract.DefaultConnectTimeout),
	}
}

func (r *reader) err() error {
	var errs []error
	if len(r.missing) > 0 {
		errs = append(errs, fmt.Errorf("missing environment variables: %s", strings.Join(r.missing, ", ")))
	}
	if len(r.invalid) > 0 {
		errs = append(errs, fmt.Errorf("invalid environment variables: %s", strings.Join(r.invalid, "; ")))
	}
	return errors.Join(errs...)
}

// LoadLag reads the replication-lag monitor's configuration.
func LoadLag(lookup Lookup) (Lag, error) {
	r := &reader{lookup: lookup}
	c := Lag{
		DB:            r.db(),
		PairName:      r.required(contract.EnvPairName),
		Namespace:     r.optional(contract.EnvMetricNamespace, contract.DefaultMetricNamespace),
		HeartbeatWait: r.duration(contract.EnvHeartbeatWait, contract.DefaultHeartbeatWait),
	}
	if err := r.err(); err != nil {
		return Lag{}, fmt.Errorf("cannot load the replication-lag configuration: %w", err)
	}
	return c, nil
}

// LoadFailover reads the failover Lambda's configuration.
func LoadFailover(lookup Lookup) (Failover, error) {
	r := &reader{lookup: lookup}
	c := Failover{
		AlarmName:           r.required(contract.EnvAlarmName),
		ReplicaInstanceID:   r.required(contract.EnvReplicaInstanceID),
		DB:                  r.db(),
		HostedZoneID:        r.required(contract.EnvHostedZoneID),
		RecordName:          r.required(contract.EnvRecordName),
		RecordSetIdentifier: r.required(contract.EnvRecordSetIdentifier),
		RecordTTL:           r.integer(contract.EnvRecordTTL, contract.DefaultRecordTTL),
		TopicARN:            r.required(contract.EnvTopicARN),
		PromoteTimeout:      r.duration(contract.EnvPromoteTimeout, contract.DefaultPromoteTimeout),
		PollInterval:        r.duration(contract.EnvPollInterval, contract.DefaultPollInterval),
		DNSTimeout:          r.duration(contract.EnvDNSTimeout, contract.DefaultDNSTimeout),
	}
	if err := r.err(); err != nil {
		return Failover{}, fmt.Errorf("cannot load the failover configuration: %w", err)
	}
	return c, nil
}

// DefaultSSLRootCert is the CA bundle shipped in the zip next to the running executable
// (/var/task/global-bundle.pem on AWS Lambda).
func DefaultSSLRootCert() string {
	exe, err := os.Executable()
	if err != nil {
		return contract.CABundleFile
	}
	return filepath.Join(filepath.Dir(exe), contract.CABundleFile)
}
