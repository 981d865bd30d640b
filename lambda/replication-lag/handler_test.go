package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/awsfake"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// heartbeatWait is HEARTBEAT_WAIT in these tests.
const heartbeatWait = time.Second

var allMetrics = []string{"PrimaryReachable", "ReceiveLagBytes", "ReplicaReachable", "ReplicationLagBytes", "ReplicationLagSeconds"}
var reachability = []string{"PrimaryReachable", "ReplicaReachable"}

// fixture is a real primary and standby, the AWS fake, and the monitor's environment.
type fixture struct {
	pair      *pgtest.Pair
	aws       *awsfake.Server
	secretARN string
	env       map[string]string
	naive     *float64 // now() - pg_last_xact_replay_timestamp() seen by a setup, if any
}

func newFixture(t testing.TB, withPG bool) *fixture {
	t.Helper()
	f := &fixture{aws: awsfake.New(t)}
	f.env = map[string]string{
		contract.EnvPrimaryHost: "127.0.0.1", contract.EnvPrimaryPort: "1",
		contract.EnvReplicaHost: "127.0.0.1", contract.EnvReplicaPort: "1",
		contract.EnvDBName: pgtest.DBName, contract.EnvPairName: "orders",
		contract.EnvHeartbeatWait: heartbeatWait.String(), contract.EnvConnectTimeout: "2s",
	}
	if withPG {
		f.pair = pgtest.Start(t)
		f.env[contract.EnvPrimaryPort] = strconv.Itoa(f.pair.Primary.Port)
		f.env[contract.EnvReplicaPort] = strconv.Itoa(f.pair.Standby.Port)
		f.env[contract.EnvSSLRootCert] = f.pair.CAFile
		f.secretARN = f.aws.AddSecret("rds!db-orders", fmt.Sprintf(`{"username":%q,"password":%q}`, f.pair.User, f.pair.Password))
		f.env[contract.EnvDBSecretARN] = f.secretARN
	}
	return f
}

func (f *fixture) handler() *Handler {
	return NewHandler(f.aws.AWSConfig(), func(k string) (string, bool) { v, ok := f.env[k]; return v, ok }, nil)
}

// invoke runs the handler in process through aws-lambda-go's lambda.NewHandler, with a
// scheduled event, and returns its result and error.
func invoke(ctx context.Context, h *Handler) (Result, error) {
	ev := []byte(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","account":"111122223333",` +
		`"time":"2025-01-01T00:00:00Z","region":"us-west-2","resources":[],"detail":{}}`)
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, ev)
	if err != nil {
		return Result{}, err
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		return Result{}, fmt.Errorf("cannot decode the result %s: %w", out, err)
	}
	return r, nil
}

func write(t *testing.T, f *fixture, rows int) {
	t.Helper()
	if err := f.pair.Primary.Exec(t.Context(), `CREATE TABLE IF NOT EXISTS load (id bigserial PRIMARY KEY, payload text);
INSERT INTO load (payload) SELECT repeat('x', 64) FROM generate_series(1, `+strconv.Itoa(rows)+`)`); err != nil {
		t.Fatal(err)
	}
}

// waitReplayed waits until the standby has replayed all the primary's WAL.
func waitReplayed(t *testing.T, f *fixture) {
	t.Helper()
	ctx := t.Context()
	lsn, err := f.pair.Primary.QueryFloat(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := f.pair.Standby.QueryFloat(ctx, "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::float8")
		if err == nil && got >= lsn {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not replay up to %v: at %v, %v", lsn, got, err)
		}
	}
}

