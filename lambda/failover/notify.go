package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
)

// subject is an SNS subject: printable ASCII, under 100 characters.
func subject(s Summary) string {
	out := []byte(fmt.Sprintf("PostgresDR failover %s: %s", s.Action, s.ReplicaInstanceID))
	for i, b := range out {
		if b < 0x20 || b > 0x7e {
			out[i] = '?'
		}
	}
	return string(out[:min(len(out), 99)])
}

func dur(v float64) string {
	if v == 0 {
		return "-"
	}
	return (time.Duration(v * float64(time.Millisecond))).Round(time.Millisecond).String()
}

// message is the text of the SNS notification: what happened, then the timings, then the
// summary as JSON for machines.
func message(s Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "PostgreSQL DR failover of %s: %s\n", s.ReplicaInstanceID, s.Action)
	if s.Reason != "" {
		fmt.Fprintf(&b, "Why: %s\n", s.Reason)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", s.Error)
	}
	fmt.Fprintf(&b, "Alarm: %s (ALARM since %s)\n", s.Alarm, s.Timings.AlarmAt.UTC().Format(time.RFC3339Nano))
	if s.PrimaryProbe != "" {
		fmt.Fprintf(&b, "Primary probe: %s\n", s.PrimaryProbe)
	}
	if s.Endpoint != "" {
		fmt.Fprintf(&b, "New primary endpoint: %s\n", s.Endpoint)
	}
	if s.DNSChangeID != "" {
		fmt.Fprintf(&b, "DNS: %s now points at %s (change %s)\n", s.Record, s.Endpoint, s.DNSChangeID)
	}
	t := s.Timings
	fmt.Fprintf(&b, "Timings: alarm to writable %s; received to writable %s; promote to available %s; available to writable %s\n",
		dur(t.AlarmToWritableMs), dur(t.ReceivedToWritableMs), dur(t.PromoteToAvailableMs), dur(t.AvailableToWritableMs))
	b.WriteString("\n")
	j, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		fmt.Fprintf(&b, "(cannot encode the summary as JSON: %v)\n", err)
		return b.String()
	}
	b.Write(j)
	return b.String()
}

// notify publishes the summary to the topic.
func (h *Handler) notify(ctx context.Context, c config.Failover, s Summary) error {
	_, err := h.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(c.TopicARN),
		Subject:  aws.String(subject(s)),
		Message:  aws.String(message(s)),
	})
	if err != nil {
		return fmt.Errorf("cannot notify topic %s: %w", c.TopicARN, err)
	}
	return nil
}
