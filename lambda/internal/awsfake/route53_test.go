package awsfake

import (
	"errors"
	"testing"

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
		record  Record
		listed  []string
		errCode string
	}
	cases := map[string]struct {
		reason string
		action types.ChangeAction
		set    types.ResourceRecordSet
		want   want
	}{
		"Upsert": {
			reason: "UPSERT replaces the failover record, health check included; List finds it by name, type and identifier.",
			action: types.ChangeActionUpsert,
			set:    primary("dr.rds.example"),
			want: want{
				record: Record{Name: "db.example.com.", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"dr.rds.example"}},
				listed: []string{"dr.rds.example"},
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
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			s.AddHostedZone("ZFAKE", "example.com")
			s.PutRecord("ZFAKE", Record{Name: "db.example.com", Type: "CNAME", SetIdentifier: "primary", Failover: "PRIMARY", TTL: 30, Values: []string{"old.rds.example"}, HealthCheckID: "hc-1"})
			s.PutRecord("ZFAKE", Record{Name: "db.example.com", Type: "CNAME", SetIdentifier: "secondary", Failover: "SECONDARY", TTL: 30, Values: []string{"dr.rds.example"}})
			c := route53.NewFromConfig(s.AWSConfig())
			_, err := c.ChangeResourceRecordSets(t.Context(), &route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String("/hostedzone/ZFAKE"),
				ChangeBatch:  &types.ChangeBatch{Changes: []types.Change{{Action: tc.action, ResourceRecordSet: &tc.set}}},
			})
			var got want
			if ae, ok := errors.AsType[smithy.APIError](err); ok {
				got.errCode = ae.ErrorCode()
			} else if err != nil {
				t.Fatalf("ChangeResourceRecordSets(...): %v", err)
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
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nChangeResourceRecordSets(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
