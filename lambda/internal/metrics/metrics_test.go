package metrics

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pgdr/function-postgres-dr/lambda/internal/awsfake"
)

func TestPublish(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	pair := map[string]string{"Pair": "orders"}
	cases := map[string]struct {
		reason string
		sample Sample
		want   []awsfake.Datum
	}{
		"Measured": {
			reason: "Every metric of the contract, with its unit, the Pair dimension and one timestamp.",
			sample: Sample{PrimaryReachable: true, ReplicaReachable: true, ReplicationLagBytes: new(1024.0), ReceiveLagBytes: new(0.0), ReplicationLagSeconds: new(0.25)},
			want: []awsfake.Datum{
				{MetricName: "PrimaryReachable", Value: 1, Unit: "None", Dimensions: pair, Timestamp: at},
				{MetricName: "ReplicaReachable", Value: 1, Unit: "None", Dimensions: pair, Timestamp: at},
				{MetricName: "ReplicationLagBytes", Value: 1024, Unit: "Bytes", Dimensions: pair, Timestamp: at},
				{MetricName: "ReceiveLagBytes", Value: 0, Unit: "Bytes", Dimensions: pair, Timestamp: at},
				{MetricName: "ReplicationLagSeconds", Value: 0.25, Unit: "Seconds", Dimensions: pair, Timestamp: at},
			},
		},
		"PrimaryDown": {
			reason: "An unreachable primary is published as 0, and the lags that need it are left out.",
			sample: Sample{ReplicaReachable: true},
			want: []awsfake.Datum{
				{MetricName: "PrimaryReachable", Value: 0, Unit: "None", Dimensions: pair, Timestamp: at},
				{MetricName: "ReplicaReachable", Value: 1, Unit: "None", Dimensions: pair, Timestamp: at},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := awsfake.New(t)
			if err := Publish(t.Context(), cloudwatch.NewFromConfig(s.AWSConfig()), "PostgresDR", "orders", tc.sample, at); err != nil {
				t.Fatalf("Publish(...): %v", err)
			}
			b := s.MetricBatches()
			if len(b) != 1 || b[0].Namespace != "PostgresDR" {
				t.Fatalf("Publish(...): want one PutMetricData to PostgresDR, got %+v", b)
			}
			if diff := cmp.Diff(tc.want, b[0].Data, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nPublish(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
