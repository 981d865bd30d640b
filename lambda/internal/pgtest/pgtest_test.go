package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPair(t *testing.T) {
	start := time.Now()
	p := Start(t)
	t.Logf("primary and standby streaming after %v", time.Since(start).Round(time.Millisecond))
	ctx := t.Context()

	// The application user logs in over TLS with verify-full against the test CA and writes.
	c, err := pgx.ConnectConfig(ctx, p.Primary.App())
	if err != nil {
		t.Fatalf("app connect to primary: %v", err)
	}
	defer c.Close(context.Background())
	if !strings.HasPrefix(c.PgConn().Conn().RemoteAddr().String(), "127.0.0.1:") {
		t.Errorf("connected to %s, want loopback", c.PgConn().Conn().RemoteAddr())
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("write on primary: %v", err)
	}

	// Without TLS the application user is refused: pg_hba has hostssl lines only.
	plain := p.Primary.App()
	plain.TLSConfig, plain.Fallbacks = nil, nil
	if _, err := pgx.ConnectConfig(ctx, plain); err == nil || !strings.Contains(err.Error(), "no pg_hba.conf entry") {
		t.Errorf("plain-text login: want refusal by pg_hba.conf, got %v", err)
	}

	// The row streams to the standby, which is in recovery and refuses writes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := p.Standby.QueryFloat(ctx, "SELECT count(*)::float8 FROM t")
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("row did not reach the standby: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r, err := p.Standby.InRecovery(ctx); err != nil || !r {
		t.Fatalf("standby InRecovery() = %t, %v; want true", r, err)
	}

	// SIGKILL takes the primary down at once; promotion makes the standby writable.
	if err := p.Primary.Kill(); err != nil {
		t.Fatalf("Kill(): %v", err)
	}
	if _, err := pgx.ConnectConfig(ctx, p.Primary.App()); err == nil {
		t.Errorf("connect to the killed primary succeeded")
	}
	if err := p.Standby.Promote(ctx); err != nil {
		t.Fatalf("Promote(): %v", err)
	}
	if err := p.Standby.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Errorf("write after promotion: %v", err)
	}
}
