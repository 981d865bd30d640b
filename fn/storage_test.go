package fn

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	s3v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta1"
	s3v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta2"
)

// fxVersioning is a bucket's observed versioning, with the status S3 reports, ready or not.
func fxVersioning(t *testing.T, status string, ready bool) resource.ObservedComposed {
	t.Helper()
	return observedResource(t, map[string]any{
		"apiVersion": "s3.aws.upbound.io/v1beta2",
		"kind":       "BucketVersioning",
		"status": map[string]any{
			"atProvider": map[string]any{"versioningConfiguration": map[string]any{"status": status}},
			"conditions": fxConditions(ready),
		},
	})
}

// storageBuilt runs buildStorage once.
func storageBuilt(p *xrPlan, o observedState) *desiredState {
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildStorage(p, o, detectFailover(p, o), d)
	return d
}

// storageAllObserved is what a storage builder sees once both keys and both buckets' versioning
// are observed.
func storageAllObserved(t *testing.T) observedState {
	t.Helper()
	return observedState{
		keyName(RolePrimary):               fxKey(t, RolePrimary, fxPrimaryKeyARN),
		keyName(RoleDR):                    fxKey(t, RoleDR, fxDRKeyARN),
		"primary-backup-bucket-versioning": fxVersioning(t, "Enabled", true),
		"dr-backup-bucket-versioning":      fxVersioning(t, "Enabled", true),
	}
}

// bucketExternalARN is the ARN of the desired bucket of the role, from its AWS name.
func bucketExternalARN(t *testing.T, d *desiredState, role Role) string {
	t.Helper()
	b, ok := d.Resources[resourceName(role, "backup-bucket")].(*s3v1beta2.Bucket)
	if !ok {
		t.Fatalf("%s-backup-bucket is not a desired Bucket", role)
	}
	name := b.GetAnnotations()["crossplane.io/external-name"]
	if name == "" {
		t.Fatalf("%s-backup-bucket has no AWS name", role)
	}
	return "arn:aws:s3:::" + name
}

