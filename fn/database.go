package fn

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	cloudwatchlogsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchlogs/v1beta1"
	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	rdsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta1"
	rdsv1beta3 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta3"
)

// Database settings the spec does not choose.
const (
	engine                    = "postgres"
	storageType               = "gp3"
	caCertIdentifier          = "rds-ca-rsa2048-g1"
	monitoringIntervalSeconds = 60
	performanceInsightsDays   = 7
	slowQueryMillis           = "1000"
	enhancedMonitoringPolicy  = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
)

// logExportTypes are the PostgreSQL logs both instances publish to CloudWatch Logs.
var logExportTypes = []string{"postgresql", "upgrade"} //nolint:gochecknoglobals // A constant list.

// dbLogRetentionDays is how long the instances' exported logs are kept.
const dbLogRetentionDays = 90

// dbLogGroupName is the resource name of the log group an instance exports a log type to.
func dbLogGroupName(r Role, logType string) resource.Name {
	return resourceName(r, "db-log", logType)
}

// dbLogGroup is the CloudWatch Logs group RDS publishes an instance's log type to: RDS names it
// /aws/rds/instance/<identifier>/<log type>.
func dbLogGroup(identifier, logType string) string {
	return "/aws/rds/instance/" + identifier + "/" + logType
}

// buildDBLogGroups adds the log groups an instance exports to, encrypted with its region's key
// and with a retention: RDS creates a missing one itself, unencrypted and kept forever. It
// reports whether all are Ready, which a new instance waits for.
func buildDBLogGroups(p *xrPlan, o observedState, d *desiredState, role Role, keyARN string) bool {
	region := p.Regions[role].Region
	ready := true
	for _, t := range logExportTypes {
		name, group := dbLogGroupName(role, t), dbLogGroup(p.Names.DBInstance(role), t)
		d.Add(name, named(&cloudwatchlogsv1beta1.Group{
			Spec: cloudwatchlogsv1beta1.GroupSpec{ForProvider: cloudwatchlogsv1beta1.GroupParameters{
				Region:          &region,
				KMSKeyID:        new(keyARN),
				RetentionInDays: new(float64(dbLogRetentionDays)),
				Tags:            p.Tags(role, group),
			}},
		}, group))
		ready = ready && o.Ready(name)
	}
	return ready
}

// replicaManagementPolicies leave out LateInitialize: provider-aws would copy the source's user
// name, database name and engine into the replica's spec, which then conflict with
// replicateSourceDb.
var replicaManagementPolicies = xpv1.ManagementPolicies{ //nolint:gochecknoglobals // A constant list.
	xpv1.ManagementActionObserve, xpv1.ManagementActionCreate, xpv1.ManagementActionUpdate, xpv1.ManagementActionDelete,
}

// DBInstanceName is the resource name of a region's database instance: the primary in the
// primary region, the cross-region read replica in the DR region.
func DBInstanceName(r Role) resource.Name { return resourceName(r, "db-instance") }

// dbInstanceARN returns the observed ARN of a region's database instance, or "".
func dbInstanceARN(o observedState, r Role) string {
	return deref(observedInstance(o, r).Status.AtProvider.Arn)
}

// dbEndpoint returns the observed endpoint address of a region's database instance, or "".
func dbEndpoint(o observedState, r Role) string {
	return deref(observedInstance(o, r).Status.AtProvider.Address)
}

// observedInstance returns a role's observed database instance, or an empty one.
func observedInstance(o observedState, r Role) *rdsv1beta3.Instance {
	return observedAs[rdsv1beta3.Instance](o, DBInstanceName(r))
}

// parameterFamily is the RDS parameter group family of a PostgreSQL major version.
func parameterFamily(major int) string { return fmt.Sprintf("postgres%d", major) }

