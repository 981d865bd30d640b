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
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// outcome is what a failover invocation did, as seen from outside: the AWS calls that changed
// something, the standby's state, the record and the notifications.
type outcome struct {
	action   string
	err      string
	promotes int
	// refusedPromotes counts the PromoteReadReplica requests RDS refused (InvalidDBInstanceState).
	refusedPromotes int
	// reissues is the summary's count of PromoteReadReplica requests after the first.
	reissues       int
	promoteRefusal string
	dnsChanges     int
	// dnsUpdated and dnsError are the summary's; dnsNotice what the last notification's text
	// says of the record: "updated", "not updated" or "not updated: " + the wanted DNS error.
	dnsUpdated  *bool
	dnsError    string
	dnsNotice   string
	inRecovery  bool
	record      []string
	healthCheck string
	subjects    []string
}

// wanted is text an outcome's error is expected to contain: the error is shown as want when it
// contains it, so that a case names the part of an error that matters.
func wanted(got, want string) string {
	if want != "" && strings.Contains(got, want) {
		return want
	}
	return got
}

// dnsNotice is what a notification's text says of the record.
func dnsNotice(msg, wantDNSErr string) string {
	for l := range strings.Lines(msg) {
		switch {
		case strings.HasPrefix(l, "DNS: ") && strings.Contains(l, " was NOT updated "):
			if wantDNSErr != "" && strings.Contains(l, wantDNSErr) {
				return "not updated: " + wantDNSErr
			}
			return "not updated"
		case strings.HasPrefix(l, "DNS: ") && (strings.Contains(l, " now points at ") || strings.Contains(l, " already points at ")):
			return "updated"
		}
	}
	return ""
}

func observe(t *testing.T, f *fixture, s Summary, err error, wantErr, wantDNSErr string) outcome {
	t.Helper()
	o := outcome{action: s.Action, reissues: s.PromoteReissues, promoteRefusal: s.PromoteRefusal, dnsUpdated: s.DNSUpdated, dnsError: wanted(s.DNSError, wantDNSErr)}
	if err != nil {
		o.err = wanted(err.Error(), wantErr)
	}
	o.promotes = f.aws.CallCount("rds", "PromoteReadReplica")
	for _, c := range f.aws.Calls() {
		if c.Service == "rds" && c.Operation == "PromoteReadReplica" && c.Error == "InvalidDBInstanceState" {
			o.refusedPromotes++
		}
	}
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
		o.dnsNotice = dnsNotice(m.Message, wantDNSErr)
	}
	return o
}

// killPrimary stops the primary with SIGKILL, so that the failover promotes.
func killPrimary(t *testing.T, f *fixture) {
	t.Helper()
	if err := f.pair.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
}

// handleCase is one invocation of the failover Lambda in process, and what it should do.
type handleCase struct {
	reason     string
	noPG       bool
	setup      func(t *testing.T, f *fixture)
	payload    func() []byte
	wantErr    string
	wantDNSErr string
	want       outcome
	// check, when set, asserts more of the summary; after, of the fixture.
	check func(t *testing.T, s Summary)
	after func(t *testing.T, f *fixture)
}

func alarmNow() []byte { return alarmPayload(alarmName, "ALARM", time.Now()) }

func runHandleCases(t *testing.T, cases map[string]handleCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, !tc.noPG)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			payload := alarmNow
			if tc.payload != nil {
				payload = tc.payload
			}
			s, err := invoke(t.Context(), f.handler(), payload())
			got := observe(t, f, s, err, tc.wantErr, tc.wantDNSErr)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(outcome{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			if tc.after != nil {
				tc.after(t, f)
			}
		})
	}
}

