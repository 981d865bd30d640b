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
func dbLogGroupName(r Role, gen int, logType string) resource.Name {
	return resource.Name(string(resourceName(r, "db-log", logType)) + genSuffix(gen))
}

// dbLogGroup is the CloudWatch Logs group RDS publishes an instance's log type to: RDS names it
// /aws/rds/instance/<identifier>/<log type>.
func dbLogGroup(identifier, logType string) string {
	return "/aws/rds/instance/" + identifier + "/" + logType
}

// buildDBLogGroups adds the log groups an instance exports to, encrypted with its region's key
// and with a retention: RDS creates a missing one itself, unencrypted and kept forever. It
// reports whether all are Ready, which a new instance waits for.
func buildDBLogGroups(p *xrPlan, o observedState, d *desiredState, i dbInstance, keyARN string) bool {
	role := i.Role
	region := p.Regions[role].Region
	ready := true
	for _, t := range logExportTypes {
		name, group := dbLogGroupName(role, i.Gen, t), dbLogGroup(p.Names.DBInstance(role, i.Gen), t)
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

// DBInstanceName is the resource name of a region's first database instance: the primary in the
// primary region, the cross-region read replica in the DR region. Later generations add -g<n>.
func DBInstanceName(r Role) resource.Name { return resourceName(r, "db-instance") }

// dbInstanceARN returns the observed ARN of a database instance, or "".
func dbInstanceARN(o observedState, name resource.Name) string {
	return deref(observedDB(o, name).Status.AtProvider.Arn)
}

// dbEndpoint returns the observed endpoint address of a database instance, or "".
func dbEndpoint(o observedState, name resource.Name) string {
	return deref(observedDB(o, name).Status.AtProvider.Address)
}

// observedDB returns an observed database instance, or an empty one.
func observedDB(o observedState, name resource.Name) *rdsv1beta3.Instance {
	return observedAs[rdsv1beta3.Instance](o, name)
}

// parameterFamily is the RDS parameter group family of a PostgreSQL major version.
func parameterFamily(major int) string { return fmt.Sprintf("postgres%d", major) }

// parameterGroupName is the resource name of an instance's own parameter group.
func parameterGroupName(r Role, gen int) resource.Name {
	return resource.Name(string(resourceName(r, "db-parameter-group")) + genSuffix(gen))
}

// buildDatabase adds both regions' subnet groups and monitoring roles, each instance the failover
// state asks for (with its parameter group and log groups), and the replication of the writer's
// automated backups into the other region.
func buildDatabase(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	for _, role := range roles {
		buildDBSupport(p, d, role)
	}
	for _, i := range st.Instances {
		buildInstance(p, o, st, d, i)
	}
	buildBackupReplication(p, o, st, d)
}

func buildDBSupport(p *xrPlan, d *desiredState, role Role) {
	region := p.Regions[role].Region
	ids, sel := subnetsRef(p, d, role, tierDatabase)
	d.Add(resourceName(role, "db-subnet-group"), named(&rdsv1beta1.SubnetGroup{
		Spec: rdsv1beta1.SubnetGroupSpec{ForProvider: rdsv1beta1.SubnetGroupParameters{
			Region:           &region,
			Description:      new("Database subnets of " + p.Names.Base + " in " + region),
			SubnetIds:        ids,
			SubnetIDSelector: sel,
			Tags:             p.Tags(role, p.Names.RDSGroup(role, "subnets")),
		}},
	}, p.Names.RDSGroup(role, "subnets")))

	mon := resourceName(role, "db-monitoring-role")
	d.Add(mon, named(&iamv1beta1.Role{
		Spec: iamv1beta1.RoleSpec{ForProvider: iamv1beta1.RoleParameters{
			Description:      new("RDS enhanced monitoring of " + p.Names.Base + " in " + region),
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

// fenceParameter makes a fenced old writer read-only: a dynamic parameter, applied without a
// reboot, that sessions pick up when the server reloads its configuration.
const fenceParameter = "default_transaction_read_only"

// buildParameterGroup adds an instance's own parameter group: TLS forced, and read-only for a
// fenced old writer. The family is part of the name: a new major version gets a new group, and
// the old one stays in use until the instance has moved.
func buildParameterGroup(p *xrPlan, d *desiredState, i dbInstance) {
	params := map[string]string{
		"rds.force_ssl":              "1",
		"shared_preload_libraries":   "pg_stat_statements",
		"log_min_duration_statement": slowQueryMillis,
		"pg_stat_statements.track":   "all",
	}
	maps.Copy(params, p.Spec.Postgres.Parameters)
	params["rds.force_ssl"] = "1"
	if i.As == asFenced {
		params[fenceParameter] = "1"
	}
	pp := make([]rdsv1beta1.ParameterParameters, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		apply := "pending-reboot"
		if k == fenceParameter {
			apply = "immediate"
		}
		pp = append(pp, rdsv1beta1.ParameterParameters{Name: new(k), Value: new(params[k]), ApplyMethod: new(apply)})
	}
	region := p.Regions[i.Role].Region
	family := parameterFamily(p.Spec.Postgres.MajorVersion)
	name := p.Names.RDSGroup(i.Role, family+genSuffix(i.Gen))
	desc := "PostgreSQL " + fmt.Sprint(p.Spec.Postgres.MajorVersion) + " parameters of " + p.Names.DBInstance(i.Role, i.Gen) + ": TLS forced"
	if i.As == asFenced {
		desc += ", read-only (fenced old writer)"
	}
	d.Add(parameterGroupName(i.Role, i.Gen), named(&rdsv1beta1.ParameterGroup{
		Spec: rdsv1beta1.ParameterGroupSpec{ForProvider: rdsv1beta1.ParameterGroupParameters{
			Region:      &region,
			Family:      new(family),
			Description: new(desc),
			Parameter:   pp,
			Tags:        p.Tags(i.Role, name),
		}},
	}, name))
}

// instanceCommon are the settings every instance shares.
func instanceCommon(p *xrPlan, d *desiredState, i dbInstance, keyARN string) rdsv1beta3.InstanceParameters {
	pg := p.Spec.Postgres
	role := i.Role
	region := p.Regions[role].Region
	id := p.Names.DBInstance(role, i.Gen)
	return rdsv1beta3.InstanceParameters{
		Region:                             &region,
		Identifier:                         new(id),
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
		FinalSnapshotIdentifier:            new(id + "-final"),
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
		ParameterGroupNameSelector:         d.Select(parameterGroupName(role, i.Gen)),
		Port:                               new(float64(postgresPort)),
		CACertIdentifier:                   new(caCertIdentifier),
		Tags:                               p.Tags(role, id),
	}
}

// instanceTitle names an instance in a wait or a message.
func instanceTitle(p *xrPlan, i dbInstance) string {
	return fmt.Sprintf("%s database %s (%s)", roleTitle(i.Role), p.Names.DBInstance(i.Role, i.Gen), i.Name())
}

// buildInstance adds one instance as the failover state asks for it:
//
//   - the first primary is a new database, created once its key's ARN is observed: the key
//     encrypts the storage and Performance Insights, and AWS cannot change either later;
//   - a replica is a cross-region read replica of the writer, which it names by ARN (AWS refuses
//     an unencrypted cross-region replica of an encrypted source, so it waits for its region's
//     key too); once promoted it stays, without a replication source;
//   - a fenced old writer is made read-only (its parameter group) and closed to clients (a
//     security group without ingress), and kept, deletion-protected, until spec.retireInstance
//     names it; then deletion protection is turned off and, once AWS reports it off, the
//     instance is no longer desired and Crossplane deletes it, with a final snapshot.
//
// A new instance also waits for its log groups to be Ready: RDS would create them unencrypted.
//
//nolint:gocyclo // One branch per thing an instance can be desired as.
func buildInstance(p *xrPlan, o observedState, st failoverState, d *desiredState, i dbInstance) {
	name := i.Name()
	obs := observedDB(o, name)
	exists := o.Exists(name)
	if i.Retire && exists && obs.Status.AtProvider.DeletionProtection != nil && !*obs.Status.AtProvider.DeletionProtection {
		d.Retired = append(d.Retired, name)
		return
	}
	buildParameterGroup(p, d, i)
	key := firstOf(keyARN(o, i.Role), deref(obs.Status.AtProvider.KMSKeyID), deref(obs.Spec.ForProvider.KMSKeyID))
	first := i.Role == RolePrimary && i.Gen == 1
	var src string
	if i.As == asReplica {
		writer := st.Current(p, st.Writer).Name()
		src = firstOf(dbInstanceARN(o, writer), deref(obs.Status.AtProvider.ReplicateSourceDB), deref(obs.Spec.ForProvider.ReplicateSourceDB))
		if src == "" {
			// An empty source would promote an observed replica: withheld, keepObserved keeps it.
			d.Wait(fmt.Sprintf("the writer's ARN (%s), to create or keep its cross-region replica %s", writer, name))
		}
	}
	if key == "" {
		d.Wait(fmt.Sprintf("the %s KMS key's ARN (%s), to encrypt the %s", roleTitle(i.Role), keyName(i.Role), instanceTitle(p, i)))
	}
	if key == "" || (i.As == asReplica && src == "") {
		return
	}
	logsReady := buildDBLogGroups(p, o, d, i, key)
	if !exists && !logsReady {
		d.Wait(fmt.Sprintf("the log groups of the %s (%s) to be ready, so that RDS does not create them unencrypted", instanceTitle(p, i), joinAnd(logGroupNames(i.Role, i.Gen))))
		return
	}
	pg := p.Spec.Postgres
	fp := instanceCommon(p, d, i, key)
	if first {
		fp.Engine = new(engine)
		fp.EngineVersion = new(fmt.Sprint(pg.MajorVersion))
		fp.AllowMajorVersionUpgrade = new(true)
		fp.InstanceClass = new(pg.InstanceClass)
		fp.AllocatedStorage = new(float64(pg.StorageGB))
		fp.DBName = new(pg.DatabaseName)
		fp.Username = new(pg.Username)
		// RDS cannot manage the master password in Secrets Manager for an instance with read
		// replicas: the provider generates it into a Kubernetes Secret, and secret.go copies it
		// into a Secrets Manager secret replicated to the DR region for the Lambdas.
		fp.AutoGeneratePassword = new(true)
		fp.PasswordSecretRef = p.PasswordSecretRef()
	} else {
		fp.InstanceClass = new(pg.InstanceClass)
		if i.Role == RoleDR {
			fp.InstanceClass = new(pg.DRInstanceClass)
		}
		// Its own backup window: PromoteReadReplica refuses an instance that is backing up, so a
		// failover must not meet the replica in the writer's window.
		fp.BackupWindow = new(replicaBackupWindow(pg.BackupWindow, pg.MaintenanceWindow))
	}
	switch i.As {
	case asReplica:
		fp.ReplicateSourceDB = new(src)
		// RDS refuses DeleteDBInstance of a read replica that names a final snapshot; once
		// promoted it is a database of its own and gets one like the primary's.
		fp.SkipFinalSnapshot, fp.FinalSnapshotIdentifier = new(true), nil
	case asWriter, asPromoted:
		if !first {
			// A promoted replica inherited the master password; asking for the same one puts it
			// in the instance's connection details, which the claim's are made of.
			fp.PasswordSecretRef = p.PasswordSecretRef()
		}
	case asFenced:
		// Kept protected until retired, unless the user turned protection off to tear the pair down.
		fp.DeletionProtection = new(!i.Retire && (p.Spec.DeletionProtection == nil || *p.Spec.DeletionProtection))
		addFencedSecurityGroup(p, d, i.Role)
		fp.VPCSecurityGroupIDSelector = d.Select(securityGroupName(i.Role, sgFenced))
	}
	inst := &rdsv1beta3.Instance{Spec: rdsv1beta3.InstanceSpec{ForProvider: fp}}
	inst.SetAnnotations(map[string]string{annotationDesiredAs: string(i.As)})
	if !first {
		inst.SetManagementPolicies(replicaManagementPolicies)
	}
	if i.As == asWriter || i.As == asPromoted || (i.As == asReplica && i.Gen == p.Gen[i.Role]) {
		inst.SetWriteConnectionSecretToReference(p.ConnectionSecretRef(i.Role))
	}
	d.Add(name, inst)
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
	src, dst := st.Writer, st.Standby()
	writer := st.Current(p, src)
	srcARN, keyARN := dbInstanceARN(o, writer.Name()), keyARN(o, dst)
	first := src == RolePrimary && writer.Gen == 1
	switch {
	case first && (srcARN == "" || keyARN == ""):
		return // The replica says what it waits for: the same ARNs.
	case srcARN == "" || deref(observedDB(o, writer.Name()).Status.AtProvider.ReplicateSourceDB) != "":
		d.Wait(fmt.Sprintf("the writer %s to be observed promoted, to replicate its automated backups into %s", writer.Name(), p.Regions[dst].Region))
		return
	case keyARN == "":
		d.Wait(fmt.Sprintf("the %s KMS key's ARN (%s), to encrypt the writer's automated backups replicated into %s", roleTitle(dst), keyName(dst), p.Regions[dst].Region))
		return
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

// logGroupNames are the resource names of an instance's log groups.
func logGroupNames(r Role, gen int) []string {
	out := make([]string, 0, len(logExportTypes))
	for _, t := range logExportTypes {
		out = append(out, string(dbLogGroupName(r, gen, t)))
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
