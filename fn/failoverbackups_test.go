package fn

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crossplane/function-sdk-go/resource"

	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	rdsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta1"
	s3v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta2"
)

// Backups follow the writer: its automated backups and its bucket are replicated into the other
// region, whichever instance writes.

const switchoverSpec = `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`

// automatedBackupsReplication is what matters of a desired DBInstanceAutomatedBackupsReplication.
type automatedBackupsReplication struct {
	Region, Source, Key string
}

// TestBackupReplicationFollowsWriter checks which automated backups are replicated where in each
// failover state. StartDBInstanceAutomatedBackupsReplication is called in the destination
// Region: "To replicate from region SRC to region DST, send a request to region DST" (the API's
// DestinationRegion pseudo-parameter, AWS RDS API model), and provider-aws compiles in
// Terraform's aws_db_instance_automated_backups_replication, whose docs say "This resource has to
// be created in the destination region"
// (website/docs/r/db_instance_automated_backups_replication.html.markdown of the fork). RDS User
// Guide, Replicating automated backups to another AWS Region
// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html), and
// Stopping automated backup replication
// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/AutomatedBackups.StopReplicating.html):
// "Replicated backups are retained, subject to the backup retention period set when they were
// created", so stopping the old direction loses no copy already made. The KMS key is "the KMS
// encryption key in the destination AWS Region" (API reference, KmsKeyId).
func TestBackupReplicationFollowsWriter(t *testing.T) {
	replicating := testPlan(t, builderSpec)
	switchover := testPlan(t, switchoverSpec)
	replica := dataLayer(t, replicating, false)
	promoted := dataLayer(t, replicating, true)
	noPrimaryKey := observedState{}
	for n, oc := range promoted {
		if n != keyName(RolePrimary) {
			noPrimaryKey[n] = oc
		}
	}
	primaryDB, drDB := dbInstanceARN(replica, DBInstanceName(RolePrimary)), dbInstanceARN(replica, DBInstanceName(RoleDR))
	primaryKey, drKey := keyARN(replica, RolePrimary), keyARN(replica, RoleDR)

	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		observed observedState
		want     map[resource.Name]automatedBackupsReplication
		wantWait string // part of the one wait about the backups, "" for none
	}{
		"Replicating": {
			reason:   "The primary writes: its backups go into the DR region under the DR key, created in the DR region.",
			plan:     replicating,
			observed: replica,
			want:     map[resource.Name]automatedBackupsReplication{"dr-db-backup-replication": {Region: "us-east-2", Source: primaryDB, Key: drKey}},
		},
		"PromotedOutOfBand": {
			reason:   "The failover Lambda promoted the replica: the DR instance's backups go into the primary region under the primary key, created there; the old primary's are no longer asked for.",
			plan:     replicating,
			observed: promoted,
			want:     map[resource.Name]automatedBackupsReplication{"primary-db-backup-replication": {Region: "us-east-1", Source: drDB, Key: primaryKey}},
		},
		"SwitchoverPromoted": {
			reason:   "A planned switchover, the DR instance observed promoted: its backups go into the primary region.",
			plan:     switchover,
			observed: promoted,
			want:     map[resource.Name]automatedBackupsReplication{"primary-db-backup-replication": {Region: "us-east-1", Source: drDB, Key: primaryKey}},
		},
		"SwitchoverNotYetPromoted": {
			reason:   "A planned switchover while the DR instance is still a replica: the primary writes until the switchover promotes the replica, and its backups go on into the DR region.",
			plan:     switchover,
			observed: replica,
			want:     map[resource.Name]automatedBackupsReplication{"dr-db-backup-replication": {Region: "us-east-2", Source: primaryDB, Key: drKey}},
		},
		"SwitchoverNoPrimaryKey": {
			reason:   "The primary region's key is not observed: the replicated backups could not be encrypted with it, so nothing is replicated yet.",
			plan:     switchover,
			observed: noPrimaryKey,
			want:     map[resource.Name]automatedBackupsReplication{},
			wantWait: "the primary KMS key's ARN (primary-kms-key), to encrypt the writer's automated backups replicated into us-east-1",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, tc.plan.ProviderConfig)
			buildDatabase(tc.plan, tc.observed, detectFailover(tc.plan, tc.observed), d)
			got := map[resource.Name]automatedBackupsReplication{}
			for n, mr := range d.Resources {
				if r, ok := mr.(*rdsv1beta1.DBInstanceAutomatedBackupsReplication); ok {
					f := r.Spec.ForProvider
					got[n] = automatedBackupsReplication{Region: deref(f.Region), Source: deref(f.SourceDBInstanceArn), Key: deref(f.KMSKeyID)}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nautomated backups replications: -want, +got:\n%s", tc.reason, diff)
			}
			var waits []string
			for _, w := range d.Waiting {
				if strings.Contains(w, "automated backups") {
					waits = append(waits, w)
				}
			}
			var want []string
			if tc.wantWait != "" {
				want = []string{tc.wantWait}
			}
			if diff := cmp.Diff(want, waits, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\nwaits about the backups: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// bucketReplication is what matters of the desired S3 replication of one direction.
type bucketReplication struct {
	Resources   []string // the desired resources of the replication
	Region      string   // where the configuration is made: the source bucket's region
	Source      string   // the resource the configuration is on
	Role        string   // the resource of the role S3 replicates as
	RoleName    string   // the role's AWS name
	RuleID      string
	Destination string // the destination bucket's ARN
	ReplicaKey  string // the key replicas are encrypted with
	Grants      map[string][]string
}

// TestBucketReplicationFollowsWriter checks the backup buckets' replication in each failover
// state. S3 User Guide, Setting up permissions for live replication
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html):
// the configuration is on the source bucket and names the destination bucket, and the role needs
// s3:GetReplicationConfiguration and s3:ListBucket on the source, s3:GetObjectVersionForReplication
// (and ACL, tagging) on its objects, s3:ReplicateObject/ReplicateDelete/ReplicateTags on the
// destination's; for SSE-KMS objects kms:Decrypt on the source key and kms:Encrypt on the
// destination key. Each direction has its own resources and role, named by its source.
func TestBucketReplicationFollowsWriter(t *testing.T) {
	replicating := testPlan(t, builderSpec)
	switchover := testPlan(t, switchoverSpec)
	const (
		primaryBucket = "arn:aws:s3:::orders-0c614a-backup-123456789012-us-east-1"
		drBucket      = "arn:aws:s3:::orders-0c614a-backup-123456789012-us-east-2"
	)
	replica := dataLayer(t, replicating, false)
	primaryKey, drKey := keyARN(replica, RolePrimary), keyARN(replica, RoleDR)
	toDR := bucketReplication{
		Resources:   []string{"primary-backup-bucket-replication", "primary-backup-replication-policy", "primary-backup-replication-role"},
		Region:      "us-east-1",
		Source:      "primary-backup-bucket",
		Role:        "primary-backup-replication-role",
		RoleName:    "orders-0c614a-primary-s3-replication",
		RuleID:      "backups-to-dr",
		Destination: drBucket,
		ReplicaKey:  drKey,
		Grants: map[string][]string{
			"ReadSourceConfiguration": {primaryBucket},
			"ReadSourceObjects":       {primaryBucket + "/*"},
			"WriteReplicas":           {drBucket + "/*"},
			"DecryptSource":           {primaryKey, "s3.us-east-1.amazonaws.com"},
			"EncryptReplicas":         {drKey, "s3.us-east-2.amazonaws.com"},
		},
	}
	toPrimary := bucketReplication{
		Resources:   []string{"dr-backup-bucket-replication", "dr-backup-replication-policy", "dr-backup-replication-role"},
		Region:      "us-east-2",
		Source:      "dr-backup-bucket",
		Role:        "dr-backup-replication-role",
		RoleName:    "orders-0c614a-dr-s3-replication",
		RuleID:      "backups-to-primary",
		Destination: primaryBucket,
		ReplicaKey:  primaryKey,
		Grants: map[string][]string{
			"ReadSourceConfiguration": {drBucket},
			"ReadSourceObjects":       {drBucket + "/*"},
			"WriteReplicas":           {primaryBucket + "/*"},
			"DecryptSource":           {drKey, "s3.us-east-2.amazonaws.com"},
			"EncryptReplicas":         {primaryKey, "s3.us-east-1.amazonaws.com"},
		},
	}
	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		promoted bool
		want     []bucketReplication
	}{
		"Replicating": {
			reason: "The primary writes: the primary bucket is replicated into the DR bucket.",
			plan:   replicating,
			want:   []bucketReplication{toDR},
		},
		"PromotedOutOfBand": {
			reason:   "The DR instance writes: the DR bucket is replicated into the primary bucket, with its own resources and role.",
			plan:     replicating,
			promoted: true,
			want:     []bucketReplication{toPrimary},
		},
		"Switchover": {
			reason: "A planned switchover, the replica promoted: the DR bucket is replicated into the primary bucket.",
			plan:   switchover, promoted: true,
			want: []bucketReplication{toPrimary},
		},
		"SwitchoverRunning": {
			reason: "While the switchover runs the primary writes: its bucket goes on being replicated into the DR bucket.",
			plan:   switchover,
			want:   []bucketReplication{toDR},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, _ := settle(t, tc.plan, dataLayer(t, replicating, tc.promoted), func(o observedState, d *desiredState) { buildStorage(tc.plan, o, detectFailover(tc.plan, o), d) })
			var got []bucketReplication
			for _, n := range d.Order {
				if rc, ok := d.Resources[n].(*s3v1beta2.BucketReplicationConfiguration); ok {
					got = append(got, summarizeBucketReplication(t, d, n, rc))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nbucket replications: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func summarizeBucketReplication(t *testing.T, d *desiredState, name resource.Name, rc *s3v1beta2.BucketReplicationConfiguration) bucketReplication {
	t.Helper()
	fp := rc.Spec.ForProvider
	if len(fp.Rule) != 1 || fp.Rule[0].Destination == nil || fp.Rule[0].Destination.EncryptionConfiguration == nil {
		t.Fatalf("%s: want one rule with a destination and its encryption, got %+v", name, fp.Rule)
	}
	src := strings.TrimSuffix(string(name), "-backup-bucket-replication")
	out := bucketReplication{
		Resources:   names(d, src+"-backup-bucket-replication", src+"-backup-replication-"),
		Region:      deref(fp.Region),
		Source:      fp.BucketSelector.MatchLabels[labelResource],
		Role:        fp.RoleSelector.MatchLabels[labelResource],
		RuleID:      deref(fp.Rule[0].ID),
		Destination: deref(fp.Rule[0].Destination.Bucket),
		ReplicaKey:  deref(fp.Rule[0].Destination.EncryptionConfiguration.ReplicaKMSKeyID),
		Grants:      map[string][]string{},
	}
	if role, ok := d.Resources[resource.Name(out.Role)].(*iamv1beta1.Role); ok {
		out.RoleName = role.GetAnnotations()["crossplane.io/external-name"]
	}
	rp, ok := d.Resources[resource.Name(src+"-backup-replication-policy")].(*iamv1beta1.RolePolicy)
	if !ok {
		t.Fatalf("%s-backup-replication-policy is not a desired RolePolicy", src)
	}
	if got := rp.Spec.ForProvider.RoleSelector.MatchLabels[labelResource]; got != out.Role {
		t.Errorf("%s-backup-replication-policy is the policy of %q, want %q", src, got, out.Role)
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(deref(rp.Spec.ForProvider.Policy)), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Statement {
		g := slices.Clone(s.Resource)
		if v, ok := s.Condition["StringEquals"]["kms:ViaService"].(string); ok {
			g = append(g, v)
		}
		out.Grants[s.Sid] = g
	}
	return out
}

// TestFailoverBackupsThroughRunFunction checks, on the whole graph, what becomes of the old
// direction's replication: after a planned switchover it is no longer desired (none of these
// kinds holds data, so Crossplane may delete them: RDS keeps the replicated backups, S3 the
// replicated objects), while after a promotion out of band it is kept as observed, as everything
// is until spec.activeRegion says what is permanent.
func TestFailoverBackupsThroughRunFunction(t *testing.T) {
	const (
		oldBackups, newBackups = "dr-db-backup-replication", "primary-db-backup-replication"
		oldBucket, newBucket   = "primary-backup-bucket-replication", "dr-backup-bucket-replication"
	)
	cases := map[string]struct {
		reason string
		spec   string
		want   map[string]bool // desired or not
	}{
		"Switchover": {
			reason: "spec.activeRegion is the DR region: only the new direction is desired.",
			spec:   switchoverSpec,
			want:   map[string]bool{oldBackups: false, newBackups: true, oldBucket: false, newBucket: true},
		},
		"PromotedOutOfBand": {
			reason: "The replica was promoted behind Crossplane's back: the new direction is added, the old one kept.",
			spec:   testSpec,
			want:   map[string]bool{oldBackups: true, newBackups: true, oldBucket: true, newBucket: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(tc.spec), observedAfter(t, testSpec, 0, true)))
			got := map[string]bool{}
			for n := range tc.want {
				_, got[n] = rsp.GetDesired().GetResources()[n]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\ndesired: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