func TestHandle(t *testing.T) {
	runHandleCases(t, map[string]handleCase{
		"FalseAlarm": {
			reason: "The primary answers: no promotion, no DNS change, a notification that says why.",
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
				killPrimary(t, f)
				if err := f.pair.Standby.Promote(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			want: outcome{
				action: ActionResumed, dnsChanges: 1, dnsUpdated: new(true), dnsNotice: "updated", record: []string{drEndpoint},
				subjects: []string{"PostgresDR failover resumed: orders-dr"},
			},
		},
		"InterruptedSwitchover": {
			reason: "A switchover had fenced the primary when its region failed; the replica replayed the fence (ALTER DATABASE … SET " +
				"default_transaction_read_only replicates) but not its reset: the failover resets it on the promoted replica, which then takes writes.",
			setup: func(t *testing.T, f *fixture) {
				c, err := pgx.ConnectConfig(t.Context(), f.pair.Primary.App())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(context.Background())
				r := contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: "s1", Outcome: outcomeInProgress, FencedDatabases: []string{pgtest.DBName}}
				if err := writeSwitchover(t.Context(), c, r); err != nil {
					t.Fatal(err)
				}
				if _, err := setReadOnly(t.Context(), c, r.FencedDatabases, true); err != nil {
					t.Fatal(err)
				}
				waitReplayed(t, f)
				killPrimary(t, f)
			},
			want: outcome{
				action: ActionPromoted, promotes: 1, dnsChanges: 1, dnsUpdated: new(true), dnsNotice: "updated", record: []string{drEndpoint},
				subjects: []string{"PostgresDR failover promoted: orders-dr"},
			},
			after: func(t *testing.T, f *fixture) {
				if got := readOnlyDatabases(t, f.pair.Standby); len(got) != 0 {
					t.Errorf("read-only databases on the promoted standby: %v, want none", got)
				}
			},
		},
		"MissingEnvironment": {
			reason: "Missing settings are named; nothing is called.",
			noPG:   true,
			setup: func(t *testing.T, f *fixture) {
				delete(f.env, contract.EnvTopicARN)
				delete(f.env, contract.EnvRecordSetIdentifier)
			},
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
			wantErr: "cannot read secret arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf (DB_SECRET_ARN)",
			want: outcome{
				err:        "cannot read secret arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf (DB_SECRET_ARN)",
				inRecovery: true, record: []string{primaryEndpt}, healthCheck: "hc-primary",
				subjects: []string{"PostgresDR failover failed: orders-dr"},
			},
		},
	})
}