func TestBuildStorage(t *testing.T) {
	p := testPlan(t, builderSpec)
	noReplication := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"backups":{"replicateToDR":false}}`)
	all := storageAllObserved(t)
	keys := observedState{keyName(RolePrimary): all[keyName(RolePrimary)], keyName(RoleDR): all[keyName(RoleDR)]}
	bucket := func(role Role, encrypted bool) []string {
		out := []string{
			string(role) + "-backup-bucket", string(role) + "-backup-bucket-lifecycle", string(role) + "-backup-bucket-ownership",
			string(role) + "-backup-bucket-policy", string(role) + "-backup-bucket-public-access-block", string(role) + "-backup-bucket-versioning",
		}
		if encrypted {
			out = append(out, string(role)+"-backup-bucket-encryption")
		}
		return out
	}
	replication := []string{"primary-backup-bucket-replication", "primary-backup-replication-policy", "primary-backup-replication-role"}
	sorted := func(parts ...[]string) []string {
		out := slices.Concat(parts...)
		slices.Sort(out)
		return out
	}
	// What a wait may name: the resource it waits for.
	waitable := []string{"dr-backup-bucket-versioning", "dr-kms-key", "primary-backup-bucket-versioning"}

	cases := map[string]struct {
		reason    string
		plan      *xrPlan
		observed  observedState
		want      []string
		wantNamed []string // the waitable resources the waits name
		waiting   bool
	}{
		"NothingObserved": {
			reason:    "Both buckets need nothing observed; the DR bucket's encryption waits for the DR key, the replication for both buckets' versioning and the keys.",
			plan:      p,
			observed:  observedState{},
			want:      sorted(bucket(RolePrimary, true), bucket(RoleDR, false)),
			wantNamed: []string{"dr-backup-bucket-versioning", "dr-kms-key", "primary-backup-bucket-versioning"},
			waiting:   true,
		},
		"KeysObserved": {
			reason:    "With the DR key, the DR bucket is encrypted; the replication waits for both buckets' versioning.",
			plan:      p,
			observed:  keys,
			want:      sorted(bucket(RolePrimary, true), bucket(RoleDR, true)),
			wantNamed: []string{"dr-backup-bucket-versioning", "primary-backup-bucket-versioning"},
			waiting:   true,
		},
		"PrimaryVersioned": {
			reason:    "S3 refuses to replicate to a bucket without versioning: the replication waits for the DR bucket's.",
			plan:      p,
			observed:  fxMerge(keys, observedState{"primary-backup-bucket-versioning": all["primary-backup-bucket-versioning"]}),
			want:      sorted(bucket(RolePrimary, true), bucket(RoleDR, true)),
			wantNamed: []string{"dr-backup-bucket-versioning"},
			waiting:   true,
		},
		"VersioningSuspended": {
			reason:    "Versioning observed but suspended is not enabled.",
			plan:      p,
			observed:  fxMerge(all, observedState{"primary-backup-bucket-versioning": fxVersioning(t, "Suspended", true)}),
			want:      sorted(bucket(RolePrimary, true), bucket(RoleDR, true)),
			wantNamed: []string{"primary-backup-bucket-versioning"},
			waiting:   true,
		},
		"VersioningNotReady": {
			reason:    "Versioning reported enabled but not ready is not yet enabled.",
			plan:      p,
			observed:  fxMerge(all, observedState{"dr-backup-bucket-versioning": fxVersioning(t, "Enabled", false)}),
			want:      sorted(bucket(RolePrimary, true), bucket(RoleDR, true)),
			wantNamed: []string{"dr-backup-bucket-versioning"},
			waiting:   true,
		},
		"VersionedKeysNot": {
			reason: "Both buckets versioned but the keys not observed: the replication role cannot be granted them, so nothing of the replication is built.",
			plan:   p,
			observed: observedState{
				"primary-backup-bucket-versioning": all["primary-backup-bucket-versioning"],
				"dr-backup-bucket-versioning":      all["dr-backup-bucket-versioning"],
			},
			want:      sorted(bucket(RolePrimary, true), bucket(RoleDR, false)),
			wantNamed: []string{"dr-kms-key"},
			waiting:   true,
		},
		"AllObserved": {
			reason:   "Both buckets versioned and both keys observed: the replication role, its policy and the replication, nothing waited for.",
			plan:     p,
			observed: all,
			want:     sorted(bucket(RolePrimary, true), bucket(RoleDR, true), replication),
		},
		"ReplicationOff": {
			reason:   "With spec.backups.replicateToDR false both buckets are built and nothing replicates, nor waits to.",
			plan:     noReplication,
			observed: keys,
			want:     sorted(bucket(RolePrimary, true), bucket(RoleDR, true)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := storageBuilt(tc.plan, tc.observed)
			if err := d.Err(); err != nil {
				t.Fatalf("\n%s\nbuildStorage: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, names(d, "primary-", "dr-")); diff != "" {
				t.Errorf("\n%s\ndesired resources: -want, +got:\n%s", tc.reason, diff)
			}
			named := waitsNaming(d, waitable)
			if diff := cmp.Diff(tc.wantNamed, named); diff != "" {
				t.Errorf("\n%s\nresources waited for: -want, +got:\n%s\nwaiting: %q", tc.reason, diff, d.Waiting)
			}
			if got := len(d.Waiting) > 0; got != tc.waiting {
				t.Errorf("\n%s\nwaiting for %q, want waits: %v", tc.reason, d.Waiting, tc.waiting)
			}
		})
	}
}

func TestStorageBuckets(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"backups":{"noncurrentVersionDays":90}}`)
	d := storageBuilt(p, storageAllObserved(t))
	arn := map[Role]string{RolePrimary: bucketExternalARN(t, d, RolePrimary), RoleDR: bucketExternalARN(t, d, RoleDR)}
	part := func(t *testing.T, role Role, name string) managed {
		t.Helper()
		n := resourceName(role, "backup-bucket", name)
		if name == "" {
			n = resourceName(role, "backup-bucket")
		}
		mr, ok := d.Resources[n]
		if !ok {
			t.Fatalf("%s is not desired", n)
		}
		return mr
	}
	encryption := func(t *testing.T, role Role) s3v1beta2.BucketServerSideEncryptionConfigurationRuleParameters {
		t.Helper()
		e := part(t, role, "encryption").(*s3v1beta2.BucketServerSideEncryptionConfiguration)
		if n := len(e.Spec.ForProvider.Rule); n != 1 {
			t.Fatalf("%s-backup-bucket-encryption has %d rules, want 1", role, n)
		}
		return e.Spec.ForProvider.Rule[0]
	}
	both := func(v any) map[Role]any { return map[Role]any{RolePrimary: v, RoleDR: v} }
	regions := map[Role]any{RolePrimary: new("us-east-1"), RoleDR: new("us-east-2")}

	cases := map[string]struct {
		reason string
		got    func(*testing.T, Role) any
		want   map[Role]any
	}{
		"BucketRegion": {
			reason: "A bucket per region.",
			got:    func(t *testing.T, r Role) any { return part(t, r, "").(*s3v1beta2.Bucket).Spec.ForProvider.Region },
			want:   regions,
		},
		"NotForceDestroyed": {
			reason: "Deleting the bucket never deletes the backups in it.",
			got: func(t *testing.T, r Role) any {
				return part(t, r, "").(*s3v1beta2.Bucket).Spec.ForProvider.ForceDestroy
			},
			want: both(new(false)),
		},
		"DistinctBuckets": {
			reason: "Bucket names are global: the two regions' buckets differ.",
			got:    func(_ *testing.T, r Role) any { return arn[r] == arn[r.Peer()] },
			want:   both(false),
		},
		"Versioned": {
			reason: "Versioning is enabled, on the region's own bucket.",
			got: func(t *testing.T, r Role) any {
				v := part(t, r, "versioning").(*s3v1beta2.BucketVersioning).Spec.ForProvider
				return []any{v.Region, v.BucketSelector, v.VersioningConfiguration.Status}
			},
			want: map[Role]any{
				RolePrimary: []any{new("us-east-1"), fxSelector("primary-backup-bucket"), new("Enabled")},
				RoleDR:      []any{new("us-east-2"), fxSelector("dr-backup-bucket"), new("Enabled")},
			},
		},
		"EncryptionAlgorithm": {
			reason: "SSE-KMS.",
			got: func(t *testing.T, r Role) any {
				return encryption(t, r).ApplyServerSideEncryptionByDefault.SseAlgorithm
			},
			want: both(new("aws:kms")),
		},
		"EncryptionKey": {
			reason: "Each bucket under its region's key: the primary's selected, the DR replica key's by its observed ARN (a selector finds Keys only).",
			got: func(t *testing.T, r Role) any {
				sse := encryption(t, r).ApplyServerSideEncryptionByDefault
				return []any{sse.KMSMasterKeyIDSelector, sse.KMSMasterKeyID}
			},
			want: map[Role]any{
				RolePrimary: []any{fxSelector("primary-kms-key"), (*string)(nil)},
				RoleDR:      []any{(*xpv1.Selector)(nil), new(fxDRKeyARN)},
			},
		},
		"BucketKeys": {
			reason: "S3 bucket keys cut the KMS requests.",
			got:    func(t *testing.T, r Role) any { return encryption(t, r).BucketKeyEnabled },
			want:   both(new(true)),
		},
		"EncryptionOfOwnBucket": {
			reason: "The encryption configures the region's own bucket.",
			got: func(t *testing.T, r Role) any {
				e := part(t, r, "encryption").(*s3v1beta2.BucketServerSideEncryptionConfiguration).Spec.ForProvider
				return []any{e.Region, e.BucketSelector}
			},
			want: map[Role]any{
				RolePrimary: []any{new("us-east-1"), fxSelector("primary-backup-bucket")},
				RoleDR:      []any{new("us-east-2"), fxSelector("dr-backup-bucket")},
			},
		},
		"PublicAccessBlocked": {
			reason: "All four public access blocks are on, for the region's own bucket.",
			got: func(t *testing.T, r Role) any {
				b := part(t, r, "public-access-block").(*s3v1beta1.BucketPublicAccessBlock).Spec.ForProvider
				return []any{b.BucketSelector, b.BlockPublicAcls, b.BlockPublicPolicy, b.IgnorePublicAcls, b.RestrictPublicBuckets}
			},
			want: map[Role]any{
				RolePrimary: []any{fxSelector("primary-backup-bucket"), new(true), new(true), new(true), new(true)},
				RoleDR:      []any{fxSelector("dr-backup-bucket"), new(true), new(true), new(true), new(true)},
			},
		},
		"OwnerEnforced": {
			reason: "ACLs are off: the bucket owner owns every object.",
			got: func(t *testing.T, r Role) any {
				o := part(t, r, "ownership").(*s3v1beta2.BucketOwnershipControls).Spec.ForProvider
				return []any{o.BucketSelector, o.Rule.ObjectOwnership}
			},
			want: map[Role]any{
				RolePrimary: []any{fxSelector("primary-backup-bucket"), new("BucketOwnerEnforced")},
				RoleDR:      []any{fxSelector("dr-backup-bucket"), new("BucketOwnerEnforced")},
			},
		},
		"PolicyDeniesInsecureTransport": {
			reason: "The bucket policy denies requests without TLS, to the bucket and its objects, on the region's own bucket.",
			got: func(t *testing.T, r Role) any {
				bp := part(t, r, "policy").(*s3v1beta1.BucketPolicy).Spec.ForProvider
				var resources []string
				for _, s := range fxPolicy(t, bp.Policy).Statement {
					if s.Effect == "Deny" && fmt.Sprint(s.Condition["Bool"]["aws:SecureTransport"]) == "false" {
						resources = append(resources, s.Resource...)
					}
				}
				slices.Sort(resources)
				return []any{bp.BucketSelector, slices.Compact(resources)}
			},
			want: map[Role]any{
				RolePrimary: []any{fxSelector("primary-backup-bucket"), []string{arn[RolePrimary], arn[RolePrimary] + "/*"}},
				RoleDR:      []any{fxSelector("dr-backup-bucket"), []string{arn[RoleDR], arn[RoleDR] + "/*"}},
			},
		},
		"PolicyAllowsNothing": {
			reason: "The bucket policy only denies: access is granted by IAM, not by the bucket.",
			got: func(t *testing.T, r Role) any {
				var effects []string
				for _, s := range fxPolicy(t, part(t, r, "policy").(*s3v1beta1.BucketPolicy).Spec.ForProvider.Policy).Statement {
					effects = append(effects, s.Effect)
				}
				return slices.Contains(effects, "Allow")
			},
			want: both(false),
		},
		"OldVersionsExpire": {
			reason: "Noncurrent versions expire after the spec's days.",
			got: func(t *testing.T, r Role) any {
				lc := part(t, r, "lifecycle").(*s3v1beta2.BucketLifecycleConfiguration).Spec.ForProvider
				var days []float64
				for _, rule := range lc.Rule {
					if deref(rule.Status) != "Enabled" {
						continue
					}
					for _, e := range rule.NoncurrentVersionExpiration {
						days = append(days, deref(e.NoncurrentDays))
					}
				}
				return []any{lc.BucketSelector, days}
			},
			want: map[Role]any{
				RolePrimary: []any{fxSelector("primary-backup-bucket"), []float64{90}},
				RoleDR:      []any{fxSelector("dr-backup-bucket"), []float64{90}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, role := range roles {
				if diff := cmp.Diff(tc.want[role], tc.got(t, role)); diff != "" {
					t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, role, diff)
				}
			}
		})
	}
}

