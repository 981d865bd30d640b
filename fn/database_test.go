package fn

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	cloudwatchlogsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchlogs/v1beta1"
	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	rdsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta1"
	rdsv1beta3 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta3"
)

// Fixtures of the database's and the storage's tests: what provider-aws reports of the keys and
// instances, with literal ARNs, so that every expectation is a literal too.

// dbCustomSpec sets every database field the builders copy from the spec to a non-default value.
const dbCustomSpec = `{"regions":{"primary":"eu-west-1","dr":"eu-central-1"},"deletionProtection":false,
"postgres":{"majorVersion":15,"instanceClass":"db.r6g.xlarge","drInstanceClass":"db.r6g.large","storageGB":200,"maxStorageGB":1000,
"multiAZ":false,"backupRetentionDays":14,"databaseName":"orders","username":"orders_admin",
"parameters":{"work_mem":"65536","log_min_duration_statement":"250","rds.force_ssl":"0"}}}`

// The multi-region key's id is the same in both regions; the ARNs differ by region.
const (
	fxPrimaryKeyARN = "arn:aws:kms:us-east-1:123456789012:key/mrk-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"
	fxDRKeyARN      = "arn:aws:kms:us-east-2:123456789012:key/mrk-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"
	fxPrimaryDBARN  = "arn:aws:rds:us-east-1:123456789012:db:orders-0c614a-primary-db"
	fxDRDBARN       = "arn:aws:rds:us-east-2:123456789012:db:orders-0c614a-dr-db"
)

// fxConditions are the conditions of a resource provider-aws reports ready, or not.
func fxConditions(ready bool) []any {
	status := "True"
	if !ready {
		status = "False"
	}
	return []any{
		map[string]any{"type": "Ready", "status": status, "reason": "Available"},
		map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"},
	}
}

// fxObserved is an observed managed resource of the kind, ready, with the atProvider fields.
func fxObserved(t *testing.T, apiVersion, kind string, atProvider map[string]any) resource.ObservedComposed {
	t.Helper()
	return observedResource(t, map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"status":     map[string]any{"atProvider": atProvider, "conditions": fxConditions(true)},
	})
}

// fxKey is a role's observed KMS key: the multi-region Key in the primary region, its
// ReplicaKey in the DR region.
func fxKey(t *testing.T, role Role, arn string) resource.ObservedComposed {
	t.Helper()
	kind := "Key"
	if role == RoleDR {
		kind = "ReplicaKey"
	}
	return fxObserved(t, "kms.aws.upbound.io/v1beta1", kind, map[string]any{"arn": arn})
}

// fxInstance is an observed RDS instance with the atProvider fields.
func fxInstance(t *testing.T, atProvider map[string]any) resource.ObservedComposed {
	t.Helper()
	return fxObserved(t, "rds.aws.upbound.io/v1beta3", "Instance", atProvider)
}

// fxMerge returns the union of the observed states.
func fxMerge(parts ...observedState) observedState {
	out := observedState{}
	for _, p := range parts {
		maps.Copy(out, p)
	}
	return out
}

// fxSelector is the selector of the XR's composed resource of that composition-resource name.
func fxSelector(name string) *xpv1.Selector {
	return &xpv1.Selector{MatchControllerRef: new(true), MatchLabels: map[string]string{"pgdr.io/resource": name}}
}

// fxPolicy decodes a policy document.
func fxPolicy(t *testing.T, doc *string) policyDocument {
	t.Helper()
	if doc == nil {
		t.Fatal("no policy document")
	}
	var out policyDocument
	if err := json.Unmarshal([]byte(*doc), &out); err != nil {
		t.Fatalf("cannot decode policy %s: %v", *doc, err)
	}
	return out
}

// dbObserved are the observed states the database builder is tested against, from nothing to
// everything a replicating pair reports.
type dbObserved struct {
	primaryKey, drKey, keys, primary, replica, all observedState
	// The keys without the instances' log groups, which a new instance waits for.
	primaryKeyOnly, keysOnly observedState
}

// fxLogGroups are a role's instance log groups, observed Ready.
func fxLogGroups(t *testing.T, role Role) observedState {
	t.Helper()
	o := observedState{}
	for _, lt := range logExportTypes {
		o[dbLogGroupName(role, 1, lt)] = fxObserved(t, "cloudwatchlogs.aws.upbound.io/v1beta1", "Group", map[string]any{"arn": "arn:aws:logs:x:123456789012:log-group:" + lt})
	}
	return o
}

