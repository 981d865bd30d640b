package pgconnect

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
	"github.com/pgdr/function-postgres-dr/lambda/internal/secrets"
)

func TestConnect(t *testing.T) {
	p := pgtest.Start(t)
	otherCA, err := pgtest.WriteOtherCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	closed, err := pgtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	good := Target{
		Endpoint:    config.Endpoint{Host: p.Primary.Host, Port: uint16(p.Primary.Port)},
		Database:    p.DB,
		Credentials: secrets.Credentials{Username: p.User, Password: p.Password},
		SSLMode:     "verify-full", SSLRootCert: p.CAFile, ConnectTimeout: 2 * time.Second,
		ApplicationName: "pgconnect-test",
	}
	change := func(f func(*Target)) Target {
		tg := good
		f(&tg)
		return tg
	}
	type want struct {
		connected  bool
		tls        bool
		answered   bool
		authFailed bool
		errHas     string
	}
	cases := map[string]struct {
		reason string
		target Target
		want   want
	}{
		"VerifyFull": {
			reason: "TLS verify-full against the servers' CA, with the password from the secret.",
			target: good,
			want:   want{connected: true, tls: true, answered: true},
		},
		"UnknownCA": {
			reason: "A CA bundle that did not sign the server's certificate fails verification; the server answered.",
			target: change(func(tg *Target) { tg.SSLRootCert = otherCA }),
			want:   want{answered: true, errHas: "certificate signed by unknown authority"},
		},
		"WrongPassword": {
			reason: "A refused password is an answer and an authentication failure.",
			target: change(func(tg *Target) { tg.Credentials.Password = "wrong" }),
			want:   want{answered: true, authFailed: true, errHas: "password authentication failed"},
		},
		"PlainText": {
			reason: "Without TLS the server refuses the login (hostssl only); still an answer.",
			target: change(func(tg *Target) { tg.SSLMode = "disable" }),
			want:   want{answered: true, authFailed: true, errHas: "no pg_hba.conf entry"},
		},
		"NoServer": {
			reason: "Nothing listening is no answer.",
			target: change(func(tg *Target) { tg.Endpoint.Port = uint16(closed) }),
			want:   want{errHas: "connect: connection refused"},
		},
		"MissingCABundle": {
			reason: "A missing CA bundle is named with its variable before any connection is tried.",
			target: change(func(tg *Target) { tg.SSLRootCert = filepath.Join(t.TempDir(), "global-bundle.pem") }),
			want:   want{errHas: "(DB_SSLROOTCERT)"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := Connect(t.Context(), tc.target)
			got := want{connected: err == nil, answered: Answered(err), authFailed: AuthFailed(err)}
			if err == nil {
				_, got.tls = c.PgConn().Conn().(*tls.Conn)
				_ = c.Close(context.Background())
			} else {
				if strings.Contains(err.Error(), p.Password) {
					t.Errorf("error shows the password: %v", err)
				}
				if strings.Contains(err.Error(), tc.want.errHas) {
					got.errHas = tc.want.errHas
				} else {
					got.errHas = err.Error()
				}
			}
			if tc.want.errHas == "" && err != nil {
				got.errHas = err.Error()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nConnect(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	cases := map[string]struct {
		in, want string
	}{
		"Plain":     {in: "appdb", want: "'appdb'"},
		"Quote":     {in: "it's", want: `'it\'s'`},
		"Backslash": {in: `a\b c`, want: `'a\\b c'`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, quote(tc.in)); diff != "" {
				t.Errorf("quote(%q): -want, +got:\n%s", tc.in, diff)
			}
		})
	}
}