func TestStorageReplication(t *testing.T) {
	p := testPlan(t, builderSpec)
	d := storageBuilt(p, storageAllObserved(t))
	drBucket := bucketExternalARN(t, d, RoleDR)
	rc, ok := d.Resources["primary-backup-bucket-replication"].(*s3v1beta2.BucketReplicationConfiguration)
	if !ok {
		t.Fatal("primary-backup-bucket-replication is not a desired BucketReplicationConfiguration")
	}
	fp := rc.Spec.ForProvider
	rule := func(t *testing.T) s3v1beta2.BucketReplicationConfigurationRuleParameters {
		t.Helper()
		if len(fp.Rule) != 1 {
			t.Fatalf("%d replication rules, want 1", len(fp.Rule))
		}
		return fp.Rule[0]
	}
	cases := map[string]struct {
		reason string
		got    func(*testing.T) any
		want   any
	}{
		"Region":      {"The replication is configured on the primary bucket, in the primary region.", func(*testing.T) any { return fp.Region }, new("us-east-1")},
		"Source":      {"It replicates the primary bucket.", func(*testing.T) any { return fp.BucketSelector }, fxSelector("primary-backup-bucket")},
		"Role":        {"S3 replicates as the replication role.", func(*testing.T) any { return fp.RoleSelector }, fxSelector("primary-backup-replication-role")},
		"Enabled":     {"The rule is enabled.", func(t *testing.T) any { return rule(t).Status }, new("Enabled")},
		"Destination": {"Into the DR bucket, named by ARN.", func(t *testing.T) any { return rule(t).Destination.Bucket }, new(drBucket)},
		"ReplicaKey": {"Replicas are encrypted with the DR key.", func(t *testing.T) any {
			return rule(t).Destination.EncryptionConfiguration.ReplicaKMSKeyID
		}, new(fxDRKeyARN)},
		"KMSObjects": {"SSE-KMS objects, which every backup is, are replicated: S3 skips them unless told.", func(t *testing.T) any {
			return rule(t).SourceSelectionCriteria.SseKMSEncryptedObjects.Status
		}, new("Enabled")},
		"RoleTrust": {"Only S3 may assume the replication role.", func(t *testing.T) any {
			r, ok := d.Resources["primary-backup-replication-role"].(*iamv1beta1.Role)
			if !ok {
				t.Fatal("primary-backup-replication-role is not a desired Role")
			}
			var out []string
			for _, s := range fxPolicy(t, r.Spec.ForProvider.AssumeRolePolicy).Statement {
				out = append(out, s.Effect+" "+strings.Join(s.Action, ",")+" "+mustJSON(s.Principal))
			}
			return out
		}, []string{`Allow sts:AssumeRole {"Service":"s3.amazonaws.com"}`}},
		"PolicyOfRole": {"The replication policy is the replication role's.", func(t *testing.T) any {
			rp, ok := d.Resources["primary-backup-replication-policy"].(*iamv1beta1.RolePolicy)
			if !ok {
				t.Fatal("primary-backup-replication-policy is not a desired RolePolicy")
			}
			return rp.Spec.ForProvider.RoleSelector
		}, fxSelector("primary-backup-replication-role")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got(t)); diff != "" {
				t.Errorf("\n%s\nprimary-backup-bucket-replication: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestStorageReplicationPolicy checks that the replication role may do what S3 replication needs,
// on the two buckets and the two keys, and nothing else.
func TestStorageReplicationPolicy(t *testing.T) {
	p := testPlan(t, builderSpec)
	d := storageBuilt(p, storageAllObserved(t))
	src, dst := bucketExternalARN(t, d, RolePrimary), bucketExternalARN(t, d, RoleDR)
	rp, ok := d.Resources["primary-backup-replication-policy"].(*iamv1beta1.RolePolicy)
	if !ok {
		t.Fatal("primary-backup-replication-policy is not a desired RolePolicy")
	}
	doc := fxPolicy(t, rp.Spec.ForProvider.Policy)
	// granted returns the resources the policy allows the action on, sorted.
	granted := func(action string) []string {
		var out []string
		for _, s := range doc.Statement {
			if s.Effect == "Allow" && slices.Contains(s.Action, action) {
				out = append(out, s.Resource...)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	// viaService returns the kms:ViaService conditions of the statements that allow the action.
	viaService := func(action string) []any {
		var out []any
		for _, s := range doc.Statement {
			if s.Effect == "Allow" && slices.Contains(s.Action, action) {
				out = append(out, s.Condition["StringEquals"]["kms:ViaService"])
			}
		}
		return out
	}
	cases := map[string]struct {
		reason string
		got    any
		want   any
	}{
		"ReadConfiguration":  {"S3 reads the source bucket's replication configuration.", granted("s3:GetReplicationConfiguration"), []string{src}},
		"ListSource":         {"S3 lists the source bucket.", granted("s3:ListBucket"), []string{src}},
		"ReadObjects":        {"S3 reads the source's object versions.", granted("s3:GetObjectVersionForReplication"), []string{src + "/*"}},
		"ReadObjectTags":     {"S3 reads the source's object tags.", granted("s3:GetObjectVersionTagging"), []string{src + "/*"}},
		"WriteReplicas":      {"S3 writes replicas into the DR bucket only.", granted("s3:ReplicateObject"), []string{dst + "/*"}},
		"ReplicateDeletes":   {"S3 replicates delete markers into the DR bucket only.", granted("s3:ReplicateDelete"), []string{dst + "/*"}},
		"DecryptSource":      {"S3 decrypts with the primary key only.", granted("kms:Decrypt"), []string{fxPrimaryKeyARN}},
		"DecryptViaS3":       {"Only through S3 in the primary region.", viaService("kms:Decrypt"), []any{"s3.us-east-1.amazonaws.com"}},
		"EncryptReplicas":    {"S3 encrypts replicas with the DR key only.", granted("kms:Encrypt"), []string{fxDRKeyARN}},
		"EncryptViaS3":       {"Only through S3 in the DR region.", viaService("kms:Encrypt"), []any{"s3.us-east-2.amazonaws.com"}},
		"NoWriteToSource":    {"Nothing is written to the source bucket.", granted("s3:PutObject"), []string(nil)},
		"NoDeleteObjects":    {"No object is deleted anywhere.", granted("s3:DeleteObject"), []string(nil)},
		"NoKeyAdministering": {"The keys are not administered.", granted("kms:*"), []string(nil)},
		"OnlyTheseResources": {"Every resource granted is one of the two buckets or the two keys, none a wildcard.", func() []string {
			allowed := []string{src, src + "/*", dst + "/*", fxPrimaryKeyARN, fxDRKeyARN}
			var out []string
			for _, s := range doc.Statement {
				for _, r := range s.Resource {
					if s.Effect == "Allow" && !slices.Contains(allowed, r) {
						out = append(out, r)
					}
				}
			}
			return out
		}(), []string(nil)},
		"NoWildcardActions": {"No action is a wildcard.", func() []string {
			var out []string
			for _, s := range doc.Statement {
				for _, a := range s.Action {
					if strings.Contains(a, "*") {
						out = append(out, a)
					}
				}
			}
			return out
		}(), []string(nil)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("\n%s\nprimary-backup-replication-policy: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
