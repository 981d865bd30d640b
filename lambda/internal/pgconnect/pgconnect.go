// Package pgconnect opens the Lambdas' PostgreSQL connections: TLS as DB_SSLMODE says
// (verify-full by default) against the CA bundle in DB_SSLROOTCERT, a short connect timeout,
// credentials from Secrets Manager. It also tells "no server there" from "a server answered"
// when a connection fails, which is what the failover Lambda's split-brain guard needs.
package pgconnect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

// Target is a database on one server, and how to log in to it.
type Target struct {
	Endpoint        config.Endpoint
	Database        string
	Credentials     secrets.Credentials
	SSLMode         string
	SSLRootCert     string
	ConnectTimeout  time.Duration
	ApplicationName string
}

// NewTarget returns the target for an endpoint of the configured pair.
func NewTarget(db config.DB, ep config.Endpoint, creds secrets.Credentials, app string) Target {
	return Target{
		Endpoint: ep, Database: db.Name, Credentials: creds,
		SSLMode: db.SSLMode, SSLRootCert: db.SSLRootCert, ConnectTimeout: db.ConnectTimeout,
		ApplicationName: app,
	}
}

// quote quotes a value for a libpq keyword/value connection string.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Config returns the pgx configuration of a target. The password is set on the returned
// configuration, never written into a connection string.
func Config(t Target) (*pgx.ConnConfig, error) {
	if t.SSLMode != "disable" && t.SSLRootCert != "" {
		if _, err := os.Stat(t.SSLRootCert); err != nil {
			return nil, fmt.Errorf("cannot read the CA bundle %s (%s): %w", t.SSLRootCert, contract.EnvSSLRootCert, err)
		}
	}
	timeout := t.ConnectTimeout
	if timeout <= 0 {
		timeout = contract.DefaultConnectTimeout
	}
	kv := []string{
		"host=" + quote(t.Endpoint.Host),
		fmt.Sprintf("port=%d", t.Endpoint.Port),
		"dbname=" + quote(t.Database),
		"sslmode=" + quote(t.SSLMode),
		// connect_timeout is whole seconds, at least 2 in libpq; the context bounds it exactly.
		fmt.Sprintf("connect_timeout=%d", max(2, int(timeout.Round(time.Second)/time.Second))),
	}
	if t.SSLRootCert != "" {
		kv = append(kv, "sslrootcert="+quote(t.SSLRootCert))
	}
	if t.ApplicationName != "" {
		kv = append(kv, "application_name="+quote(t.ApplicationName))
	}
	cfg, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return nil, fmt.Errorf("cannot configure the connection to %s: %w", t.Endpoint, err)
	}
	cfg.ConnectTimeout = timeout
	cfg.User = t.Credentials.Username
	cfg.Password = t.Credentials.Password
	// No statement cache: each connection runs a handful of statements once.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, nil
}

// Connect opens a connection to a target within its connect timeout.
func Connect(ctx context.Context, t Target) (*pgx.Conn, error) {
	cfg, err := Config(t)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s database %s: %w", t.Endpoint, t.Database, err)
	}
	return c, nil
}

// Answered reports whether a connection error shows that a PostgreSQL server is there: it
// sent an error (a refused password, a database that is starting up, ...), refused TLS, or
// presented a certificate that failed verification. Refused and timed-out connections, and
// connections that broke before the server said anything, are not answers.
func Answered(err error) bool {
	if err == nil {
		return true
	}
	var pgErr *pgconn.PgError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	switch {
	case errors.As(err, &pgErr), errors.As(err, &unknownCA), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &verify), errors.As(err, &alert):
		return true
	}
	return strings.Contains(err.Error(), "server refused TLS connection")
}

// AuthFailed reports whether the server refused the credentials, for example because the
// password was rotated since it was read.
func AuthFailed(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000")
}

// Redact returns err's message without the user name or password, for logs and results.
func Redact(err error, c secrets.Credentials) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if c.Password != "" {
		msg = strings.ReplaceAll(msg, c.Password, "<redacted>")
	}
	if c.Username != "" {
		msg = strings.ReplaceAll(msg, "user="+c.Username, "user=<redacted>")
		msg = strings.ReplaceAll(msg, `user "`+c.Username+`"`, `user "<redacted>"`)
	}
	return msg
}
