package fn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	rdsv1beta3 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta3"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// The AWS and Terraform rules the composed resources follow, each case naming its source: the
// Terraform code provider-aws v2.5.0 compiles in (github.com/upbound/terraform-provider-aws
// v0.0.0-20260305123303-f7691456b787, internal/service/...) or the AWS page.

// convergedResources returns the desired resources of a reconcile of the spec with everything
// observed ready, the DR replica promoted out of band when promoted, as objects.
func convergedResources(t *testing.T, spec string, promoted bool) map[string]map[string]any {
	t.Helper()
	rsp := runFn(t, newRequest(testInput, testXR(spec), observedAfter(t, spec, 0, promoted)))
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			t.Fatalf("fatal: %s", r.GetMessage())
		}
	}
	out := map[string]map[string]any{}
	for n, r := range rsp.GetDesired().GetResources() {
		out[n] = r.GetResource().AsMap()
	}
	return out
}

func TestS3ReplicationRuleIsV2(t *testing.T) {
	// Terraform's expandReplicationRules (internal/service/s3/bucket_replication_configuration.go)
	// sends a V2 rule (Filter and Priority) only when the rule has a filter, and sends
	// DeleteMarkerReplication either way; S3 refuses DeleteMarkerReplication in a V1 rule. An
	// empty filter is the V2 rule for every object ("If you specify a rule with an empty filter
	// tag your rule will apply to all objects in your bucket",
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html).
	r := convergedResources(t, testSpec, false)[string(bucketPart(RolePrimary, "replication"))]
	rules, _ := get(r, "spec.forProvider.rule").([]any)
	if len(rules) != 1 {
		t.Fatalf("replication rules: %v, want one", get(r, "spec.forProvider.rule"))
	}
	rule, _ := rules[0].(map[string]any)
	want := map[string]any{
		"filter":                  map[string]any{},
		"priority":                float64(1),
		"deleteMarkerReplication": map[string]any{"status": "Enabled"},
	}
	for k, v := range want {
		if diff := cmp.Diff(v, rule[k]); diff != "" {
			t.Errorf("rule's %s, as the provider reads it: -want, +got:\n%s", k, diff)
		}
	}
}

func TestReplicaFinalSnapshot(t *testing.T) {
	// DeleteDBInstance: FinalDBSnapshotIdentifier "Can't be specified when deleting a read
	// replica"; SkipFinalSnapshot: "If you delete a read replica ..., you must enable this
	// setting" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html).
	// Terraform's resourceInstanceDelete (internal/service/rds/instance.go) sends the identifier
	// whenever skip_final_snapshot is false.
	cases := map[string]struct {
		reason   string
		spec     string
		promoted bool
		wantSkip bool
		wantID   string // the suffix of the identifier; empty: none
	}{
		"Replicating": {
			reason:   "A replica skips the final snapshot and names none: RDS refuses to delete it otherwise.",
			spec:     testSpec,
			wantSkip: true,
		},
		"PromotedOutOfBand": {
			reason: "Once promoted it holds the only writable copy: a final snapshot like the primary's.",
			spec:   testSpec, promoted: true,
			wantID: "-dr-db-final",
		},
		"Switchover": {
			reason: "The planned switchover's promoted writer: a final snapshot too.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`, promoted: true,
			wantID: "-dr-db-final",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fp, _ := get(convergedResources(t, tc.spec, tc.promoted)[string(DBInstanceName(RoleDR))], "spec.forProvider").(map[string]any)
			if diff := cmp.Diff(tc.wantSkip, fp["skipFinalSnapshot"]); diff != "" {
				t.Errorf("\n%s\nskipFinalSnapshot: -want, +got:\n%s", tc.reason, diff)
			}
			id, _ := fp["finalSnapshotIdentifier"].(string)
			if tc.wantID == "" && id != "" || tc.wantID != "" && !strings.HasSuffix(id, tc.wantID) {
				t.Errorf("\n%s\nfinalSnapshotIdentifier = %q, want one ending %q", tc.reason, id, tc.wantID)
			}
		})
	}
	primary, _ := get(convergedResources(t, testSpec, false)[string(DBInstanceName(RolePrimary))], "spec.forProvider").(map[string]any)
	if primary["skipFinalSnapshot"] != false || !strings.HasSuffix(primary["finalSnapshotIdentifier"].(string), "-primary-db-final") { //nolint:forcetypeassert // A string or the test fails.
		t.Errorf("the primary must keep a final snapshot: %v, %v", primary["skipFinalSnapshot"], primary["finalSnapshotIdentifier"])
	}
}

