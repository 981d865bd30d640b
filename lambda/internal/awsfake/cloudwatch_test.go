package awsfake

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPutMetricData(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	type want struct {
		batches []MetricBatch
		errCode string
	}
	cases := map[string]struct {
		reason string
		in     *cloudwatch.PutMetricDataInput
		want   want
	}{
		"Published": {
			reason: "The real SDK's RPCv2 CBOR request is decoded into what it sent.",
			in: &cloudwatch.PutMetricDataInput{
				Namespace: aws.String("PostgresDR"),
				MetricData: []types.MetricDatum{
					{MetricName: aws.String("ReplicationLagBytes"), Value: aws.Float64(1234), Unit: types.StandardUnitBytes, Timestamp: aws.Time(ts),
						Dimensions: []types.Dimension{{Name: aws.String("Pair"), Value: aws.String("orders")}}},
					{MetricName: aws.String("PrimaryReachable"), Value: aws.Float64(0), Unit: types.StandardUnitNone, Timestamp: aws.Time(ts), StorageResolution: aws.Int32(60)},
				},
			},
			want: want{batches: []MetricBatch{{Namespace: "PostgresDR", Data: []Datum{
				{MetricName: "ReplicationLagBytes", Value: 1234, Unit: "Bytes", Timestamp: ts, Dimensions: map[string]string{"Pair": "orders"}},
				{MetricName: "PrimaryReachable", Value: 0, Unit: "None", Timestamp: ts, StorageResolution: 60, Dimensions: map[string]string{}},
			}}}},
		},
		"ReservedNamespace": {
			reason: "CloudWatch refuses the AWS/ namespaces, and so does the fake.",
			in: &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/RDS"),
				MetricData: []types.MetricDatum{{MetricName: aws.String("X"), Value: aws.Float64(1)}}},
			want: want{errCode: "InvalidParameterValue"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			_, err := cloudwatch.NewFromConfig(s.AWSConfig()).PutMetricData(t.Context(), tc.in)
			got := want{batches: s.MetricBatches()}
			if ae, ok := errors.AsType[smithy.APIError](err); ok {
				got.errCode = ae.ErrorCode()
			} else if err != nil {
				t.Fatalf("PutMetricData(...): %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}), cmpopts.IgnoreFields(MetricBatch{}, "Received")); diff != "" {
				t.Errorf("%s\nPutMetricData(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
