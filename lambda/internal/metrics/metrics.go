// Package metrics turns a replication measurement into the CloudWatch metric data of the
// contract and publishes it in one PutMetricData call.
package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// Sample is one measurement of a primary and its replica. A nil lag could not be measured
// (a server did not answer) and is not published.
type Sample struct {
	PrimaryReachable      bool
	ReplicaReachable      bool
	ReplicationLagBytes   *float64
	ReceiveLagBytes       *float64
	ReplicationLagSeconds *float64
}

// Putter is the part of the CloudWatch API that Publish uses.
type Putter interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Data returns the metric data of a sample, all with dimension Pair=pair and timestamp at.
func Data(s Sample, pair string, at time.Time) []types.MetricDatum {
	dims := []types.Dimension{{Name: aws.String(contract.DimensionPair), Value: aws.String(pair)}}
	datum := func(name string, v float64, unit types.StandardUnit) types.MetricDatum {
		return types.MetricDatum{
			MetricName: aws.String(name), Value: aws.Float64(v), Unit: unit,
			Dimensions: dims, Timestamp: aws.Time(at.UTC()),
		}
	}
	out := []types.MetricDatum{
		datum(contract.MetricPrimaryReachable, flag(s.PrimaryReachable), types.StandardUnitNone),
		datum(contract.MetricReplicaReachable, flag(s.ReplicaReachable), types.StandardUnitNone),
	}
	if s.ReplicationLagBytes != nil {
		out = append(out, datum(contract.MetricReplicationLagBytes, *s.ReplicationLagBytes, types.StandardUnitBytes))
	}
	if s.ReceiveLagBytes != nil {
		out = append(out, datum(contract.MetricReceiveLagBytes, *s.ReceiveLagBytes, types.StandardUnitBytes))
	}
	if s.ReplicationLagSeconds != nil {
		out = append(out, datum(contract.MetricReplicationLagSeconds, *s.ReplicationLagSeconds, types.StandardUnitSeconds))
	}
	return out
}

// Publish sends a sample in one PutMetricData call.
func Publish(ctx context.Context, c Putter, namespace, pair string, s Sample, at time.Time) error {
	_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace:  aws.String(namespace),
		MetricData: Data(s, pair, at),
	})
	if err != nil {
		return fmt.Errorf("cannot publish metrics to CloudWatch namespace %s: %w", namespace, err)
	}
	return nil
}
