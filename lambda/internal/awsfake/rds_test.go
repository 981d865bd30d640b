package awsfake

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
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
		backup   time.Duration
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
				promoteErr: "*types.InvalidDBInstanceStateFault InvalidDBInstanceState",
			},
		},
		"BackingUp": {
			reason: "A replica that is backing up is reported so and refused with InvalidDBInstanceState, which the SDK parses into its typed fault; the standby stays a standby.",
			id:     "dr", recovery: true, backup: time.Hour,
			want: want{
				before:     state{status: "backing-up", source: "arn:aws:rds:us-east-1:111122223333:db:primary", address: "127.0.0.1"},
				after:      state{status: "backing-up", source: "arn:aws:rds:us-east-1:111122223333:db:primary", address: "127.0.0.1"},
				promoteErr: "*types.InvalidDBInstanceStateFault InvalidDBInstanceState",
			},
		},
		"Unknown": {
			reason: "An unknown instance is DBInstanceNotFound.",
			id:     "nope",
			want:   want{promoteErr: "*types.DBInstanceNotFoundFault DBInstanceNotFound"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			s.AddInstance(&Instance{ID: "dr", SourceID: "arn:aws:rds:us-east-1:111122223333:db:primary", Address: "127.0.0.1", Port: 5432,
				Backend: &memBackend{recovery: tc.recovery}, ExtraPromoteTime: 50 * time.Millisecond})
			if tc.backup > 0 {
				if err := s.BackUp("dr", tc.backup); err != nil {
					t.Fatal(err)
				}
			}
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
				got.promoteErr = fmt.Sprintf("%T %s", ae, ae.ErrorCode())
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

// TestRDSBackup: a replica that backs up for a while refuses PromoteReadReplica until the backup
// ends, as RDS does ("a read replica cannot be promoted to a standalone instance when it is in
// the backing-up status", RDS API reference, PromoteReadReplica), then is available and can be
// promoted.
func TestRDSBackup(t *testing.T) {
	s := New(t)
	s.AddInstance(&Instance{ID: "dr", SourceID: "arn:aws:rds:us-east-1:111122223333:db:primary", Address: "127.0.0.1", Port: 5432,
		Backend: &memBackend{recovery: true}})
	if err := s.BackUp("nope", time.Second); err == nil {
		t.Error("BackUp(nope): want an error for an unknown instance")
	}
	const backup = 300 * time.Millisecond
	end := time.Now().Add(backup)
	if err := s.BackUp("dr", backup); err != nil {
		t.Fatal(err)
	}
	c := rds.NewFromConfig(s.AWSConfig())
	type step struct {
		status, source string
		promote        string
	}
	do := func() step {
		out, err := c.DescribeDBInstances(t.Context(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("dr")})
		if err != nil {
			t.Fatalf("DescribeDBInstances(...): %v", err)
		}
		i := out.DBInstances[0]
		st := step{status: aws.ToString(i.DBInstanceStatus), source: aws.ToString(i.ReadReplicaSourceDBInstanceIdentifier), promote: "accepted"}
		_, err = c.PromoteReadReplica(t.Context(), &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("dr")})
		var fault *types.InvalidDBInstanceStateFault
		switch {
		case errors.As(err, &fault):
			st.promote = fault.ErrorCode() + ": " + fault.ErrorMessage()
		case err != nil:
			t.Fatalf("PromoteReadReplica(...): %v", err)
		}
		return st
	}
	var got []step
	got = append(got, do())
	time.Sleep(time.Until(end) + 20*time.Millisecond)
	got = append(got, do())
	s.WaitPromotions()
	out, err := c.DescribeDBInstances(t.Context(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("dr")})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, step{status: aws.ToString(out.DBInstances[0].DBInstanceStatus), source: aws.ToString(out.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier)})
	want := []step{
		{status: "backing-up", source: "arn:aws:rds:us-east-1:111122223333:db:primary", promote: "InvalidDBInstanceState: DB instance dr is not in available state (backing-up)."},
		{status: "available", source: "arn:aws:rds:us-east-1:111122223333:db:primary", promote: "accepted"},
		{status: "available"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(step{})); diff != "" {
		t.Errorf("during the backup, after it, after the promotion: -want, +got:\n%s", diff)
	}
}
