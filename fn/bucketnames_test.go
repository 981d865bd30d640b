package fn

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"

	s3v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta1"
	s3v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta2"
)

// bucketNames is every place a backup bucket's name is used.
type bucketNames struct {
	Bucket        string // the Bucket's external name: the name provider-aws creates or finds
	PolicyARN     string // the TLS-only bucket policy's resource
	ReplicationTo string // the replication's destination, "" when the bucket is no destination
	Status        string // status.primary/dr.bucket
}

// TestBucketNameKeptWhenObserved checks that an existing bucket keeps its name when the naming
// scheme changes, and everything that names it follows. A bucket cannot be renamed: provider-aws
// takes an S3 Bucket's name from its external name (`"aws_s3_bucket":
// config.ParameterAsIdentifier("bucket")`, config/externalname.go of provider-aws v2.5.0), so a new external name on an existing
// bucket's resource would make it create a second, empty bucket and leave the backups in the old
// one. S3 names are global across all accounts of a partition ("Bucket names must be unique
// across all AWS accounts in all the AWS Regions within a partition", S3 User Guide, General
// purpose bucket naming rules): a new bucket's name holds the account.
func TestBucketNameKeptWhenObserved(t *testing.T) {
	p := testPlan(t, builderSpec)
	const (
		oldPrimary = "orders-0c614a-backup-us-east-1" // the scheme before the account was part of the name
		oldDR      = "orders-0c614a-backup-us-east-2"
		newPrimary = "orders-0c614a-backup-123456789012-us-east-1"
		newDR      = "orders-0c614a-backup-123456789012-us-east-2"
	)
	// oldBucket is an observed bucket of a role, created under the old scheme.
	oldBucket := func(role Role, name string) observedState {
		return observedState{bucketName(role): observedFixture(t, bucketName(role), named(&s3v1beta2.Bucket{
			Spec: s3v1beta2.BucketSpec{ForProvider: s3v1beta2.BucketParameters{Region: new(p.Regions[role].Region)}},
		}, name), nil)}
	}
	cases := map[string]struct {
		reason   string
		observed observedState
		want     map[Role]bucketNames
	}{
		"NewXR": {
			reason:   "No bucket observed: both get the new name, with the account.",
			observed: observedState{},
			want: map[Role]bucketNames{
				RolePrimary: {Bucket: newPrimary, PolicyARN: "arn:aws:s3:::" + newPrimary, Status: newPrimary},
				RoleDR:      {Bucket: newDR, PolicyARN: "arn:aws:s3:::" + newDR, ReplicationTo: "arn:aws:s3:::" + newDR, Status: newDR},
			},
		},
		"ObservedBuckets": {
			reason:   "Both buckets observed under the old scheme: both keep their names, and the policies, the replication and the status name them.",
			observed: fxUnion(oldBucket(RolePrimary, oldPrimary), oldBucket(RoleDR, oldDR)),
			want: map[Role]bucketNames{
				RolePrimary: {Bucket: oldPrimary, PolicyARN: "arn:aws:s3:::" + oldPrimary, Status: oldPrimary},
				RoleDR:      {Bucket: oldDR, PolicyARN: "arn:aws:s3:::" + oldDR, ReplicationTo: "arn:aws:s3:::" + oldDR, Status: oldDR},
			},
		},
		"OneObserved": {
			reason:   "Only the primary bucket observed (the DR one not yet created): the primary keeps its name, the new DR bucket gets the new one.",
			observed: oldBucket(RolePrimary, oldPrimary),
			want: map[Role]bucketNames{
				RolePrimary: {Bucket: oldPrimary, PolicyARN: "arn:aws:s3:::" + oldPrimary, Status: oldPrimary},
				RoleDR:      {Bucket: newDR, PolicyARN: "arn:aws:s3:::" + newDR, ReplicationTo: "arn:aws:s3:::" + newDR, Status: newDR},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, o := settle(t, p, fxUnion(dataLayer(t, p, false), tc.observed), func(o observedState, d *desiredState) { buildStorage(p, o, detectFailover(p, o), d) })
			st := buildStatus(p, o, stReplicating, d, nil)
			got := map[Role]bucketNames{}
			for _, role := range roles {
				b, ok := d.Resources[bucketName(role)].(*s3v1beta2.Bucket)
				if !ok {
					t.Fatalf("%s is not a desired Bucket", bucketName(role))
				}
				bp, ok := d.Resources[bucketPart(role, "policy")].(*s3v1beta1.BucketPolicy)
				if !ok {
					t.Fatalf("%s is not a desired BucketPolicy", bucketPart(role, "policy"))
				}
				n := bucketNames{
					Bucket:    b.GetAnnotations()["crossplane.io/external-name"],
					PolicyARN: fxPolicyDoc(t, deref(bp.Spec.ForProvider.Policy)).Statement[0].Resource[0],
				}
				if rc, ok := d.Resources[bucketPart(role.Peer(), "replication")].(*s3v1beta2.BucketReplicationConfiguration); ok {
					n.ReplicationTo = deref(rc.Spec.ForProvider.Rule[0].Destination.Bucket)
				}
				n.Status = st.Primary.Bucket
				if role == RoleDR {
					n.Status = st.DR.Bucket
				}
				got[role] = n
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nbucket names: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// fxUnion returns the union of observed states, the later winning.
func fxUnion(parts ...observedState) observedState {
	out := observedState{}
	for _, p := range parts {
		maps.Copy(out, p)
	}
	return out
}

// fxPolicyDoc parses a policy document.
func fxPolicyDoc(t *testing.T, doc string) policyDocument {
	t.Helper()
	var d policyDocument
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Statement) == 0 || len(d.Statement[0].Resource) == 0 {
		t.Fatalf("policy %s has no statement with a resource", doc)
	}
	return d
}
