package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/awsfake"
)

// outcome is what a failover invocation did, as seen from outside: the AWS calls that changed
// something, the standby's state, the record and the notifications.
type outcome struct {
	action      string
	err         string
	promotes    int
	dnsChanges  int
	inRecovery  bool
	record      []string
	healthCheck string
	subjects    []string
}

func observe(t *testing.T, f *fixture, s Summary, err error, wantErr string) outcome {
	t.Helper()
	o := outcome{action: s.Action}
	if err != nil {
		o.err = err.Error()
		if wantErr != "" && strings.Contains(o.err, wantErr) {
			o.err = wantErr
		}
	}
	o.promotes = f.aws.CallCount("rds", "PromoteReadReplica")
	o.dnsChanges = f.aws.CallCount("route53", "ChangeResourceRecordSets")
	if f.pair != nil {
		f.aws.WaitPromotions()
		r, rerr := f.pair.Standby.InRecovery(t.Context())
		if rerr != nil {
			t.Fatal(rerr)
		}
		o.inRecovery = r
	}
	if rec, ok := f.aws.Record(zoneID, recordName, "CNAME", setID); ok {
		o.record, o.healthCheck = rec.Values, rec.HealthCheckID
	}
	for _, m := range f.aws.Messages() {
		o.subjects = append(o.subjects, m.Subject)
	}
	return o
}