// buildDatabase adds both regions' subnet groups, parameter groups and monitoring roles, the
// Multi-AZ primary, and, once the primary's and the DR key's ARNs are observed, the encrypted
// cross-region read replica and the replication of the writer's automated backups into the
// other region.
func buildDatabase(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	for _, role := range roles {
		buildDBSupport(p, d, role)
	}
	buildPrimary(p, o, d)
	buildReplica(p, o, st, d)
	buildBackupReplication(p, o, st, d)
}

func buildDBSupport(p *xrPlan, d *desiredState, role Role) {
	region := p.Regions[role].Region
	d.Add(resourceName(role, "db-subnet-group"), named(&rdsv1beta1.SubnetGroup{
		Spec: rdsv1beta1.SubnetGroupSpec{ForProvider: rdsv1beta1.SubnetGroupParameters{
			Region:           &region,
			Description:      new("Database subnets of " + p.Names.Base + " in " + region),
			SubnetIDSelector: d.SelectAll(tierLabels(role, tierDatabase)),
			Tags:             p.Tags(role, p.Names.RDSGroup(role, "subnets")),
		}},
	}, p.Names.RDSGroup(role, "subnets")))

	params := map[string]string{
		"rds.force_ssl":              "1",
		"shared_preload_libraries":   "pg_stat_statements",
		"log_min_duration_statement": slowQueryMillis,
		"pg_stat_statements.track":   "all",
	}
	maps.Copy(params, p.Spec.Postgres.Parameters)
	params["rds.force_ssl"] = "1"
	pp := make([]rdsv1beta1.ParameterParameters, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		pp = append(pp, rdsv1beta1.ParameterParameters{Name: new(k), Value: new(params[k]), ApplyMethod: new("pending-reboot")})
	}
	family := parameterFamily(p.Spec.Postgres.MajorVersion)
	// The family is part of the name: a new major version gets a new group, and the old one stays
	// in use until the instance has moved.
	name := p.Names.RDSGroup(role, family)
	d.Add(resourceName(role, "db-parameter-group"), named(&rdsv1beta1.ParameterGroup{
		Spec: rdsv1beta1.ParameterGroupSpec{ForProvider: rdsv1beta1.ParameterGroupParameters{
			Region:      &region,
			Family:      new(family),
			Description: new("PostgreSQL " + fmt.Sprint(p.Spec.Postgres.MajorVersion) + " parameters of " + p.Names.Base + ": TLS forced"),
			Parameter:   pp,
			Tags:        p.Tags(role, name),
		}},
	}, name))

	mon := resourceName(role, "db-monitoring-role")
	d.Add(mon, named(&iamv1beta1.Role{
		Spec: iamv1beta1.RoleSpec{ForProvider: iamv1beta1.RoleParameters{
			Description:      new("RDS enhanced monitoring of " + p.Names.DBInstance(role)),
			AssumeRolePolicy: assumeRoleFor("monitoring.rds.amazonaws.com", p.AccountID()).JSON(),
			Tags:             p.Tags(role, p.Names.IAM(role, "rds-monitoring")),
		}},
	}, p.Names.IAM(role, "rds-monitoring")))
	d.Add(resourceName(role, "db-monitoring-policy"), &iamv1beta1.RolePolicyAttachment{
		Spec: iamv1beta1.RolePolicyAttachmentSpec{ForProvider: iamv1beta1.RolePolicyAttachmentParameters{
			PolicyArn:    new(enhancedMonitoringPolicy),
			RoleSelector: d.Select(mon),
		}},
	})
}