// TestPromoteWhileBackingUp: RDS refuses PromoteReadReplica while the replica is backing up
// (InvalidDBInstanceState), and then nothing promotes it. AWS: the RDS API reference,
// PromoteReadReplica ("a read replica cannot be promoted to a standalone instance when it is in
// the backing-up status",
// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html), and
// the RDS user guide, "Promoting a read replica" ("wait until the backup is complete"). The
// Lambda re-issues the promotion once the replica is available.
func TestPromoteWhileBackingUp(t *testing.T) {
	const refusal = "InvalidDBInstanceState: DB instance orders-dr is not in available state (backing-up)."
	runHandleCases(t, map[string]handleCase{
		"ReissuedAfterTheBackup": {
			reason: "The first request is refused while the replica backs up; once it is available the promotion is re-issued, and the failover completes.",
			setup: func(t *testing.T, f *fixture) {
				killPrimary(t, f)
				// The primary probe takes about 1 s: the first request comes well inside the backup.
				if err := f.aws.BackUp(replicaID, 4*time.Second); err != nil {
					t.Fatal(err)
				}
			},
			want: outcome{
				action: ActionPromoted, promotes: 1, refusedPromotes: 1, reissues: 1, promoteRefusal: refusal,
				dnsChanges: 1, dnsUpdated: new(true), dnsNotice: "updated", record: []string{drEndpoint},
				subjects: []string{"PostgresDR failover promoted: orders-dr"},
			},
			check: func(t *testing.T, s Summary) {
				t.Helper()
				// The promotion starts at the first, refused request, about 3 s before the
				// backup ends; the re-issue does not restart the clock.
				if s.Timings.PromoteToAvailableMs < 1500 {
					t.Errorf("promote to available: %.0f ms, want it counted from the first request (> 1500 ms)", s.Timings.PromoteToAvailableMs)
				}
			},
		},
		"BackingUpPastTheDeadline": {
			reason: "A replica that backs up past PROMOTE_TIMEOUT is not promoted; the error names its state and RDS's refusal.",
			setup: func(t *testing.T, f *fixture) {
				killPrimary(t, f)
				f.env[contract.EnvPromoteTimeout] = "1s"
				if err := f.aws.BackUp(replicaID, time.Hour); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: `orders-dr was not promoted within 1s (PROMOTE_TIMEOUT): status backing-up, replica of "arn:aws:rds:us-east-1:111122223333:db:orders"; ` +
				"RDS does not promote a read replica while it is backing up; PromoteReadReplica refused: " + refusal,
			want: outcome{
				err: `orders-dr was not promoted within 1s (PROMOTE_TIMEOUT): status backing-up, replica of "arn:aws:rds:us-east-1:111122223333:db:orders"; ` +
					"RDS does not promote a read replica while it is backing up; PromoteReadReplica refused: " + refusal,
				refusedPromotes: 1, inRecovery: true, record: []string{primaryEndpt}, healthCheck: "hc-primary",
				subjects: []string{"PostgresDR failover failed: orders-dr"},
			},
		},
	})
}

// TestDNSBestEffort: after the promotion, a failed or late ChangeResourceRecordSets does not fail
// the failover. AWS: the whitepaper "AWS Fault Isolation Boundaries", Appendix B
// (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-b---edge-network-global-service-guidance.html):
// Route 53's control plane is in us-east-1, its data plane (health checks, answers) is global,
// and recovery should not depend on control-plane changes. The PRIMARY record's health check
// already sends clients to the SECONDARY record, which names the replica.
func TestDNSBestEffort(t *testing.T) {
	const pointErr = "cannot point record db.orders.example.com (orders-primary) at " + drEndpoint + ": operation error Route 53: ChangeResourceRecordSets"
	notUpdated := outcome{
		action: ActionPromoted, promotes: 1, dnsUpdated: new(false), record: []string{primaryEndpt}, healthCheck: "hc-primary",
		subjects: []string{"PostgresDR failover promoted: orders-dr (DNS not updated)"},
	}
	with := func(o outcome, dnsErr string) outcome {
		o.dnsError, o.dnsNotice = dnsErr, "not updated: "+dnsErr
		return o
	}
	failRoute53 := func(fault *awsfake.Fault, ops ...string) func(t *testing.T, f *fixture) {
		return func(t *testing.T, fx *fixture) {
			killPrimary(t, fx)
			for _, op := range ops {
				fx.aws.FailRoute53(op, fault)
			}
		}
	}
	runHandleCases(t, map[string]handleCase{
		"ChangeUnavailable": {
			reason:     "Route53 answers 503: the replica is promoted and writable, the run succeeds, and the summary and notification say the record was not updated.",
			setup:      failRoute53(&awsfake.Fault{Status: 503, Code: "ServiceUnavailable", Message: "Service Unavailable"}, "ChangeResourceRecordSets"),
			wantDNSErr: pointErr + ", exceeded maximum number of attempts, 2, https response error StatusCode: 503",
			want:       with(notUpdated, pointErr+", exceeded maximum number of attempts, 2, https response error StatusCode: 503"),
		},
		"ChangeThrottled": {
			reason:     "Route53 throttles the change: the run succeeds, the record is not updated.",
			setup:      failRoute53(&awsfake.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"}, "ChangeResourceRecordSets"),
			wantDNSErr: "api error Throttling: Rate exceeded",
			want:       with(notUpdated, "api error Throttling: Rate exceeded"),
		},
		"ChangeTimesOut": {
			reason: "Route53 does not answer within DNS_TIMEOUT: the run succeeds, the record is not updated.",
			setup: func(t *testing.T, f *fixture) {
				failRoute53(&awsfake.Fault{Delay: time.Minute}, "ChangeResourceRecordSets")(t, f)
				f.env[contract.EnvDNSTimeout] = "500ms"
			},
			wantDNSErr: "cannot update the record within 500ms (DNS_TIMEOUT): " + pointErr,
			want:       with(notUpdated, "cannot update the record within 500ms (DNS_TIMEOUT): "+pointErr),
		},
		"ResumeWithoutRoute53": {
			reason: "A resumed failover (replica promoted by an earlier run) finishes when Route53 reads and changes both fail: writable, no error, record not updated.",
			setup: func(t *testing.T, f *fixture) {
				failRoute53(&awsfake.Fault{Status: 500, Code: "InternalFailure", Message: "Internal failure"}, "ListResourceRecordSets", "ChangeResourceRecordSets")(t, f)
				if err := f.pair.Standby.Promote(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			wantDNSErr: "cannot read record db.orders.example.com in hosted zone ZPGDR0000000001 (HOSTED_ZONE_ID): operation error Route 53: ListResourceRecordSets",
			want: func() outcome {
				o := with(notUpdated, "cannot read record db.orders.example.com in hosted zone ZPGDR0000000001 (HOSTED_ZONE_ID): operation error Route 53: ListResourceRecordSets")
				o.action, o.promotes, o.subjects = ActionResumed, 0, []string{"PostgresDR failover resumed: orders-dr (DNS not updated)"}
				return o
			}(),
		},
	})
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
	got := observe(t, f, s, nil, "", "")
	want := outcome{
		action: ActionPromoted, promotes: 1, dnsChanges: 1, dnsUpdated: new(true), dnsNotice: "updated", record: []string{drEndpoint},
		subjects: []string{"PostgresDR failover promoted: orders-dr"},
	}
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
	got = observe(t, f, s2, nil, "", "")
	want = outcome{
		action: ActionAlreadyDone, promotes: 1, dnsChanges: 1, dnsUpdated: new(true), dnsNotice: "updated", record: []string{drEndpoint},
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