func TestHandle(t *testing.T) {
	cases := map[string]struct {
		reason  string
		noPG    bool
		setup   func(t *testing.T, f *fixture)
		payload func() []byte
		wantErr string
		want    outcome
	}{
		"FalseAlarm": {
			reason:  "The primary answers: no promotion, no DNS change, a notification that says why.",
			payload: func() []byte { return alarmPayload(alarmName, "ALARM", time.Now()) },
			want: outcome{
				action: ActionRefused, inRecovery: true, record: []string{primaryEndpt}, healthCheck: "hc-primary",
				subjects: []string{"PostgresDR failover refused: orders-dr"},
			},
		},
		"FalseAlarmBadCA": {
			reason: "A primary whose certificate does not verify still answers: no promotion.",
			setup: func(t *testing.T, f *fixture) {
				f.env[contract.EnvSSLRootCert] = "/etc/ssl/certs/ca-certificates.crt"
			},
			payload: func() []byte { return alarmPayload(alarmName, "ALARM", time.Now()) },
			want: outcome{
				action: ActionRefused, inRecovery: true, record: []string{primaryEndpt}, healthCheck: "hc-primary",
				subjects: []string{"PostgresDR failover refused: orders-dr"},
			},
		},
		"BackToOK": {
			reason:  "An OK state change is ignored: nothing is called, nothing changes.",
			payload: func() []byte { return alarmPayload(alarmName, "OK", time.Now()) },
			want:    outcome{action: ActionIgnored, inRecovery: true, record: []string{primaryEndpt}, healthCheck: "hc-primary"},
		},
		"OtherAlarm": {
			reason:  "Another alarm's ALARM is ignored.",
			noPG:    true,
			payload: func() []byte { return alarmPayload("orders-cpu-high", "ALARM", time.Now()) },
			want:    outcome{action: ActionIgnored, record: []string{primaryEndpt}, healthCheck: "hc-primary"},
		},
		"Resume": {
			reason: "The replica was promoted but the record not changed (a run that stopped half-way): the failover is finished without a second promotion.",
			setup: func(t *testing.T, f *fixture) {
				if err := f.pair.Primary.Kill(); err != nil {
					t.Fatal(err)
				}
				if err := f.pair.Standby.Promote(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			payload: func() []byte { return alarmPayload(alarmName, "ALARM", time.Now()) },
			want: outcome{
				action: ActionResumed, dnsChanges: 1, record: []string{drEndpoint},
				subjects: []string{"PostgresDR failover resumed: orders-dr"},
			},
		},
		"MissingEnvironment": {
			reason: "Missing settings are named; nothing is called.",
			noPG:   true,
			setup: func(t *testing.T, f *fixture) {
				delete(f.env, contract.EnvTopicARN)
				delete(f.env, contract.EnvRecordSetIdentifier)
			},
			payload: func() []byte { return alarmPayload(alarmName, "ALARM", time.Now()) },
			wantErr: "cannot load the failover configuration: missing environment variables: RECORD_SET_IDENTIFIER, TOPIC_ARN",
			want: outcome{
				err:    "cannot load the failover configuration: missing environment variables: RECORD_SET_IDENTIFIER, TOPIC_ARN",
				record: []string{primaryEndpt}, healthCheck: "hc-primary",
			},
		},
		"MissingSecret": {
			reason: "A missing secret is named; nothing is promoted; the failure is notified. (On an error the Lambda returns no summary.)",
			setup: func(t *testing.T, f *fixture) {
				f.env[contract.EnvDBSecretARN] = "arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf"
			},
			payload: func() []byte { return alarmPayload(alarmName, "ALARM", time.Now()) },
			wantErr: "cannot read secret arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf (DB_SECRET_ARN)",
			want: outcome{
				err:        "cannot read secret arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf (DB_SECRET_ARN)",
				inRecovery: true, record: []string{primaryEndpt}, healthCheck: "hc-primary",
				subjects: []string{"PostgresDR failover failed: orders-dr"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, !tc.noPG)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			s, err := invoke(t.Context(), f.handler(), tc.payload())
			got := observe(t, f, s, err, tc.wantErr)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(outcome{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestFailoverUnderLoad kills the primary with SIGKILL under a write load, fails over, counts
// the acknowledged commits missing on the promoted standby (the RPO), then sends the same
// event again.
func TestFailoverUnderLoad(t *testing.T) {
	f := newFixture(t, true)
	ctx := t.Context()
	l := startLoad(t, f, 4)
	time.Sleep(1500 * time.Millisecond)
	if err := f.pair.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	l.wait()

	h := f.handler()
	payload := alarmPayload(alarmName, "ALARM", killed)
	s, err := invoke(ctx, h, payload)
	if err != nil {
		t.Fatalf("failover: %v", err)
	}
	lost, acked := l.rpo(t, f)
	rate := float64(acked) / killed.Sub(l.start).Seconds()
	lostMs := float64(lost) / rate * 1000
	t.Logf("RPO: %d of %d acknowledged commits lost, %.1f ms of writes (4 writers, %.0f commits/s, primary killed with SIGKILL)", lost, acked, lostMs, rate)
	t.Logf("failover: kill to writable %.0f ms (the alarm's own evaluation delay excluded); received to writable %.0f ms; promote to available %.0f ms",
		s.Timings.AlarmToWritableMs, s.Timings.ReceivedToWritableMs, s.Timings.PromoteToAvailableMs)
	if acked < 200 {
		t.Errorf("the load acknowledged only %d commits: no real load", acked)
	}
	// On loopback the standby receives WAL within a millisecond or so; 100 ms of lost writes
	// would mean replication was not streaming.
	if lostMs > 100 {
		t.Errorf("RPO: %d acknowledged commits lost, %.1f ms of writes; want at most 100 ms on loopback", lost, lostMs)
	}

	// The standby takes writes from the application, and the record points at it.
	c, err := pgx.ConnectConfig(ctx, f.pair.Standby.App())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "INSERT INTO rpo (id, writer) VALUES (-1, -1)"); err != nil {
		t.Errorf("write on the promoted standby: %v", err)
	}
	got := observe(t, f, s, nil, "")
	want := outcome{action: ActionPromoted, promotes: 1, dnsChanges: 1, record: []string{drEndpoint}, subjects: []string{"PostgresDR failover promoted: orders-dr"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(outcome{})); diff != "" {
		t.Errorf("failover: -want, +got:\n%s", diff)
	}
	if s.Timings.WritableAt.IsZero() || s.Timings.DNSUpdatedAt.Before(s.Timings.WritableAt) || s.DNSChangeID == "" {
		t.Errorf("failover timings: want writable before the DNS change, got %+v (change %q)", s.Timings, s.DNSChangeID)
	}
	if m := f.aws.Messages(); len(m) != 1 || !strings.Contains(m[0].Message, "alarm to writable") || !strings.Contains(m[0].Message, drEndpoint) {
		t.Errorf("notification: want the summary with timings, got %+v", m)
	}
	if rec, _ := f.aws.Record(zoneID, recordName, "CNAME", setID); rec.TTL != 30 || rec.Failover != "PRIMARY" {
		t.Errorf("record after failover: %+v, want a PRIMARY failover CNAME with TTL 30", rec)
	}

	// The same event again: a report, nothing else.
	s2, err := invoke(ctx, h, payload)
	if err != nil {
		t.Fatalf("repeated event: %v", err)
	}
	got = observe(t, f, s2, nil, "")
	want = outcome{
		action: ActionAlreadyDone, promotes: 1, dnsChanges: 1, record: []string{drEndpoint},
		subjects: []string{"PostgresDR failover promoted: orders-dr", "PostgresDR failover already-failed-over: orders-dr"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(outcome{})); diff != "" {
		t.Errorf("repeated event: -want, +got:\n%s", diff)
	}
	var awsfakeCalls []awsfake.Call
	for _, c := range f.aws.Calls() {
		if c.Error != "" {
			awsfakeCalls = append(awsfakeCalls, c)
		}
	}
	if len(awsfakeCalls) > 0 {
		t.Errorf("AWS calls that failed: %+v", awsfakeCalls)
	}
}