// instanceCommon are the settings both instances share.
func instanceCommon(p *xrPlan, d *desiredState, role Role, keyARN string) rdsv1beta3.InstanceParameters {
	pg := p.Spec.Postgres
	region := p.Regions[role].Region
	return rdsv1beta3.InstanceParameters{
		Region:                             &region,
		Identifier:                         new(p.Names.DBInstance(role)),
		StorageType:                        new(storageType),
		MaxAllocatedStorage:                new(float64(pg.MaxStorageGB)),
		StorageEncrypted:                   new(true),
		KMSKeyID:                           new(keyARN),
		MultiAz:                            pg.MultiAZ,
		BackupRetentionPeriod:              new(float64(pg.BackupRetentionDays)),
		BackupWindow:                       new(pg.BackupWindow),
		MaintenanceWindow:                  new(pg.MaintenanceWindow),
		AutoMinorVersionUpgrade:            new(true),
		DeletionProtection:                 p.Spec.DeletionProtection,
		SkipFinalSnapshot:                  new(false),
		FinalSnapshotIdentifier:            new(p.Names.DBInstance(role) + "-final"),
		CopyTagsToSnapshot:                 new(true),
		DeleteAutomatedBackups:             new(false),
		PerformanceInsightsEnabled:         new(true),
		PerformanceInsightsKMSKeyID:        new(keyARN),
		PerformanceInsightsRetentionPeriod: new(float64(performanceInsightsDays)),
		MonitoringInterval:                 new(float64(monitoringIntervalSeconds)),
		MonitoringRoleArnSelector:          d.Select(resourceName(role, "db-monitoring-role")),
		IAMDatabaseAuthenticationEnabled:   new(true),
		EnabledCloudwatchLogsExports:       toPtrs(logExportTypes),
		PubliclyAccessible:                 new(false),
		VPCSecurityGroupIDSelector:         d.Select(securityGroupName(role, sgDatabase)),
		DBSubnetGroupNameSelector:          d.Select(resourceName(role, "db-subnet-group")),
		ParameterGroupNameSelector:         d.Select(resourceName(role, "db-parameter-group")),
		Port:                               new(float64(postgresPort)),
		CACertIdentifier:                   new(caCertIdentifier),
		Tags:                               p.Tags(role, p.Names.DBInstance(role)),
	}
}

// buildPrimary adds the primary instance once its key's ARN is observed: the key encrypts the
// storage and Performance Insights, and AWS cannot change either after the instance exists, so
// the instance is not created with a default key meanwhile.
func buildPrimary(p *xrPlan, o observedState, d *desiredState) {
	keyARN := keyARN(o, RolePrimary)
	if keyARN == "" {
		d.Wait(fmt.Sprintf("the primary KMS key's ARN (%s), to encrypt the primary database", keyName(RolePrimary)))
		return
	}
	if !buildDBLogGroups(p, o, d, RolePrimary, keyARN) && !o.Exists(DBInstanceName(RolePrimary)) {
		d.Wait(fmt.Sprintf("the primary database's log groups (%s) to be ready, so that RDS does not create them unencrypted", joinAnd(logGroupNames(RolePrimary))))
		return
	}
	pg := p.Spec.Postgres
	fp := instanceCommon(p, d, RolePrimary, keyARN)
	fp.Engine = new(engine)
	fp.EngineVersion = new(fmt.Sprint(pg.MajorVersion))
	fp.AllowMajorVersionUpgrade = new(true)
	fp.InstanceClass = new(pg.InstanceClass)
	fp.AllocatedStorage = new(float64(pg.StorageGB))
	fp.DBName = new(pg.DatabaseName)
	fp.Username = new(pg.Username)
	// RDS cannot manage the master password in Secrets Manager for an instance with read
	// replicas: the provider generates it into a Kubernetes Secret, and secret.go copies it into
	// a Secrets Manager secret replicated to the DR region for the Lambdas.
	fp.AutoGeneratePassword = new(true)
	fp.PasswordSecretRef = p.PasswordSecretRef()
	i := &rdsv1beta3.Instance{Spec: rdsv1beta3.InstanceSpec{ForProvider: fp}}
	i.SetWriteConnectionSecretToReference(p.ConnectionSecretRef(RolePrimary))
	d.Add(DBInstanceName(RolePrimary), i)
}