func TestHandle(t *testing.T) {
	type want struct {
		published []string // metric names of each PutMetricData, sorted
		primary   []float64
		replica   []float64
		errs      []string // a substring of each invocation's error, "" for none
	}
	cases := map[string]struct {
		reason  string
		noPG    bool
		setup   func(t *testing.T, f *fixture)
		between func(t *testing.T, f *fixture)
		check   func(t *testing.T, f *fixture, r []Result)
		want    want
	}{
		"InSync": {
			reason: "A streaming replica: byte lag near 0, the heartbeat arrives well within a second.",
			setup:  func(t *testing.T, f *fixture) { write(t, f, 1000) },
			check: func(t *testing.T, _ *fixture, r []Result) {
				if *r[0].ReplicationLagBytes > 64<<10 || *r[0].ReceiveLagBytes > 64<<10 {
					t.Errorf("in sync: lag %v bytes, receive lag %v bytes, want under 64 KiB", *r[0].ReplicationLagBytes, *r[0].ReceiveLagBytes)
				}
				if !r[0].HeartbeatSeen || *r[0].ReplicationLagSeconds >= 0.5 {
					t.Errorf("in sync: heartbeat seen %t after %vs, want seen within 0.5s", r[0].HeartbeatSeen, *r[0].ReplicationLagSeconds)
				}
			},
			want: want{published: allMetrics, primary: []float64{1}, replica: []float64{1}, errs: []string{""}},
		},
		"ReplayPaused": {
			reason: "pg_wal_replay_pause() and 50,000 rows: byte lag above 0 and growing; WAL is still received.",
			setup: func(t *testing.T, f *fixture) {
				write(t, f, 10)
				waitReplayed(t, f)
				if err := f.pair.Standby.PauseReplay(t.Context()); err != nil {
					t.Fatal(err)
				}
				write(t, f, 50000)
			},
			between: func(t *testing.T, f *fixture) { write(t, f, 50000) },
			check: func(t *testing.T, _ *fixture, r []Result) {
				t.Logf("replay paused: lag %v then %v bytes; receive lag %v then %v bytes; %vs then %vs",
					*r[0].ReplicationLagBytes, *r[1].ReplicationLagBytes, *r[0].ReceiveLagBytes, *r[1].ReceiveLagBytes,
					*r[0].ReplicationLagSeconds, *r[1].ReplicationLagSeconds)
				if *r[0].ReplicationLagBytes < 1<<20 {
					t.Errorf("paused: lag %v bytes after 50,000 rows, want over 1 MiB", *r[0].ReplicationLagBytes)
				}
				if *r[1].ReplicationLagBytes <= *r[0].ReplicationLagBytes {
					t.Errorf("paused: lag went from %v to %v bytes, want growing", *r[0].ReplicationLagBytes, *r[1].ReplicationLagBytes)
				}
				for i := range r {
					if *r[i].ReceiveLagBytes*10 > *r[i].ReplicationLagBytes {
						t.Errorf("paused: receive lag %v bytes is not far below replay lag %v bytes", *r[i].ReceiveLagBytes, *r[i].ReplicationLagBytes)
					}
					if r[i].HeartbeatSeen || *r[i].ReplicationLagSeconds < heartbeatWait.Seconds() {
						t.Errorf("paused: heartbeat seen %t, lag %vs; want unseen and at least %v", r[i].HeartbeatSeen, *r[i].ReplicationLagSeconds, heartbeatWait)
					}
				}
				if *r[1].ReplicationLagSeconds <= *r[0].ReplicationLagSeconds {
					t.Errorf("paused: lag went from %vs to %vs, want growing", *r[0].ReplicationLagSeconds, *r[1].ReplicationLagSeconds)
				}
			},
			want: want{published: allMetrics, primary: []float64{1, 1}, replica: []float64{1, 1}, errs: []string{"", ""}},
		},
		"IdlePrimary": {
			reason: "After 2.5 s without writes now() - pg_last_xact_replay_timestamp() says 2.5 s; the heartbeat says the truth.",
			setup: func(t *testing.T, f *fixture) {
				ctx := t.Context()
				fresh, err := f.pair.Standby.QueryFloat(ctx, "SELECT (pg_last_xact_replay_timestamp() IS NULL)::int::float8")
				if err != nil || fresh != 1 {
					t.Errorf("fresh standby: pg_last_xact_replay_timestamp() IS NULL = %v, %v; want true", fresh, err)
				}
				write(t, f, 10)
				time.Sleep(2500 * time.Millisecond)
				naive, err := f.pair.Standby.QueryFloat(ctx, "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8")
				if err != nil {
					t.Fatal(err)
				}
				f.naive = &naive
			},
			check: func(t *testing.T, f *fixture, r []Result) {
				t.Logf("idle primary: naive lag %.3fs, heartbeat lag %.3fs", *f.naive, *r[0].ReplicationLagSeconds)
				if *f.naive < 2.5 {
					t.Errorf("idle: naive lag %vs, want at least 2.5s (the test's premise)", *f.naive)
				}
				if *r[0].ReplicationLagSeconds >= 0.5 {
					t.Errorf("idle: heartbeat lag %vs, want under 0.5s", *r[0].ReplicationLagSeconds)
				}
			},
			want: want{published: allMetrics, primary: []float64{1}, replica: []float64{1}, errs: []string{""}},
		},
		"PrimaryKilled": {
			reason: "A primary killed with SIGKILL is a measurement, reachability 0, not an error; no lag is published.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.pair.Primary.Kill(); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fixture, r []Result) {
				if !strings.Contains(r[0].PrimaryError, "connection refused") {
					t.Errorf("primary killed: primaryError %q, want connection refused", r[0].PrimaryError)
				}
			},
			want: want{published: reachability, primary: []float64{0}, replica: []float64{1}, errs: []string{""}},
		},
		"ReplicaStopped": {
			reason: "A stopped replica is reachability 0; no lag is published.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.pair.Standby.Stop(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			want: want{published: reachability, primary: []float64{1}, replica: []float64{0}, errs: []string{""}},
		},
		"UnknownCA": {
			reason: "A CA bundle that does not verify the servers: they answer (reachable), nothing is measured, and the error says what to check.",
			setup: func(t *testing.T, f *fixture) {
				p, err := pgtest.WriteOtherCA(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				f.env[contract.EnvSSLRootCert] = p
			},
			want: want{published: reachability, primary: []float64{1}, replica: []float64{1}, errs: []string{"certificate signed by unknown authority"}},
		},
		"PasswordRotated": {
			reason: "After a password rotation the cached credentials fail; the secret is read again and the measurement succeeds.",
			between: func(t *testing.T, f *fixture) {
				if err := f.pair.Primary.Exec(t.Context(), "ALTER ROLE "+f.pair.User+" PASSWORD 'rotated-pw'"); err != nil {
					t.Fatal(err)
				}
				f.aws.AddSecret("rds!db-orders", fmt.Sprintf(`{"username":%q,"password":"rotated-pw"}`, f.pair.User))
				time.Sleep(300 * time.Millisecond) // the ALTER ROLE reaches the standby
			},
			check: func(t *testing.T, f *fixture, r []Result) {
				if n := f.aws.CallCount("secretsmanager", "GetSecretValue"); n != 2 {
					t.Errorf("rotation: GetSecretValue calls = %d, want 2 (cached, then read again once)", n)
				}
			},
			want: want{published: allMetrics, primary: []float64{1, 1}, replica: []float64{1, 1}, errs: []string{"", ""}},
		},
		"MissingEnvironment": {
			reason: "Missing settings are named; nothing is published.",
			noPG:   true,
			setup: func(t *testing.T, f *fixture) {
				delete(f.env, contract.EnvDBName)
				delete(f.env, contract.EnvPairName)
			},
			want: want{errs: []string{"missing environment variables: DB_NAME, DB_SECRET_ARN, PAIR_NAME"}},
		},
		"MissingSecret": {
			reason: "A secret that does not exist is named with its variable; nothing is published.",
			noPG:   true,
			setup: func(t *testing.T, f *fixture) {
				f.env[contract.EnvDBSecretARN] = "arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf"
			},
			want: want{errs: []string{"cannot read secret arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf (DB_SECRET_ARN): " +
				"operation error Secrets Manager: GetSecretValue"}},
		},
		"SecretWithoutPassword": {
			reason: "A secret without a password says so; nothing is published.",
			noPG:   true,
			setup: func(t *testing.T, f *fixture) {
				f.env[contract.EnvDBSecretARN] = f.aws.AddSecret("nopw", `{"username":"postgres"}`)
			},
			want: want{errs: []string{"(DB_SECRET_ARN) has no password"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, !tc.noPG)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			h := f.handler()
			n := len(tc.want.errs)
			var results []Result
			got := want{}
			for i := range n {
				if i > 0 && tc.between != nil {
					tc.between(t, f)
				}
				r, err := invoke(t.Context(), h)
				results = append(results, r)
				e := ""
				if err != nil {
					e = err.Error()
					if f.pair != nil && strings.Contains(e, f.pair.Password) {
						t.Errorf("error shows the password: %s", e)
					}
					if tc.want.errs[i] != "" && strings.Contains(e, tc.want.errs[i]) {
						e = tc.want.errs[i]
					}
				}
				got.errs = append(got.errs, e)
			}
			for _, b := range f.aws.MetricBatches() {
				got.published = b.Names() // every batch must match; the last is compared
				p, _ := b.Value(contract.MetricPrimaryReachable)
				r, _ := b.Value(contract.MetricReplicaReachable)
				got.primary, got.replica = append(got.primary, p), append(got.replica, r)
				if b.Namespace != contract.DefaultMetricNamespace || b.Data[0].Dimensions[contract.DimensionPair] != "orders" {
					t.Errorf("published to %s with dimensions %v, want PostgresDR and Pair=orders", b.Namespace, b.Data[0].Dimensions)
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if tc.check != nil {
				tc.check(t, f, results)
			}
		})
	}
}
