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

// subject is an SNS subject: printable ASCII, under 100 characters. It says when the DNS change
// failed, after the replica's name, so that a long name cuts that note first.
func subject(s Summary) string {
	text := fmt.Sprintf("PostgresDR failover %s: %s", s.Action, s.ReplicaInstanceID)
	if dnsFailed(s) {
		text += " (DNS not updated)"
	}
	return snsSubject(text)
}

// snsSubject makes text an SNS subject: printable ASCII, under 100 characters.
func snsSubject(text string) string {
	out := []byte(text)
	for i, b := range out {
		if b < 0x20 || b > 0x7e {
			out[i] = '?'
		}
	}
	return string(out[:min(len(out), 99)])
}

// dnsFailed reports whether the run tried to point the record at the new primary and could not.
func dnsFailed(s Summary) bool {
	return s.DNSUpdated != nil && !*s.DNSUpdated
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
	if s.PromoteReissues > 0 {
		fmt.Fprintf(&b, "Promotion: PromoteReadReplica re-issued %s; RDS's last refusal: %s\n", times(s.PromoteReissues), s.PromoteRefusal)
	}
	switch {
	case dnsFailed(s):
		fmt.Fprintf(&b, "DNS: %s was NOT updated to point at %s: %s\n", s.Record, s.Endpoint, s.DNSError)
		fmt.Fprintf(&b, "DNS: the PRIMARY record's health check sends clients to the SECONDARY record meanwhile; "+
			"UPSERT the PRIMARY record as a CNAME of %s once Route53's control plane answers (running the failover Lambda again does it)\n", s.Endpoint)
	case s.DNSChangeID != "":
		fmt.Fprintf(&b, "DNS: %s now points at %s (change %s)\n", s.Record, s.Endpoint, s.DNSChangeID)
	case s.DNSUpdated != nil:
		fmt.Fprintf(&b, "DNS: %s already points at %s\n", s.Record, s.Endpoint)
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