// buildReplica adds the cross-region read replica once the primary's ARN and the DR key's ARN
// are observed: a cross-region replica names its source by ARN, and AWS refuses an unencrypted
// cross-region replica of an encrypted source. After a failover the instance stays, without a
// replication source: dropping it is what promotes a replica.
func buildReplica(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	srcARN, keyARN := dbInstanceARN(o, RolePrimary), keyARN(o, RoleDR)
	if (srcARN == "" || keyARN == "") && !o.Exists(DBInstanceName(RoleDR)) {
		if srcARN == "" {
			d.Wait(fmt.Sprintf("the primary database's ARN (%s), to create its cross-region replica", DBInstanceName(RolePrimary)))
		}
		if keyARN == "" {
			d.Wait(fmt.Sprintf("the DR KMS key's ARN (%s), to encrypt the cross-region replica", keyName(RoleDR)))
		}
		return
	}
	dr := observedInstance(o, RoleDR)
	if keyARN == "" {
		// Observed before, its key not now: keep asking for what the instance was made with.
		keyARN = firstOf(deref(dr.Status.AtProvider.KMSKeyID), deref(dr.Spec.ForProvider.KMSKeyID))
	}
	if st.Writer == RolePrimary && srcARN == "" {
		srcARN = firstOf(deref(dr.Status.AtProvider.ReplicateSourceDB), deref(dr.Spec.ForProvider.ReplicateSourceDB))
	}
	if keyARN == "" || (st.Writer == RolePrimary && srcARN == "") {
		// An empty key would replace the instance and an empty source promote it: withheld, the
		// observed instance is kept as it is (keepObserved) until both are known again.
		d.Wait(fmt.Sprintf("the DR replica's key and source ARNs (%s, %s), to keep asking for the replica it is", keyName(RoleDR), DBInstanceName(RolePrimary)))
		return
	}
	if !buildDBLogGroups(p, o, d, RoleDR, keyARN) && !o.Exists(DBInstanceName(RoleDR)) {
		d.Wait(fmt.Sprintf("the DR database's log groups (%s) to be ready, so that RDS does not create them unencrypted", joinAnd(logGroupNames(RoleDR))))
		return
	}
	fp := instanceCommon(p, d, RoleDR, keyARN)
	fp.InstanceClass = new(p.Spec.Postgres.DRInstanceClass)
	// Its own backup window: PromoteReadReplica refuses an instance that is backing up, so a
	// failover must not meet the replica in the primary's window.
	fp.BackupWindow = new(replicaBackupWindow(p.Spec.Postgres.BackupWindow, p.Spec.Postgres.MaintenanceWindow))
	if st.Writer == RolePrimary {
		fp.ReplicateSourceDB = new(srcARN)
		// RDS refuses DeleteDBInstance of a read replica that names a final snapshot; once
		// promoted it is a database of its own and gets one like the primary's.
		fp.SkipFinalSnapshot, fp.FinalSnapshotIdentifier = new(true), nil
	}
	r := &rdsv1beta3.Instance{Spec: rdsv1beta3.InstanceSpec{ForProvider: fp}}
	r.SetManagementPolicies(replicaManagementPolicies)
	d.Add(DBInstanceName(RoleDR), r)
}

// backupReplicationName is the resource name of the replication of automated backups into a
// region. It lives in that region, the destination (RDS starts a replication in the region the
// copies go to), so each direction has its own name: dr- copies the primary's backups into the DR
// region, primary- the DR instance's into the primary region.
func backupReplicationName(dst Role) resource.Name { return resourceName(dst, "db-backup-replication") }

