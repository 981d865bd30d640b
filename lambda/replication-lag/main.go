// Command replication-lag is the replication-lag monitor Lambda of function-postgres-dr. On an
// EventBridge schedule it connects to the primary and the replica and publishes, in one
// PutMetricData call to CloudWatch: the byte lag (pg_wal_lsn_diff of the primary's current LSN
// and the replica's replay and receive LSNs), the lag in seconds from a heartbeat row it writes
// on the primary, and whether each server is reachable. See lambda/README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		lambda.Start(func(context.Context) error { return fmt.Errorf("cannot load the AWS configuration: %w", err) })
		return
	}
	lambda.Start(NewHandler(cfg, os.LookupEnv, log).Handle)
}
