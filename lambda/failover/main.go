// Command failover is the failover Lambda of function-postgres-dr. An EventBridge rule sends it
// the state changes of the DR composite alarm; on ALARM of its configured alarm it checks that
// the primary does not answer (no split brain), promotes the DR read replica, polls until it is
// available and takes a write (re-issuing the promotion when RDS refused it, as it does while the
// replica is backing up), UPSERTs the Route53 PRIMARY failover record to point at it (best
// effort: Route53's control plane may be down with the primary's region), and publishes a
// summary with timings to SNS.
//
// The same Lambda runs a planned switchover when it is sent a SwitchoverRequest ({"action":
// "switchover", "id": …}, what a provider-aws lambda Invocation sends): it fences the writer,
// waits until the replica has replayed all of its WAL, promotes the replica and points the
// record at it, and returns a SwitchoverResult. See lambda/README.md.
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
	// Handler.Invoke sends switchover requests to Switchover and everything else to Handle.
	lambda.Start(NewHandler(cfg, os.LookupEnv, log))
}
