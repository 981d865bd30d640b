package awsfake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func TestChangeResourceRecordSets(t *testing.T) {
	primary := func(target string) types.ResourceRecordSet {
		return types.ResourceRecordSet{
			Name: aws.String("db.example.com"), Type: types.RRTypeCname, SetIdentifier: aws.String("primary"),
			Failover: types.ResourceRecordSetFailoverPrimary, TTL: aws.Int64(30),
			ResourceRecords: []types.ResourceRecord{{Value: aws.String(target)}},
		}
	}
	type want struct {
		record   Record
		listed   []string
		errCode  string
		timedOut bool
		calls    []string
	}
	unchanged := Record{Name: "db.example.com.", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"old.rds.example"}, HealthCheckID: "hc-1"}
	cases := map[string]struct {
		reason string
		action types.ChangeAction
		set    types.ResourceRecordSet
		fault  *Fault
		want   want
	}{
		"Upsert": {
			reason: "UPSERT replaces the failover record, health check included; List finds it by name, type and identifier.",
			action: types.ChangeActionUpsert,
			set:    primary("dr.rds.example"),
			want: want{
				record: Record{Name: "db.example.com.", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"dr.rds.example"}},
				listed: []string{"dr.rds.example"},
				calls:  []string{"ChangeResourceRecordSets:", "ListResourceRecordSets:"},
			},
		},
		"Unavailable": {
			reason: "A 503 fault is answered in Route53's error shape, which the SDK retries (twice in all here); the record stays.",
			action: types.ChangeActionUpsert,
			set:    primary("dr.rds.example"),
			fault:  &Fault{Status: 503, Code: "ServiceUnavailable", Message: "Service Unavailable"},
			want: want{
				record: unchanged, listed: []string{"old.rds.example"}, errCode: "ServiceUnavailable",
				calls: []string{"ChangeResourceRecordSets:ServiceUnavailable", "ChangeResourceRecordSets:ServiceUnavailable", "ListResourceRecordSets:"},
			},
		},
		"Throttled": {
			reason: "Route53's throttling (400 Throttling) is retried by the SDK too; the record stays.",
			action: types.ChangeActionUpsert,
			set:    primary("dr.rds.example"),
			fault:  &Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"},
			want: want{
				record: unchanged, listed: []string{"old.rds.example"}, errCode: "Throttling",
				calls: []string{"ChangeResourceRecordSets:Throttling", "ChangeResourceRecordSets:Throttling", "ListResourceRecordSets:"},
			},
		},
		"NoAnswer": {
			reason: "A fault that only delays holds the answer until the client gives up; nothing changes.",
			action: types.ChangeActionUpsert,
			set:    primary("dr.rds.example"),
			fault:  &Fault{Delay: time.Minute},
			want: want{
				record: unchanged, listed: []string{"old.rds.example"}, timedOut: true,
				calls: []string{"ChangeResourceRecordSets:NoAnswer", "ListResourceRecordSets:"},
			},
		},
		"CreateExisting": {
			reason: "CREATE of an existing record is an InvalidChangeBatch; the record stays.",
			action: types.ChangeActionCreate,
			set:    primary("dr.rds.example"),
			want: want{
				record:  Record{Name: "db.example.com.", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"old.rds.example"}, HealthCheckID: "hc-1"},
				listed:  []string{"old.rds.example"},
				errCode: "InvalidChangeBatch",
				calls:   []string{"ChangeResourceRecordSets:InvalidChangeBatch", "ListResourceRecordSets:"},
			},
		},
		"NoFailover": {
			reason: "A set identifier without a routing policy is refused.",
			action: types.ChangeActionUpsert,
			set: func() types.ResourceRecordSet {
				s := primary("x")
				s.Failover = ""
				return s
			}(),
			want: want{
				record:  Record{Name: "db.example.com.", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"old.rds.example"}, HealthCheckID: "hc-1"},
				listed:  []string{"old.rds.example"},
				errCode: "InvalidInput",
				calls:   []string{"ChangeResourceRecordSets:InvalidInput", "ListResourceRecordSets:"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			s.AddHostedZone("ZFAKE", "example.com")
			s.PutRecord("ZFAKE", Record{Name: "db.example.com", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"old.rds.example"}, HealthCheckID: "hc-1"})
			s.PutRecord("ZFAKE", Record{Name: "db.example.com", Type: "CNAME", SetIdentifier: "secondary", Failover: "SECONDARY", TTL: 30, Values: []string{"dr.rds.example"}})
			s.FailRoute53("ChangeResourceRecordSets", tc.fault)
			c := route53.NewFromConfig(s.AWSConfig())
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if tc.fault != nil && tc.fault.Code == "" {
				ctx, cancel = context.WithTimeout(t.Context(), 200*time.Millisecond)
				defer cancel()
			}
			_, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String("/hostedzone/ZFAKE"),
				ChangeBatch:  &types.ChangeBatch{Changes: []types.Change{{Action: tc.action, ResourceRecordSet: &tc.set}}},
			})
			var got want
			switch ae, ok := errors.AsType[smithy.APIError](err); {
			case ok:
				got.errCode = ae.ErrorCode()
			case errors.Is(err, context.DeadlineExceeded):
				got.timedOut = true
			case err != nil:
				t.Fatalf("ChangeResourceRecordSets(...): %v", err)
			}
			// The fake records a request the client gave up on once it notices (within
			// milliseconds; the bound is generous for a loaded machine, and costs nothing else).
			for deadline := time.Now().Add(15 * time.Second); tc.want.timedOut && len(s.Calls()) == 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			got.record, _ = s.Record("ZFAKE", "db.example.com", "CNAME", "primary")
			out, err := c.ListResourceRecordSets(t.Context(), &route53.ListResourceRecordSetsInput{
				HostedZoneId: aws.String("ZFAKE"), StartRecordName: aws.String("db.example.com"),
				StartRecordType: types.RRTypeCname, StartRecordIdentifier: aws.String("primary"), MaxItems: aws.Int32(1),
			})
			if err != nil {
				t.Fatalf("ListResourceRecordSets(...): %v", err)
			}
			for _, rs := range out.ResourceRecordSets {
				for _, rr := range rs.ResourceRecords {
					got.listed = append(got.listed, aws.ToString(rr.Value))
				}
			}
			if !out.IsTruncated || aws.ToString(out.NextRecordIdentifier) != "secondary" {
				t.Errorf("ListResourceRecordSets(...): want truncated at the secondary record, got truncated=%t next=%q", out.IsTruncated, aws.ToString(out.NextRecordIdentifier))
			}
			for _, c := range s.Calls() {
				got.calls = append(got.calls, c.Operation+":"+c.Error)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nChangeResourceRecordSets(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
