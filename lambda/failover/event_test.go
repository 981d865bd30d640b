package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func alarmEvent(name, state, ts string) events.CloudWatchEvent {
	d, _ := json.Marshal(map[string]any{
		"alarmName":     name,
		"state":         map[string]string{"value": state, "reason": "Threshold Crossed", "timestamp": ts},
		"previousState": map[string]string{"value": "OK"},
	})
	return events.CloudWatchEvent{
		Version: "0", ID: "e1", DetailType: "CloudWatch Alarm State Change", Source: "aws.cloudwatch",
		AccountID: "111122223333", Region: "us-west-2", Time: time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC),
		Resources: []string{"arn:aws:cloudwatch:us-west-2:111122223333:alarm:" + name}, Detail: d,
	}
}

func TestParseAlarm(t *testing.T) {
	type want struct {
		a      alarm
		ignore string
	}
	cases := map[string]struct {
		reason string
		ev     events.CloudWatchEvent
		want   want
	}{
		"Alarm": {
			reason: "ALARM of the configured alarm is acted on, with the time of the state change.",
			ev:     alarmEvent("orders-dr-failover", "ALARM", "2025-01-02T03:04:05.678+0000"),
			want:   want{a: alarm{Name: "orders-dr-failover", Reason: "Threshold Crossed", Since: time.Date(2025, 1, 2, 3, 4, 5, 678e6, time.UTC)}},
		},
		"OK": {
			reason: "Back to OK is not acted on.",
			ev:     alarmEvent("orders-dr-failover", "OK", "2025-01-02T03:04:05.678+0000"),
			want:   want{ignore: `alarm "orders-dr-failover" changed to OK, not ALARM`},
		},
		"OtherAlarm": {
			reason: "Another alarm is not acted on.",
			ev:     alarmEvent("orders-cpu", "ALARM", "2025-01-02T03:04:05.678+0000"),
			want:   want{ignore: `alarm "orders-cpu" is not the configured alarm "orders-dr-failover"`},
		},
		"Scheduled": {
			reason: "Another kind of event is not acted on.",
			ev:     events.CloudWatchEvent{Source: "aws.events", DetailType: "Scheduled Event"},
			want:   want{ignore: `not an alarm state change (source "aws.events", detail-type "Scheduled Event")`},
		},
		"NoTimestamp": {
			reason: "Without a state timestamp the event's time is used.",
			ev:     alarmEvent("orders-dr-failover", "ALARM", ""),
			want:   want{a: alarm{Name: "orders-dr-failover", Reason: "Threshold Crossed", Since: time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC)}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, ignore := parseAlarm(tc.ev, "orders-dr-failover")
			if diff := cmp.Diff(tc.want, want{a: a, ignore: ignore}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nparseAlarm(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
