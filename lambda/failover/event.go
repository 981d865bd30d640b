package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// alarmDetail is the detail of an EventBridge "CloudWatch Alarm State Change" event, for metric
// and composite alarms alike.
type alarmDetail struct {
	AlarmName string `json:"alarmName"`
	State     struct {
		Value     string `json:"value"`
		Reason    string `json:"reason"`
		Timestamp string `json:"timestamp"`
	} `json:"state"`
	PreviousState struct {
		Value string `json:"value"`
	} `json:"previousState"`
}

// alarm is an alarm state change the Lambda acts on.
type alarm struct {
	Name   string
	Since  time.Time
	Reason string
}

// parseAlarm returns the alarm of an event, or why the Lambda does not act on it: only the
// ALARM state of the configured alarm triggers a failover.
func parseAlarm(ev events.CloudWatchEvent, name string) (alarm, string) {
	if ev.Source != contract.AlarmEventSource || ev.DetailType != contract.AlarmEventDetailType {
		return alarm{}, fmt.Sprintf("not an alarm state change (source %q, detail-type %q)", ev.Source, ev.DetailType)
	}
	var d alarmDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return alarm{}, fmt.Sprintf("cannot read the alarm state change: %v", err)
	}
	if d.AlarmName != name {
		return alarm{}, fmt.Sprintf("alarm %q is not the configured alarm %q", d.AlarmName, name)
	}
	if d.State.Value != contract.AlarmStateAlarm {
		return alarm{}, fmt.Sprintf("alarm %q changed to %s, not %s", d.AlarmName, d.State.Value, contract.AlarmStateAlarm)
	}
	a := alarm{Name: d.AlarmName, Reason: d.State.Reason, Since: ev.Time}
	if t, ok := parseAlarmTime(d.State.Timestamp); ok {
		a.Since = t
	}
	return a, ""
}

// parseAlarmTime reads CloudWatch's timestamps, such as 2019-10-02T17:04:40.985+0000.
func parseAlarmTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