func newDBObserved(t *testing.T) dbObserved {
	t.Helper()
	var o dbObserved
	o.primaryKeyOnly = observedState{keyName(RolePrimary): fxKey(t, RolePrimary, fxPrimaryKeyARN)}
	o.primaryKey = fxMerge(o.primaryKeyOnly, fxLogGroups(t, RolePrimary))
	o.drKey = fxMerge(observedState{keyName(RoleDR): fxKey(t, RoleDR, fxDRKeyARN)}, fxLogGroups(t, RoleDR))
	o.keys = fxMerge(o.primaryKey, o.drKey)
	o.keysOnly = fxMerge(o.primaryKeyOnly, observedState{keyName(RoleDR): fxKey(t, RoleDR, fxDRKeyARN)})
	o.primary = observedState{DBInstanceName(RolePrimary): fxInstance(t, map[string]any{"arn": fxPrimaryDBARN, "kmsKeyId": fxPrimaryKeyARN})}
	o.replica = observedState{DBInstanceName(RoleDR): fxInstance(t, map[string]any{"arn": fxDRDBARN, "kmsKeyId": fxDRKeyARN, "replicateSourceDb": fxPrimaryDBARN})}
	o.all = fxMerge(o.keys, o.primary, o.replica)
	return o
}

// dbBuilt runs buildDatabase once.
func dbBuilt(p *xrPlan, o observedState, st failoverState) *desiredState {
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildDatabase(p, o, st, d)
	return d
}

func TestBuildDatabase(t *testing.T) {
	p := testPlan(t, builderSpec)
	o := newDBObserved(t)
	support := []string{
		"dr-db-monitoring-policy", "dr-db-monitoring-role", "dr-db-parameter-group", "dr-db-subnet-group",
		"primary-db-monitoring-policy", "primary-db-monitoring-role", "primary-db-parameter-group", "primary-db-subnet-group",
	}
	with := func(extra ...string) []string {
		out := slices.Concat(support, extra)
		slices.Sort(out)
		return out
	}
	logs := func(roles ...Role) []string {
		var out []string
		for _, r := range roles {
			out = append(out, logGroupNames(r, 1)...)
		}
		return out
	}
	// What a wait may name: the resource whose ARN it waits for, or the log groups.
	waitable := []string{"primary-kms-key", "dr-kms-key", "primary-db-instance", "primary-db-log-postgresql", "dr-db-log-postgresql"}
	replicating := stReplicating

	cases := map[string]struct {
		reason    string
		observed  observedState
		st        failoverState
		want      []string
		wantWaits []string
	}{
		"NothingObserved": {
			reason:    "The subnet, parameter groups and monitoring roles need nothing observed; the primary waits for its key, the replica for the primary and the DR key.",
			observed:  observedState{},
			st:        replicating,
			want:      with(),
			wantWaits: []string{"dr-kms-key", "primary-db-instance", "primary-kms-key"},
		},
		"PrimaryKeyObserved": {
			reason:    "With the primary key the primary is built; the replica still waits for the primary's ARN and the DR key.",
			observed:  o.primaryKey,
			st:        replicating,
			want:      with(slices.Concat([]string{"primary-db-instance"}, logs(RolePrimary))...),
			wantWaits: []string{"dr-kms-key", "primary-db-instance"},
		},
		// RDS creates a missing log group itself, without a KMS key and kept forever
		// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.PublishtoCloudWatchLogs.html;
		// the group is /aws/rds/instance/<instance>/<log type>, as in
		// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html).
		"LogGroupsNotReady": {
			reason:    "With the primary key but its log groups not Ready the primary is withheld: RDS would create them unencrypted.",
			observed:  o.primaryKeyOnly,
			st:        replicating,
			want:      with(logs(RolePrimary)...),
			wantWaits: []string{"dr-kms-key", "primary-db-instance", "primary-db-log-postgresql"},
		},
		"ReplicaLogGroupsNotReady": {
			reason:    "With both keys and the primary, the replica waits for its own log groups.",
			observed:  fxMerge(o.keysOnly, fxLogGroups(t, RolePrimary), o.primary),
			st:        replicating,
			want:      with(slices.Concat([]string{"dr-db-backup-replication", "primary-db-instance"}, logs(RolePrimary, RoleDR))...),
			wantWaits: []string{"dr-db-log-postgresql"},
		},
		"InstancesObservedLogGroupsNot": {
			reason:   "Observed instances stay desired whatever their log groups report.",
			observed: fxMerge(o.keysOnly, o.primary, o.replica),
			st:       replicating,
			want:     with(slices.Concat([]string{"dr-db-backup-replication", "dr-db-instance", "primary-db-instance"}, logs(RolePrimary, RoleDR))...),
		},
		"KeysObserved": {
			reason:    "With both keys the replica waits only for the primary's ARN.",
			observed:  o.keys,
			st:        replicating,
			want:      with(slices.Concat([]string{"primary-db-instance"}, logs(RolePrimary))...),
			wantWaits: []string{"primary-db-instance"},
		},
		"PrimaryObservedDRKeyNot": {
			reason:    "An unencrypted cross-region replica of an encrypted source is refused: without the DR key neither the replica nor the backup replication is built.",
			observed:  fxMerge(o.primaryKey, o.primary),
			st:        replicating,
			want:      with(slices.Concat([]string{"primary-db-instance"}, logs(RolePrimary))...),
			wantWaits: []string{"dr-kms-key"},
		},
		"AllObserved": {
			reason:   "With the primary's ARN and the DR key: the replica and the replication of automated backups, nothing waited for.",
			observed: fxMerge(o.keys, o.primary),
			st:       replicating,
			want:     with(slices.Concat([]string{"dr-db-backup-replication", "dr-db-instance", "primary-db-instance"}, logs(RolePrimary, RoleDR))...),
		},
		"ReplicaObservedDRKeyNot": {
			reason:   "An observed replica stays desired when its key is no longer observed: dropping it would delete it.",
			observed: fxMerge(o.primaryKey, o.primary, o.replica),
			st:       replicating,
			want:     with(slices.Concat([]string{"dr-db-instance", "primary-db-instance"}, logs(RolePrimary, RoleDR))...),
		},
		"ReplicaObservedPrimaryNot": {
			reason:   "An observed replica stays desired when the primary is not observed (its region down).",
			observed: fxMerge(o.keys, o.replica),
			st:       replicating,
			want:     with(slices.Concat([]string{"dr-db-instance", "primary-db-instance"}, logs(RolePrimary, RoleDR))...),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := dbBuilt(p, tc.observed, tc.st)
			if err := d.Err(); err != nil {
				t.Fatalf("\n%s\nbuildDatabase: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, names(d, "primary-", "dr-")); diff != "" {
				t.Errorf("\n%s\ndesired resources: -want, +got:\n%s", tc.reason, diff)
			}
			named := waitsNaming(d, waitable)
			slices.Sort(named)
			if diff := cmp.Diff(tc.wantWaits, named); diff != "" {
				t.Errorf("\n%s\nresources waited for: -want, +got:\n%s\nwaiting: %q", tc.reason, diff, d.Waiting)
			}
			if len(d.Waiting) != len(tc.wantWaits) {
				t.Errorf("\n%s\nwaiting for %d things, want %d: %q", tc.reason, len(d.Waiting), len(tc.wantWaits), d.Waiting)
			}
		})
	}
}