func TestStorageCannotShrink(t *testing.T) {
	// "You can't reduce the amount of storage on a volume after you have allocated storage for
	// it" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.ScalingUp.html).
	// Terraform sends any change of allocated_storage (dbInstancePopulateModify) and only hides
	// what autoscaling grew beyond it (the attribute's DiffSuppressFunc), so a smaller spec would
	// be silently ignored or refused by AWS: the function refuses it, naming the field.
	observed := observedAfter(t, testSpec, 0, false)
	cases := map[string]struct {
		reason  string
		storage int
		want    string
	}{
		"Shrink": {
			reason:  "Below the 100 GiB (the default) the primary was given: refused with the field, the value and the fix.",
			storage: 50,
			want:    "spec.postgres.storageGB: Invalid value: 50: the primary was given 100 GiB: RDS cannot shrink allocated storage; set 100 or more",
		},
		"Grow": {
			reason:  "Growing is honoured.",
			storage: 200,
		},
		"Same": {
			reason:  "The same size is no change.",
			storage: 100,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := fmt.Sprintf(`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"postgres":{"storageGB":%d}}`, tc.storage)
			rsp := runFn(t, newRequest(testInput, testXR(spec), observed))
			var fatal string
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					fatal = r.GetMessage()
				}
			}
			if tc.want == "" && fatal != "" || tc.want != "" && !strings.Contains(fatal, tc.want) {
				t.Errorf("\n%s\nfatal result %q, want %q", tc.reason, fatal, tc.want)
			}
		})
	}
}

func TestReplicaBackupWindow(t *testing.T) {
	// PromoteReadReplica refuses an instance that is backing up ("the DB instance must not be in
	// the backing-up state", https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html),
	// so the replica backs up when the primary does not; PreferredBackupWindow "Must not conflict
	// with the preferred maintenance window" and "Must be at least 30 minutes"
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
	cases := map[string]struct {
		reason              string
		backup, maintenance string
		want                string
	}{
		"Default": {
			reason: "The default window moves by half a day.",
			backup: "03:00-04:00", maintenance: "sun:05:00-sun:06:00",
			want: "15:00-16:00",
		},
		"AcrossMidnight": {
			reason: "A window across midnight moves whole.",
			backup: "23:30-00:30", maintenance: "sun:05:00-sun:06:00",
			want: "11:30-12:30",
		},
		"MaintenanceInTheWay": {
			reason: "Half a day on would meet the maintenance window's time of day: a third of a day on.",
			backup: "03:00-04:00", maintenance: "wed:15:30-wed:16:30",
			want: "11:00-12:00",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := replicaBackupWindow(tc.backup, tc.maintenance)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nreplicaBackupWindow(%q, %q): -want, +got:\n%s", tc.reason, tc.backup, tc.maintenance, diff)
			}
			gs, ge := windowMinutes(got)
			ps, pe := windowMinutes(tc.backup)
			ms, me := windowMinutes(dropDays(tc.maintenance))
			if overlaps(gs, ge, ps, pe) || overlaps(gs, ge, ms, me) {
				t.Errorf("\n%s\n%s overlaps the primary's %s or the maintenance window %s", tc.reason, got, tc.backup, tc.maintenance)
			}
		})
	}
	dr, _ := get(convergedResources(t, testSpec, false)[string(DBInstanceName(RoleDR))], "spec.forProvider.backupWindow").(string)
	if dr != "15:00-16:00" {
		t.Errorf("the replica's backupWindow is %q, want 15:00-16:00 beside the primary's default 03:00-04:00", dr)
	}
}

