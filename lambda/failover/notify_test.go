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