func TestDatabasePrimary(t *testing.T) {
	def := testPlan(t, builderSpec)
	custom := testPlan(t, dbCustomSpec)
	o := newDBObserved(t)
	primary := func(t *testing.T, p *xrPlan) *rdsv1beta3.Instance {
		t.Helper()
		i, ok := dbBuilt(p, o.keys, stReplicating).Resources[DBInstanceName(RolePrimary)].(*rdsv1beta3.Instance)
		if !ok {
			t.Fatalf("%s is not a desired Instance", DBInstanceName(RolePrimary))
		}
		return i
	}

	cases := map[string]struct {
		reason string
		plan   *xrPlan
		got    func(*rdsv1beta3.Instance) any
		want   any
	}{
		"Region":              {"The primary is in the primary region.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Region }), new("us-east-1")},
		"RegionFromSpec":      {"The primary region is the spec's.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Region }), new("eu-west-1")},
		"Identifier":          {"The RDS identifier is the XR's base name and the role.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Identifier }), new("orders-0c614a-primary-db")},
		"StorageEncrypted":    {"The storage is encrypted.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.StorageEncrypted }), new(true)},
		"KMSKey":              {"The storage is encrypted with the primary key, by its observed ARN.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.KMSKeyID }), new(fxPrimaryKeyARN)},
		"PerformanceInsights": {"Performance Insights is encrypted with the primary key too.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.PerformanceInsightsKMSKeyID }), new(fxPrimaryKeyARN)},
		"Engine":              {"PostgreSQL.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Engine }), new("postgres")},
		"EngineVersion":       {"The default major version.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.EngineVersion }), new("16")},
		"EngineVersionSpec":   {"The spec's major version.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.EngineVersion }), new("15")},
		"MultiAZ":             {"Multi-AZ by default.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MultiAz }), new(true)},
		"MultiAZOff":          {"Single-AZ when the spec says so.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MultiAz }), new(false)},
		"DeletionProtection":  {"Deletion-protected by default.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DeletionProtection }), new(true)},
		"DeletionProtOff":     {"Not deletion-protected when the spec turns it off.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DeletionProtection }), new(false)},
		"InstanceClass":       {"The default instance class.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.InstanceClass }), new("db.r6g.large")},
		"InstanceClassSpec":   {"The spec's instance class, not the DR one.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.InstanceClass }), new("db.r6g.xlarge")},
		"Storage":             {"The default storage.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.AllocatedStorage }), new(float64(100))},
		"StorageSpec":         {"The spec's storage.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.AllocatedStorage }), new(float64(200))},
		"MaxStorage":          {"Storage autoscaling up to four times the storage by default.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MaxAllocatedStorage }), new(float64(400))},
		"MaxStorageSpec":      {"Storage autoscaling up to the spec's ceiling.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MaxAllocatedStorage }), new(float64(1000))},
		"BackupRetention":     {"Automated backups kept as long as the spec says.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.BackupRetentionPeriod }), new(float64(14))},
		"DatabaseName":        {"The spec's database.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DBName }), new("orders")},
		"Username":            {"The spec's master user.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Username }), new("orders_admin")},
		"NotPublic":           {"Never publicly accessible.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.PubliclyAccessible }), new(false)},
		"Port":                {"PostgreSQL's port.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Port }), new(float64(5432))},
		"GeneratedPassword":   {"provider-aws generates the master password.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.AutoGeneratePassword }), new(true)},
		"PasswordSecret": {"The generated password goes into the master-password Secret.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.PasswordSecretRef }),
			&xpv1.SecretKeySelector{SecretReference: xpv1.SecretReference{Name: "orders-0c614a-master-password", Namespace: "crossplane-system"}, Key: "password"}},
		"ConnectionSecret": {"The primary's connection details go into its own Secret.", def, func(i *rdsv1beta3.Instance) any { return i.GetWriteConnectionSecretToReference() },
			&xpv1.SecretReference{Name: "orders-0c614a-primary-db", Namespace: "crossplane-system"}},
		"SubnetGroup":     {"In the primary region's DB subnet group.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DBSubnetGroupNameSelector }), fxSelector("primary-db-subnet-group")},
		"ParameterGroup":  {"With the primary region's parameter group.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.ParameterGroupNameSelector }), fxSelector("primary-db-parameter-group")},
		"SecurityGroup":   {"Behind the primary region's database security group.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.VPCSecurityGroupIDSelector }), fxSelector("primary-sg-database")},
		"MonitoringRole":  {"Enhanced monitoring through the primary region's role.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MonitoringRoleArnSelector }), fxSelector("primary-db-monitoring-role")},
		"NoReplicaSource": {"The primary replicates from nothing.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.ReplicateSourceDB }), (*string)(nil)},
		"ProviderConfig": {"It uses the Input's provider config.", def, func(i *rdsv1beta3.Instance) any { return i.GetProviderConfigReference() },
			&xpv1.Reference{Name: "aws"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got(primary(t, tc.plan))); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, DBInstanceName(RolePrimary), diff)
			}
		})
	}
}

func TestDatabaseReplica(t *testing.T) {
	def := testPlan(t, builderSpec)
	custom := testPlan(t, dbCustomSpec)
	o := newDBObserved(t)
	replica := func(t *testing.T, p *xrPlan) *rdsv1beta3.Instance {
		t.Helper()
		i, ok := dbBuilt(p, fxMerge(o.keys, o.primary), stReplicating).Resources[DBInstanceName(RoleDR)].(*rdsv1beta3.Instance)
		if !ok {
			t.Fatalf("%s is not a desired Instance", DBInstanceName(RoleDR))
		}
		return i
	}
	nilString := (*string)(nil)

	cases := map[string]struct {
		reason string
		plan   *xrPlan
		got    func(*rdsv1beta3.Instance) any
		want   any
	}{
		"Region":              {"The replica is in the DR region.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Region }), new("us-east-2")},
		"RegionFromSpec":      {"The DR region is the spec's.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Region }), new("eu-central-1")},
		"Identifier":          {"The RDS identifier is the XR's base name and the role.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Identifier }), new("orders-0c614a-dr-db")},
		"Source":              {"A cross-region replica names its source by the primary's observed ARN.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.ReplicateSourceDB }), new(fxPrimaryDBARN)},
		"StorageEncrypted":    {"The replica is encrypted.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.StorageEncrypted }), new(true)},
		"KMSKey":              {"It is encrypted with the DR region's key: a KMS key is regional.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.KMSKeyID }), new(fxDRKeyARN)},
		"PerformanceInsights": {"Performance Insights is encrypted with the DR key too.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.PerformanceInsightsKMSKeyID }), new(fxDRKeyARN)},
		"InstanceClass":       {"The DR class defaults to the primary's.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.InstanceClass }), new("db.r6g.large")},
		"DRInstanceClass":     {"The spec's DR class, not the primary's.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.InstanceClass }), new("db.r6g.large")},
		"MultiAZ":             {"Multi-AZ by default, ready to take over.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MultiAz }), new(true)},
		"MultiAZOff":          {"Single-AZ when the spec says so.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MultiAz }), new(false)},
		"DeletionProtection":  {"Deletion-protected by default.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DeletionProtection }), new(true)},
		"DeletionProtOff":     {"Not deletion-protected when the spec turns it off.", custom, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DeletionProtection }), new(false)},
		"NoEngine":            {"A replica takes its engine from the source.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Engine }), nilString},
		"NoDatabaseName":      {"A replica takes its database from the source.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DBName }), nilString},
		"NoUsername":          {"A replica takes its master user from the source.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.Username }), nilString},
		"NoPassword":          {"A replica takes its master password from the source.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.PasswordSecretRef }), (*xpv1.SecretKeySelector)(nil)},
		"NotPublic":           {"Never publicly accessible.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.PubliclyAccessible }), new(false)},
		"SubnetGroup":         {"In the DR region's DB subnet group.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.DBSubnetGroupNameSelector }), fxSelector("dr-db-subnet-group")},
		"ParameterGroup":      {"With the DR region's parameter group.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.ParameterGroupNameSelector }), fxSelector("dr-db-parameter-group")},
		"SecurityGroup":       {"Behind the DR region's database security group.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.VPCSecurityGroupIDSelector }), fxSelector("dr-sg-database")},
		"MonitoringRole":      {"Enhanced monitoring through the DR region's role.", def, fp(func(f rdsv1beta3.InstanceParameters) any { return f.MonitoringRoleArnSelector }), fxSelector("dr-db-monitoring-role")},
		"NoLateInitialize": {"The provider does not late-initialize the source's user, database and engine into the replica's spec.", def,
			func(i *rdsv1beta3.Instance) any {
				return slices.Contains(i.GetManagementPolicies(), xpv1.ManagementActionLateInitialize)
			}, false},
		"FullyManaged": {"Otherwise Crossplane observes, creates, updates and deletes it.", def,
			func(i *rdsv1beta3.Instance) any {
				mp := i.GetManagementPolicies()
				return slices.Contains(mp, xpv1.ManagementActionObserve) && slices.Contains(mp, xpv1.ManagementActionCreate) &&
					slices.Contains(mp, xpv1.ManagementActionUpdate) && slices.Contains(mp, xpv1.ManagementActionDelete)
			}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got(replica(t, tc.plan))); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, DBInstanceName(RoleDR), diff)
			}
		})
	}
}

// TestDatabaseReplicaSource checks the replica's replication source and key in each failover
// state, and when what it was made from is no longer observed; both instances stay desired in
// every state.
func TestDatabaseReplicaSource(t *testing.T) {
	p := testPlan(t, builderSpec)
	o := newDBObserved(t)
	const otherSource = "arn:aws:rds:us-east-1:123456789012:db:restored-elsewhere"
	const otherKey = "arn:aws:kms:us-east-2:123456789012:key/mrk-00000000000000000000000000000000"
	cases := map[string]struct {
		reason     string
		observed   observedState
		st         failoverState
		wantSource *string
		wantKey    *string
	}{
		"Replicating": {
			reason:     "While the primary writes the replica replicates from its observed ARN, under the DR key.",
			observed:   o.all,
			st:         stReplicating,
			wantSource: new(fxPrimaryDBARN),
			wantKey:    new(fxDRKeyARN),
		},
		"Switchover": {
			reason:   "A planned switchover drops the replication source (that is what promotes the replica) and keeps the old primary.",
			observed: o.all,
			st:       stSwitchedOver,
			wantKey:  new(fxDRKeyARN),
		},
		"PromotedOutOfBand": {
			reason:   "After an out-of-band promotion no replication source is asked for (the function does not fight it) and neither instance is dropped.",
			observed: o.all,
			st:       stPromotedOutOfBand,
			wantKey:  new(fxDRKeyARN),
		},
		"PrimaryNotObserved": {
			reason: "Without the primary's ARN an observed replica keeps the source it reports, not a new one.",
			observed: fxMerge(o.keys, observedState{DBInstanceName(RoleDR): fxInstance(t, map[string]any{
				"arn": fxDRDBARN, "kmsKeyId": fxDRKeyARN, "replicateSourceDb": otherSource,
			})}),
			st:         stReplicating,
			wantSource: new(otherSource),
			wantKey:    new(fxDRKeyARN),
		},
		"DRKeyNotObserved": {
			reason: "Without the DR key's ARN an observed replica keeps the key it reports: AWS cannot change it.",
			observed: fxMerge(o.primaryKey, o.primary, observedState{DBInstanceName(RoleDR): fxInstance(t, map[string]any{
				"arn": fxDRDBARN, "kmsKeyId": otherKey, "replicateSourceDb": fxPrimaryDBARN,
			})}),
			st:         stReplicating,
			wantSource: new(fxPrimaryDBARN),
			wantKey:    new(otherKey),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := dbBuilt(p, tc.observed, tc.st)
			if _, ok := d.Resources[DBInstanceName(RolePrimary)].(*rdsv1beta3.Instance); !ok {
				t.Errorf("\n%s\n%s is not a desired Instance: Crossplane would delete the primary", tc.reason, DBInstanceName(RolePrimary))
			}
			r, ok := d.Resources[DBInstanceName(RoleDR)].(*rdsv1beta3.Instance)
			if !ok {
				t.Fatalf("\n%s\n%s is not a desired Instance", tc.reason, DBInstanceName(RoleDR))
			}
			if diff := cmp.Diff(tc.wantSource, r.Spec.ForProvider.ReplicateSourceDB); diff != "" {
				t.Errorf("\n%s\nreplicateSourceDb: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantKey, r.Spec.ForProvider.KMSKeyID); diff != "" {
				t.Errorf("\n%s\nkmsKeyId: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDatabaseBackupReplication(t *testing.T) {
	def := testPlan(t, builderSpec)
	custom := testPlan(t, dbCustomSpec)
	o := newDBObserved(t)
	get := func(t *testing.T, p *xrPlan) rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters {
		t.Helper()
		r, ok := dbBuilt(p, fxMerge(o.keys, o.primary), stReplicating).Resources["dr-db-backup-replication"].(*rdsv1beta1.DBInstanceAutomatedBackupsReplication)
		if !ok {
			t.Fatal("dr-db-backup-replication is not a desired DBInstanceAutomatedBackupsReplication")
		}
		return r.Spec.ForProvider
	}
	cases := map[string]struct {
		reason string
		plan   *xrPlan
		got    func(rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters) any
		want   any
	}{
		"Region": {"The backups are copied into the DR region: the resource lives where the copies go.", def,
			func(f rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters) any { return f.Region }, new("us-east-2")},
		"RegionFromSpec": {"The DR region is the spec's.", custom,
			func(f rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters) any { return f.Region }, new("eu-central-1")},
		"Source": {"The primary's automated backups, by its observed ARN.", def,
			func(f rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters) any { return f.SourceDBInstanceArn }, new(fxPrimaryDBARN)},
		"KMSKey": {"Encrypted with the DR key.", def,
			func(f rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters) any { return f.KMSKeyID }, new(fxDRKeyARN)},
		"Retention": {"Kept as long as the primary keeps its own.", custom,
			func(f rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters) any { return f.RetentionPeriod }, new(float64(14))},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got(get(t, tc.plan))); diff != "" {
				t.Errorf("\n%s\ndr-db-backup-replication: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestDatabaseSupport checks each region's subnet group, parameter group and monitoring role.
func TestDatabaseSupport(t *testing.T) {
	def := testPlan(t, builderSpec)
	custom := testPlan(t, dbCustomSpec)
	parameterGroup := func(t *testing.T, d *desiredState, role Role) *rdsv1beta1.ParameterGroup {
		t.Helper()
		pg, ok := d.Resources[resourceName(role, "db-parameter-group")].(*rdsv1beta1.ParameterGroup)
		if !ok {
			t.Fatalf("%s-db-parameter-group is not a desired ParameterGroup", role)
		}
		return pg
	}
	parameter := func(name string) func(*testing.T, *desiredState, Role) any {
		return func(t *testing.T, d *desiredState, role Role) any {
			t.Helper()
			for _, p := range parameterGroup(t, d, role).Spec.ForProvider.Parameter {
				if deref(p.Name) == name {
					return deref(p.Value)
				}
			}
			return nil
		}
	}
	subnetGroup := func(t *testing.T, d *desiredState, role Role) rdsv1beta1.SubnetGroupParameters {
		t.Helper()
		sg, ok := d.Resources[resourceName(role, "db-subnet-group")].(*rdsv1beta1.SubnetGroup)
		if !ok {
			t.Fatalf("%s-db-subnet-group is not a desired SubnetGroup", role)
		}
		return sg.Spec.ForProvider
	}
	both := func(v any) map[Role]any { return map[Role]any{RolePrimary: v, RoleDR: v} }

	cases := map[string]struct {
		reason string
		plan   *xrPlan
		got    func(*testing.T, *desiredState, Role) any
		want   map[Role]any
	}{
		"ForceSSL": {
			reason: "TLS to PostgreSQL is forced in both regions.",
			plan:   def, got: parameter("rds.force_ssl"), want: both("1"),
		},
		"ForceSSLNotOverridden": {
			reason: "A spec asking for rds.force_ssl=0 still gets 1.",
			plan:   custom, got: parameter("rds.force_ssl"), want: both("1"),
		},
		"ExtraParameter": {
			reason: "The spec's extra parameters are set in both regions.",
			plan:   custom, got: parameter("work_mem"), want: both("65536"),
		},
		"SpecParameterWins": {
			reason: "A spec parameter overrides the function's default for it.",
			plan:   custom, got: parameter("log_min_duration_statement"), want: both("250"),
		},
		"NoUnaskedParameter": {
			reason: "A parameter nobody asked for is not set.",
			plan:   def, got: parameter("work_mem"), want: both(nil),
		},
		"Family": {
			reason: "The family follows the default major version.",
			plan:   def,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				return parameterGroup(t, d, r).Spec.ForProvider.Family
			},
			want: both(new("postgres16")),
		},
		"FamilyFromSpec": {
			reason: "The family follows the spec's major version.",
			plan:   custom,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				return parameterGroup(t, d, r).Spec.ForProvider.Family
			},
			want: both(new("postgres15")),
		},
		"ParameterGroupName": {
			reason: "The family is part of the group's AWS name: a major upgrade gets a new group while the old stays in use.",
			plan:   custom,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				return parameterGroup(t, d, r).GetAnnotations()["crossplane.io/external-name"]
			},
			want: map[Role]any{RolePrimary: "orders-0c614a-primary-postgres15", RoleDR: "orders-0c614a-dr-postgres15"},
		},
		"ParameterGroupRegion": {
			reason: "Each region's instance gets a parameter group of its region.",
			plan:   custom,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				return parameterGroup(t, d, r).Spec.ForProvider.Region
			},
			want: map[Role]any{RolePrimary: new("eu-west-1"), RoleDR: new("eu-central-1")},
		},
		"SubnetGroupRegion": {
			reason: "Each region's subnet group is in its region.",
			plan:   custom,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				return subnetGroup(t, d, r).Region
			},
			want: map[Role]any{RolePrimary: new("eu-west-1"), RoleDR: new("eu-central-1")},
		},
		"SubnetGroupSubnets": {
			reason: "A subnet group holds its region's database-tier subnets, selected by label.",
			plan:   def,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				return subnetGroup(t, d, r).SubnetIDSelector
			},
			want: map[Role]any{
				RolePrimary: &xpv1.Selector{MatchControllerRef: new(true), MatchLabels: map[string]string{"pgdr.io/role": "primary", "pgdr.io/tier": "database"}},
				RoleDR:      &xpv1.Selector{MatchControllerRef: new(true), MatchLabels: map[string]string{"pgdr.io/role": "dr", "pgdr.io/tier": "database"}},
			},
		},
		"MonitoringTrust": {
			reason: "Only RDS enhanced monitoring may assume the monitoring role.",
			plan:   def,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				role, ok := d.Resources[resourceName(r, "db-monitoring-role")].(*iamv1beta1.Role)
				if !ok {
					t.Fatalf("%s-db-monitoring-role is not a desired Role", r)
				}
				doc := fxPolicy(t, role.Spec.ForProvider.AssumeRolePolicy)
				var out []string
				for _, s := range doc.Statement {
					out = append(out, s.Effect+" "+strings.Join(s.Action, ",")+" "+mustJSON(s.Principal))
				}
				return out
			},
			want: both([]string{`Allow sts:AssumeRole {"Service":"monitoring.rds.amazonaws.com"}`}),
		},
		"MonitoringPolicy": {
			reason: "The monitoring role gets AWS's enhanced monitoring policy, attached to the region's role.",
			plan:   def,
			got: func(t *testing.T, d *desiredState, r Role) any {
				t.Helper()
				a, ok := d.Resources[resourceName(r, "db-monitoring-policy")].(*iamv1beta1.RolePolicyAttachment)
				if !ok {
					t.Fatalf("%s-db-monitoring-policy is not a desired RolePolicyAttachment", r)
				}
				return []any{deref(a.Spec.ForProvider.PolicyArn), a.Spec.ForProvider.RoleSelector}
			},
			want: map[Role]any{
				RolePrimary: []any{"arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", fxSelector("primary-db-monitoring-role")},
				RoleDR:      []any{"arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", fxSelector("dr-db-monitoring-role")},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := dbBuilt(tc.plan, observedState{}, stReplicating)
			for _, role := range roles {
				if diff := cmp.Diff(tc.want[role], tc.got(t, d, role)); diff != "" {
					t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, role, diff)
				}
			}
		})
	}
}

// fp reads a field of an instance's spec.forProvider, for the table tests.
func fp(f func(rdsv1beta3.InstanceParameters) any) func(*rdsv1beta3.Instance) any {
	return func(i *rdsv1beta3.Instance) any { return f(i.Spec.ForProvider) }
}

func TestDatabaseLogGroups(t *testing.T) {
	p := testPlan(t, builderSpec)
	o := newDBObserved(t)
	d := dbBuilt(p, fxMerge(o.keys, o.primary), stReplicating)
	cases := map[string]struct {
		reason  string
		role    Role
		wantKey string
	}{
		"Primary": {reason: "The primary's log groups are encrypted with the primary region's key.", role: RolePrimary, wantKey: fxPrimaryKeyARN},
		"DR":      {reason: "The replica's log groups are encrypted with the DR region's key.", role: RoleDR, wantKey: fxDRKeyARN},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			region := p.Regions[tc.role].Region
			var pattern string
			for _, s := range keyPolicy(p.AccountID(), region).Statement {
				if s.Sid == "LogsEncryptLogGroups" {
					pattern, _ = s.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].(string)
				}
			}
			for _, lt := range logExportTypes {
				g, ok := d.Resources[dbLogGroupName(tc.role, 1, lt)].(*cloudwatchlogsv1beta1.Group)
				if !ok {
					t.Fatalf("\n%s\n%s is not a desired log Group", tc.reason, dbLogGroupName(tc.role, 1, lt))
				}
				// RDS publishes a log type to /aws/rds/instance/<instance>/<log type>
				// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html,
				// the same for PostgreSQL's postgresql and upgrade logs).
				want := "/aws/rds/instance/" + p.Names.DBInstance(tc.role, 1) + "/" + lt
				if got := g.GetAnnotations()["crossplane.io/external-name"]; got != want {
					t.Errorf("\n%s\nlog group %q, want %q", tc.reason, got, want)
				}
				fp := g.Spec.ForProvider
				if deref(fp.KMSKeyID) != tc.wantKey || deref(fp.Region) != region || deref(fp.RetentionInDays) != dbLogRetentionDays {
					t.Errorf("\n%s\nlog group key %q region %q retention %v, want %q %q %d", tc.reason, deref(fp.KMSKeyID), deref(fp.Region), deref(fp.RetentionInDays), tc.wantKey, region, dbLogRetentionDays)
				}
				// CloudWatch Logs uses the key with the log group's ARN as encryption context
				// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html):
				// the key policy's condition must match this group's ARN.
				arn := "arn:aws:logs:" + region + ":" + p.AccountID() + ":log-group:" + want
				if pattern == "" || !arnLike(pattern, arn) {
					t.Errorf("\n%s\nthe key policy's log-group condition %q does not match %s", tc.reason, pattern, arn)
				}
			}
		})
	}
}

// arnLike is IAM's ArnLike: * matches any run of characters, / included, and ? any one
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
func arnLike(pattern, arn string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(arn)
}

func TestFencedDeletionProtection(t *testing.T) {
	o := newDBObserved(t)
	observed := fxMerge(o.keys, o.all)
	cases := map[string]struct {
		reason string
		spec   string
		retire bool
		want   bool
	}{
		"Kept": {
			reason: "A fenced old writer stays deletion-protected: it is kept until the user retires it.",
			spec:   builderSpec, want: true,
		},
		"Retiring": {
			reason: "Retired by name once its successor is Ready: protection off, so that RDS lets it be deleted.",
			spec:   builderSpec, retire: true, want: false,
		},
		"TearDown": {
			reason: "spec.deletionProtection false is the user's word to tear the pair down: a fenced instance too (RDS refuses DeleteDBInstance of a protected instance, InvalidParameterCombination, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html).",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"deletionProtection":false}`, want: false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPlan(t, tc.spec)
			st := failoverState{Writer: RoleDR, Instances: []dbInstance{{Role: RoleDR, Gen: 1, As: asWriter}, {Role: RolePrimary, Gen: 1, As: asFenced, Retire: tc.retire}}}
			d := dbBuilt(p, observed, st)
			i, ok := d.Resources[DBInstanceName(RolePrimary)].(*rdsv1beta3.Instance)
			if !ok {
				t.Fatalf("\n%s\nthe fenced instance is not desired", tc.reason)
			}
			if got := deref(i.Spec.ForProvider.DeletionProtection); got != tc.want {
				t.Errorf("\n%s\ndeletionProtection = %v, want %v", tc.reason, got, tc.want)
			}
			if got := selectorTarget(i.Spec.ForProvider.VPCSecurityGroupIDSelector); got != string(securityGroupName(RolePrimary, sgFenced)) {
				t.Errorf("\n%s\nsecurity group %q, want the fenced one", tc.reason, got)
			}
		})
	}
}

func TestFencedParameterGroup(t *testing.T) {
	// default_transaction_read_only is a user-context parameter: a reload applies it to the
	// sessions that did not set it themselves (https://www.postgresql.org/docs/current/runtime-config-client.html,
	// https://www.postgresql.org/docs/current/view-pg-settings.html, context "user"), which is
	// what makes it dynamic on RDS; ModifyDBParameterGroup: "You can use the immediate value with
	// dynamic parameters only ... changes to dynamic parameters are applied immediately"
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBParameterGroup.html).
	p := testPlan(t, builderSpec)
	cases := map[string]struct {
		reason string
		as     instanceAs
		want   *rdsv1beta1.ParameterParameters
	}{
		"Writer":  {reason: "A writer's parameter group does not fence it.", as: asWriter},
		"Replica": {reason: "A replica's parameter group does not fence it either: it is read-only by replication, and a promotion must not find it fenced.", as: asReplica},
		"Fenced": {
			reason: "A fenced old writer's own parameter group makes every transaction read-only, at once, without a reboot.",
			as:     asFenced,
			want:   &rdsv1beta1.ParameterParameters{Name: new(fenceParameter), Value: new("1"), ApplyMethod: new("immediate")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildParameterGroup(p, d, dbInstance{Role: RolePrimary, Gen: 2, As: tc.as})
			g, ok := d.Resources[parameterGroupName(RolePrimary, 2)].(*rdsv1beta1.ParameterGroup)
			if !ok {
				t.Fatalf("\n%s\nthe instance's own parameter group (%s) is not desired", tc.reason, parameterGroupName(RolePrimary, 2))
			}
			var got *rdsv1beta1.ParameterParameters
			for i, pp := range g.Spec.ForProvider.Parameter {
				if deref(pp.Name) == fenceParameter {
					got = &g.Spec.ForProvider.Parameter[i]
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, fenceParameter, diff)
			}
			if n := g.GetAnnotations()["crossplane.io/external-name"]; !strings.HasSuffix(n, "-g2") {
				t.Errorf("\n%s\nthe generation-2 group is named %q, want it to end in -g2", tc.reason, n)
			}
		})
	}
}