func TestBucketPolicyDeniesAllOverPlainHTTP(t *testing.T) {
	// S3's security best practices: "allow only encrypted connections over HTTPS (TLS) using the
	// aws:SecureTransport condition" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html);
	// a Deny that lists actions leaves the others (GetObjectVersion, ListBucketVersions...) open,
	// so it denies s3:* (https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule).
	doc := bucketPolicy("arn:aws:s3:::b")
	want := []statement{{
		Sid: "DenyInsecureTransport", Effect: deny, Principal: map[string]any{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	}}
	if diff := cmp.Diff(want, doc.Statement); diff != "" {
		t.Errorf("bucket policy: -want, +got:\n%s", diff)
	}
}

func TestLambdaWaitsForItsLogGroup(t *testing.T) {
	// "Lambda automatically creates a log group named /aws/lambda/<function name> when the
	// function is first invoked" (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html):
	// unencrypted and never expiring, unless ours exists first. Requested is not enough: it must
	// be observed Ready before the function is created.
	p := testPlan(t, builderSpec)
	observed := dataLayer(t, p, false)
	_, settled := settle(t, p, observed, lambdaBuild(t, p, detectFailover(p, observed)))
	logs := lambdaPart(p, contract.FunctionFailover, "logs")
	notReady := func(o observedState) {
		o[logs].Resource.SetConditions(xpv1.Creating())
	}
	cases := map[string]struct {
		reason  string
		observe func(o observedState)
		want    bool
	}{
		"LogGroupReady": {
			reason:  "The log group is Ready: the function is built.",
			observe: func(o observedState) { delete(o, lambdaName(p, contract.FunctionFailover)) },
			want:    true,
		},
		"LogGroupNotReady": {
			reason: "The log group is asked for but not Ready, and the function does not exist yet: it waits.",
			observe: func(o observedState) {
				delete(o, lambdaName(p, contract.FunctionFailover))
				notReady(o)
			},
		},
		"FunctionExists": {
			reason:  "The function exists: it is not withheld (that would delete it) while its log group is not Ready.",
			observe: notReady,
			want:    true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := cloneObserved(settled)
			tc.observe(o)
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			lambdaBuild(t, p, detectFailover(p, o))(o, d)
			_, got := d.Resources[lambdaName(p, contract.FunctionFailover)]
			if got != tc.want {
				t.Errorf("\n%s\nfunction desired: %v, want %v; waiting for %v", tc.reason, got, tc.want, d.Waiting)
			}
		})
	}
}

func TestReplicaNeverAskedEmpty(t *testing.T) {
	// An empty replicateSourceDb would promote the replica (Terraform's resourceInstanceUpdate,
	// internal/service/rds/instance.go, promotes when replicate_source_db changes to ""), and an
	// empty kmsKeyId would replace it: when neither the primary's ARN nor the DR key's ARN is
	// observed and the replica reports none, it is withheld, and kept as observed.
	p := testPlan(t, builderSpec)
	full := dataLayer(t, p, false)
	bare := func(o observedState) {
		at, _ := o[DBInstanceName(RoleDR)].Resource.Object["status"].(map[string]any)["atProvider"].(map[string]any)
		delete(at, "replicateSourceDb")
		delete(at, "kmsKeyId")
		delete(at, "arn")
		fp, _ := o[DBInstanceName(RoleDR)].Resource.Object["spec"].(map[string]any)["forProvider"].(map[string]any)
		delete(fp, "replicateSourceDb")
		delete(fp, "kmsKeyId")
	}
	cases := map[string]struct {
		reason string
		edit   func(o observedState)
		want   bool
	}{
		"AllObserved": {
			reason: "The primary's ARN and the DR key's: the replica is desired.",
			edit:   func(observedState) {},
			want:   true,
		},
		"ReplicaReportsItsOwn": {
			reason: "Neither ARN observed, but the replica reports its source and key: desired with those.",
			edit: func(o observedState) {
				delete(o, DBInstanceName(RolePrimary))
				delete(o, keyName(RoleDR))
			},
			want: true,
		},
		"NothingKnown": {
			reason: "Neither ARN observed and the replica reports none: withheld, not asked for with empty values.",
			edit: func(o observedState) {
				delete(o, DBInstanceName(RolePrimary))
				delete(o, keyName(RoleDR))
				bare(o)
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := cloneObserved(full)
			tc.edit(o)
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildDatabase(p, o, detectFailover(p, o), d)
			r, got := d.Resources[DBInstanceName(RoleDR)].(*rdsv1beta3.Instance)
			if got != tc.want {
				t.Fatalf("\n%s\nreplica desired: %v, want %v; waiting for %v", tc.reason, got, tc.want, d.Waiting)
			}
			if got && (deref(r.Spec.ForProvider.ReplicateSourceDB) == "" || deref(r.Spec.ForProvider.KMSKeyID) == "") {
				t.Errorf("\n%s\nreplica asked for with source %q and key %q", tc.reason, deref(r.Spec.ForProvider.ReplicateSourceDB), deref(r.Spec.ForProvider.KMSKeyID))
			}
		})
	}
}