// buildBackupReplication copies the writer's automated backups into the other region, encrypted
// with that region's key: point-in-time restore there even if the writer's region is lost. While
// the primary writes, the primary's go to the DR region; once the DR instance writes, its own go
// to the primary region, and the copies of the old primary's stop (RDS keeps those already made
// for their retention period). The DR instance's are replicated once it is observed promoted:
// before that it is a replica, and its backups are not the writer's.
func buildBackupReplication(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	src, dst := st.Writer, st.Writer.Peer()
	srcARN, keyARN := dbInstanceARN(o, src), keyARN(o, dst)
	if src == RolePrimary {
		if srcARN == "" || keyARN == "" {
			return // buildReplica says what it waits for: the same ARNs.
		}
	} else {
		dr := observedInstance(o, src).Status.AtProvider
		switch {
		case srcARN == "" || deref(dr.ReplicateSourceDB) != "":
			d.Wait(fmt.Sprintf("the DR database (%s) to be observed promoted, to replicate its automated backups into the primary region", DBInstanceName(src)))
			return
		case keyARN == "":
			d.Wait(fmt.Sprintf("the primary KMS key's ARN (%s), to encrypt the DR database's automated backups replicated into the primary region", keyName(dst)))
			return
		}
	}
	d.Add(backupReplicationName(dst), &rdsv1beta1.DBInstanceAutomatedBackupsReplication{
		Spec: rdsv1beta1.DBInstanceAutomatedBackupsReplicationSpec{ForProvider: rdsv1beta1.DBInstanceAutomatedBackupsReplicationParameters{
			Region:              new(p.Regions[dst].Region),
			SourceDBInstanceArn: new(srcARN),
			KMSKeyID:            new(keyARN),
			RetentionPeriod:     new(float64(p.Spec.Postgres.BackupRetentionDays)),
		}},
	})
}

// replicaBackupWindow is the replica's daily backup window: the primary's, of the same length,
// moved by half a day, or by a third either way when that would meet the weekly maintenance
// window's time of day (RDS refuses a backup window that overlaps the maintenance window).
// Both windows are validated hh24:mi-hh24:mi and ddd:hh24:mi-ddd:hh24:mi.
func replicaBackupWindow(backup, maintenance string) string {
	start, end := windowMinutes(backup)
	mStart, mEnd := windowMinutes(dropDays(maintenance))
	for _, shift := range []int{12 * 60, 8 * 60, 16 * 60} {
		s, e := (start+shift)%day, (end+shift)%day
		if !overlaps(s, e, start, end) && !overlaps(s, e, mStart, mEnd) {
			return formatWindow(s, e)
		}
	}
	return formatWindow((start+12*60)%day, (end+12*60)%day)
}

const day = 24 * 60

// windowMinutes returns the start and end of an hh24:mi-hh24:mi window in minutes of the day.
func windowMinutes(w string) (int, int) {
	from, to, _ := strings.Cut(w, "-")
	return clockMinutes(from), clockMinutes(to)
}

func clockMinutes(hhmm string) int {
	h, m, _ := strings.Cut(hhmm, ":")
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	return hh*60 + mm
}

// dropDays turns ddd:hh24:mi-ddd:hh24:mi into hh24:mi-hh24:mi.
func dropDays(w string) string {
	from, to, _ := strings.Cut(w, "-")
	_, f, _ := strings.Cut(from, ":")
	_, t, _ := strings.Cut(to, ":")
	return f + "-" + t
}

// overlaps reports whether two windows of the day (each possibly across midnight) share a minute.
func overlaps(aStart, aEnd, bStart, bEnd int) bool {
	in := func(m, s, e int) bool {
		if s <= e {
			return m >= s && m < e
		}
		return m >= s || m < e
	}
	return in(aStart, bStart, bEnd) || in(bStart, aStart, aEnd)
}

func formatWindow(s, e int) string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s/60, s%60, e/60, e%60)
}

// firstOf returns the first of the values that is not empty, or "".
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// logGroupNames are the resource names of a role's instance log groups.
func logGroupNames(r Role) []string {
	out := make([]string, 0, len(logExportTypes))
	for _, t := range logExportTypes {
		out = append(out, string(dbLogGroupName(r, t)))
	}
	return out
}

// toPtrs returns pointers to copies of the strings.
func toPtrs(s []string) []*string {
	out := make([]*string, 0, len(s))
	for _, v := range s {
		out = append(out, new(v))
	}
	return out
}
