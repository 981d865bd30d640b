package awsfake

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// memBackend is an in-memory stand-in for a standby, for testing the wire protocol only; the
// Lambdas' tests use a real PostgreSQL standby.
type memBackend struct {
	mu       sync.Mutex
	recovery bool
}

func (b *memBackend) InRecovery(context.Context) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.recovery, nil
}

func (b *memBackend) Promote(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recovery = false
	return nil
}

func TestRDS(t *testing.T) {
	type state struct {
		status, source, address string
	}
	type want struct {
		before, after state
		promoteErr    string
	}
	cases := map[string]struct {
		reason   string
		id       string
		recovery bool
		want     want
	}{
		"Promote": {
			reason: "A replica is promoted; it is modifying, then available without a source.",
			id:     "dr", recovery: true,
			want: want{
				before: state{status: "available", source: "arn:aws:rds:us-east-1:111122223333:db:primary", address: "127.0.0.1"},
				after:  state{status: "available", address: "127.0.0.1"},
			},
		},
		"NotReplica": {
			reason: "Promoting an instance that is no replica fails as in RDS.",
			id:     "dr", recovery: false,
			want: want{
				before:     state{status: "available", address: "127.0.0.1"},
				after:      state{status: "available", address: "127.0.0.1"},
				promoteErr: "InvalidDBInstanceState",
			},
		},
		"Unknown": {
			reason: "An unknown instance is DBInstanceNotFound.",
			id:     "nope",
			want:   want{promoteErr: "DBInstanceNotFound"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			s.AddInstance(&Instance{ID: "dr", SourceID: "arn:aws:rds:us-east-1:111122223333:db:primary", Address: "127.0.0.1", Port: 5432,
				Backend: &memBackend{recovery: tc.recovery}, ExtraPromoteTime: 50 * time.Millisecond})
			c := rds.NewFromConfig(s.AWSConfig())
			describe := func() state {
				out, err := c.DescribeDBInstances(t.Context(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(tc.id)})
				if err != nil || len(out.DBInstances) != 1 {
					return state{}
				}
				i := out.DBInstances[0]
				return state{status: aws.ToString(i.DBInstanceStatus), source: aws.ToString(i.ReadReplicaSourceDBInstanceIdentifier), address: aws.ToString(i.Endpoint.Address)}
			}
			var got want
			got.before = describe()
			out, err := c.PromoteReadReplica(t.Context(), &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String(tc.id)})
			var ae smithy.APIError
			switch {
			case errors.As(err, &ae):
				got.promoteErr = ae.ErrorCode()
			case err != nil:
				t.Fatalf("PromoteReadReplica(...): %v", err)
			default:
				if st := aws.ToString(out.DBInstance.DBInstanceStatus); st != "modifying" {
					t.Errorf("PromoteReadReplica(...): status %q, want modifying", st)
				}
			}
			s.WaitPromotions()
			got.after = describe()
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}, state{})); diff != "" {
				t.Errorf("%s\nDescribe/Promote: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
