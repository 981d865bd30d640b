package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSubject(t *testing.T) {
	cases := map[string]struct {
		reason string
		s      Summary
		want   string
	}{
		"Promoted": {
			reason: "Action and replica.",
			s:      Summary{Action: ActionPromoted, ReplicaInstanceID: "orders-dr"},
			want:   "PostgresDR failover promoted: orders-dr",
		},
		"DNSNotUpdated": {
			reason: "A failover whose DNS change failed says so after the replica's name.",
			s:      Summary{Action: ActionPromoted, ReplicaInstanceID: "orders-dr", DNSUpdated: new(false)},
			want:   "PostgresDR failover promoted: orders-dr (DNS not updated)",
		},
		"DNSUpdated": {
			reason: "A DNS change that worked adds nothing.",
			s:      Summary{Action: ActionPromoted, ReplicaInstanceID: "orders-dr", DNSUpdated: new(true)},
			want:   "PostgresDR failover promoted: orders-dr",
		},
		"Long": {
			reason: "SNS refuses subjects of 100 characters or more: cut to 99.",
			s:      Summary{Action: ActionFailed, ReplicaInstanceID: strings.Repeat("r", 120)},
			want:   ("PostgresDR failover failed: " + strings.Repeat("r", 120))[:99],
		},
		"NotASCII": {
			reason: "SNS refuses control and non-ASCII characters.",
			s:      Summary{Action: ActionFailed, ReplicaInstanceID: "dr\nü"},
			want:   "PostgresDR failover failed: dr???",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, subject(tc.s)); diff != "" {
				t.Errorf("%s\nsubject(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Summary{
		Action: ActionPromoted, Alarm: "orders-dr-failover", ReplicaInstanceID: "orders-dr", Endpoint: "dr.example",
		Record: "db.example.com", DNSChangeID: "/change/C1", PrimaryProbe: "no answer after 2 attempts",
		Timings: Timings{AlarmAt: at, ReceivedAt: at.Add(time.Second), WritableAt: at.Add(2500 * time.Millisecond)},
	}
	s.Timings.compute()
	got := message(s)
	for _, want := range []string{
		"PostgreSQL DR failover of orders-dr: promoted\n",
		"Alarm: orders-dr-failover (ALARM since 2025-01-02T03:04:05Z)\n",
		"DNS: db.example.com now points at dr.example (change /change/C1)\n",
		"Timings: alarm to writable 2.5s; received to writable 1.5s; promote to available -; available to writable -\n",
		`"alarmToWritableMs": 2500`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("message(...) lacks %q:\n%s", want, got)
		}
	}
}

func TestMessageOutcomes(t *testing.T) {
	base := Summary{Action: ActionPromoted, Alarm: "orders-dr-failover", ReplicaInstanceID: "orders-dr", Endpoint: "dr.example", Record: "db.example.com"}
	with := func(f func(s *Summary)) Summary {
		s := base
		f(&s)
		return s
	}
	cases := map[string]struct {
		reason  string
		s       Summary
		want    []string
		wantNot []string
	}{
		"DNSUpdated": {
			reason:  "A DNS change that worked names the change.",
			s:       with(func(s *Summary) { s.DNSUpdated, s.DNSChangeID = new(true), "/change/C1" }),
			want:    []string{"DNS: db.example.com now points at dr.example (change /change/C1)\n", `"dnsUpdated": true`},
			wantNot: []string{"NOT updated", "Promotion:"},
		},
		"DNSAlreadyPointed": {
			reason: "A record that pointed at the endpoint already is said to.",
			s:      with(func(s *Summary) { s.DNSUpdated = new(true) }),
			want:   []string{"DNS: db.example.com already points at dr.example\n"},
		},
		"DNSNotUpdated": {
			reason: "A failed DNS change is stated with its error and what routes clients meanwhile; the JSON says dnsUpdated false.",
			s: with(func(s *Summary) {
				s.DNSUpdated, s.DNSError = new(false), "cannot point record db.example.com: api error Throttling: Rate exceeded"
			}),
			want: []string{
				"DNS: db.example.com was NOT updated to point at dr.example: cannot point record db.example.com: api error Throttling: Rate exceeded\n",
				"DNS: the PRIMARY record's health check sends clients to the SECONDARY record meanwhile",
				`"dnsUpdated": false`, `"dnsError": "cannot point record db.example.com: api error Throttling: Rate exceeded"`,
			},
			wantNot: []string{"now points at"},
		},
		"Reissued": {
			reason: "Re-issued promotions are counted, with RDS's last refusal.",
			s:      with(func(s *Summary) { s.PromoteReissues, s.PromoteRefusal = 2, "InvalidDBInstanceState: backing-up" }),
			want:   []string{"Promotion: PromoteReadReplica re-issued 2 times; RDS's last refusal: InvalidDBInstanceState: backing-up\n", `"promoteReissues": 2`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := message(tc.s)
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("%s\nmessage(...) lacks %q:\n%s", tc.reason, want, got)
				}
			}
			for _, not := range tc.wantNot {
				if strings.Contains(got, not) {
					t.Errorf("%s\nmessage(...) has %q:\n%s", tc.reason, not, got)
				}
			}
		})
	}
}
