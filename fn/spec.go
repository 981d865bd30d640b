package fn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

var (
	reInstanceClass = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	reIdentifier    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	reBackupWindow  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)
	reMaintWindow   = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`)
	reEmail         = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	reDNSName       = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	reRDSIdentifier = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	reDNSLabel      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	reZoneID        = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	// reParameterName is a PostgreSQL parameter's name as RDS keeps it: lowercase, with a dot
	// after an extension's name (pg_stat_statements.track, rds.force_ssl).
	reParameterName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
)

// reservedUsernames cannot be an RDS PostgreSQL master user.
var reservedUsernames = []string{"postgres", "rdsadmin", "admin"} //nolint:gochecknoglobals // A constant list.

// Supported PostgreSQL major versions.
const (
	minMajorVersion = 13
	maxMajorVersion = 17
)

// parseSpec decodes the XR's spec, applies the defaults and validates it. Every error names the
// field path, the bad value and the fix.
func parseSpec(spec map[string]any) (v1alpha1.XPostgresDRSpec, error) {
	out := v1alpha1.XPostgresDRSpec{}
	if spec == nil {
		return out, errors.New("spec: Required value: the XR has no spec: set spec.regions.primary and spec.regions.dr")
	}
	if err := decode(spec, "spec", &out); err != nil {
		return out, err
	}
	out.Default()
	return out, nil
}

// decode decodes an object into a Go type; a value of the wrong type is reported with its field
// path under root, the type it has and the type it needs.
func decode(obj map[string]any, root string, into any) error {
	j, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", root, err)
	}
	if err := json.Unmarshal(j, into); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return fmt.Errorf("%s.%s: Invalid value: a %s: must be of type %s", root, te.Field, te.Value, jsonType(te.Type.Kind().String()))
		}
		return fmt.Errorf("cannot decode %s: %w", root, err)
	}
	return nil
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "integer"
	case kind == "bool", kind == "ptr":
		return "boolean"
	case kind == "map", kind == "struct":
		return "object"
	case kind == "slice":
		return "array"
	}
	return kind
}

// validateSpec checks what the XRD's schema cannot, and again what it can (render has no API
// server). It returns every problem found.
func validateSpec(s v1alpha1.XPostgresDRSpec, in *inputv1alpha1.Input) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")

	rp := sp.Child("regions")
	for _, r := range []struct {
		path  *field.Path
		value string
	}{{rp.Child("primary"), s.Regions.Primary}, {rp.Child("dr"), s.Regions.DR}} {
		switch {
		case r.value == "":
			errs = append(errs, field.Required(r.path, "set an AWS region such as us-east-1"))
		case !knownRegion(r.value):
			errs = append(errs, field.NotSupported(r.path, r.value, sortedRegions()))
		}
	}
	if s.Regions.Primary != "" && s.Regions.Primary == s.Regions.DR {
		errs = append(errs, field.Invalid(rp.Child("dr"), s.Regions.DR, "must differ from spec.regions.primary: choose another region for the DR copy"))
	}
	if s.ActiveRegion != s.Regions.Primary && s.ActiveRegion != s.Regions.DR {
		errs = append(errs, field.Invalid(sp.Child("activeRegion"), s.ActiveRegion,
			fmt.Sprintf("must be spec.regions.primary (%s) or spec.regions.dr (%s)", s.Regions.Primary, s.Regions.DR)))
	}

	errs = append(errs, validatePostgres(sp.Child("postgres"), s.Postgres, in)...)
	errs = append(errs, validateNetwork(sp.Child("network"), s)...)
	errs = append(errs, validateAccess(sp.Child("access"), s.Access)...)

	bp := sp.Child("backups")
	if d := s.Backups.NoncurrentVersionDays; d < 1 || d > 3650 {
		errs = append(errs, field.Invalid(bp.Child("noncurrentVersionDays"), d, "must be 1 to 3650 days"))
	}

	errs = append(errs, validateMonitoring(sp.Child("monitoring"), s.Monitoring)...)

	fp := sp.Child("failover")
	if s.Failover.Mode != v1alpha1.FailoverManual && s.Failover.Mode != v1alpha1.FailoverAutomatic {
		errs = append(errs, field.NotSupported(fp.Child("mode"), s.Failover.Mode, []string{string(v1alpha1.FailoverManual), string(v1alpha1.FailoverAutomatic)}))
	}
	if !reDNSName.MatchString(s.Failover.ZoneName) {
		errs = append(errs, field.Invalid(fp.Child("zoneName"), s.Failover.ZoneName, "must be a lowercase DNS name such as pgdr.internal"))
	}
	if s.Failover.ZoneID != "" && !reZoneID.MatchString(s.Failover.ZoneID) {
		errs = append(errs, field.Invalid(fp.Child("zoneID"), s.Failover.ZoneID, "must be a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ, or empty for a new private zone"))
	}
	if !reDNSLabel.MatchString(s.Failover.RecordName) {
		errs = append(errs, field.Invalid(fp.Child("recordName"), s.Failover.RecordName, "must be a lowercase DNS label such as db"))
	}
	errs = append(errs, validateProviderConfigName(sp.Child("providerConfigName"), s.ProviderConfigName)...)
	errs = append(errs, validateRoundTrip(sp, s)...)
	return errs
}

// validateRoundTrip checks the switchover, generation and retirement fields.
func validateRoundTrip(sp *field.Path, s v1alpha1.XPostgresDRSpec) field.ErrorList {
	var errs field.ErrorList
	maxCatchUp := int(contract.MaxCatchUpTimeout.Seconds())
	if c := s.Switchover.CatchUpTimeoutSeconds; c < 5 || c > maxCatchUp {
		errs = append(errs, field.Invalid(sp.Child("switchover", "catchUpTimeoutSeconds"), c,
			fmt.Sprintf("must be 5 to %d seconds: the failover Lambda's 15 minutes must also hold the promotion", maxCatchUp)))
	}
	for _, g := range []struct {
		path *field.Path
		gen  int
	}{{sp.Child("generations", "primary"), s.Generations.Primary}, {sp.Child("generations", "dr"), s.Generations.DR}} {
		if g.gen < 1 {
			errs = append(errs, field.Invalid(g.path, g.gen, "must be 1 or more: raise it by one to re-seed the region"))
		}
	}
	if r := s.RetireInstance; r != "" && (len(r) > 63 || !reRDSIdentifier.MatchString(r)) {
		errs = append(errs, field.Invalid(sp.Child("retireInstance"), r, "must be an RDS instance identifier, the one status.<region>.retainedInstance names"))
	}
	return errs
}

// validateProviderConfigName checks the name of a ProviderConfig, a Kubernetes object: a DNS-1123
// subdomain. Empty is no name: the Input's, or the default, applies.
func validateProviderConfigName(path *field.Path, name string) field.ErrorList {
	switch {
	case name == "":
		return nil
	case len(name) > 253:
		return field.ErrorList{field.TooLong(path, name, 253)}
	case len(validation.IsDNS1123Subdomain(name)) > 0:
		return field.ErrorList{field.Invalid(path, name, "must be the name of a provider-aws ProviderConfig: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, such as aws-prod")}
	}
	return nil
}

//nolint:gocyclo // One check per field, in the order of the spec.
func validatePostgres(pp *field.Path, p v1alpha1.Postgres, in *inputv1alpha1.Input) field.ErrorList {
	var errs field.ErrorList
	if p.MajorVersion < minMajorVersion || p.MajorVersion > maxMajorVersion {
		errs = append(errs, field.NotSupported(pp.Child("majorVersion"), p.MajorVersion, []string{"13", "14", "15", "16", "17"}))
	}
	for _, c := range []struct {
		path  *field.Path
		value string
	}{{pp.Child("instanceClass"), p.InstanceClass}, {pp.Child("drInstanceClass"), p.DRInstanceClass}} {
		if !reInstanceClass.MatchString(c.value) {
			errs = append(errs, field.Invalid(c.path, c.value, "must be an RDS instance class such as db.r6g.large"))
			continue
		}
		if in != nil && len(in.AllowedInstanceClasses) > 0 && !slices.Contains(in.AllowedInstanceClasses, c.value) {
			errs = append(errs, field.NotSupported(c.path, c.value, in.AllowedInstanceClasses))
		}
	}
	if p.StorageGB < 20 || p.StorageGB > 65536 {
		errs = append(errs, field.Invalid(pp.Child("storageGB"), p.StorageGB, "must be 20 to 65536 GiB"))
	}
	if p.MaxStorageGB < p.StorageGB || p.MaxStorageGB > 65536 {
		errs = append(errs, field.Invalid(pp.Child("maxStorageGB"), p.MaxStorageGB,
			fmt.Sprintf("must be at least spec.postgres.storageGB (%d) and at most 65536, or 0 for %dx storageGB", p.StorageGB, v1alpha1.StorageCeilingFactor)))
	}
	if p.BackupRetentionDays < 1 || p.BackupRetentionDays > 35 {
		errs = append(errs, field.Invalid(pp.Child("backupRetentionDays"), p.BackupRetentionDays, "must be 1 to 35 days: a read replica needs automated backups on its source"))
	}
	if !reBackupWindow.MatchString(p.BackupWindow) {
		errs = append(errs, field.Invalid(pp.Child("backupWindow"), p.BackupWindow, "must be hh24:mi-hh24:mi in UTC, such as 03:00-04:00"))
	}
	if !reMaintWindow.MatchString(p.MaintenanceWindow) {
		errs = append(errs, field.Invalid(pp.Child("maintenanceWindow"), p.MaintenanceWindow, "must be ddd:hh24:mi-ddd:hh24:mi in UTC, such as sun:05:00-sun:06:00"))
	}
	if !reIdentifier.MatchString(p.DatabaseName) || len(p.DatabaseName) > 63 {
		errs = append(errs, field.Invalid(pp.Child("databaseName"), p.DatabaseName, "must start with a letter, hold only letters, digits and _, and be at most 63 characters"))
	}
	switch {
	case !reIdentifier.MatchString(p.Username) || len(p.Username) > 16:
		errs = append(errs, field.Invalid(pp.Child("username"), p.Username, "must start with a letter, hold only letters, digits and _, and be at most 16 characters"))
	case slices.Contains(reservedUsernames, strings.ToLower(p.Username)):
		errs = append(errs, field.Invalid(pp.Child("username"), p.Username, "is reserved by RDS: choose another user name such as pgadmin"))
	}
	errs = append(errs, validateParameters(pp.Child("parameters"), p.Parameters)...)
	return errs
}

// validateParameters checks the names of the extra PostgreSQL parameters, and that TLS stays
// forced. Terraform sends a parameter's name lowercased and reads it back lowercased, so a name
// with capitals would never match what is observed.
func validateParameters(path *field.Path, params map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if reParameterName.MatchString(k) {
			continue
		}
		fix := "must be a PostgreSQL parameter name: lowercase letters, digits and _, starting with a letter, and a dot after an extension's name, such as work_mem or pg_stat_statements.track"
		if lower := strings.ToLower(k); reParameterName.MatchString(lower) {
			fix = "PostgreSQL parameter names are lowercase, as RDS keeps them: use " + lower
		}
		errs = append(errs, field.Invalid(path.Key(k), k, fix))
	}
	if v, ok := params["rds.force_ssl"]; ok && v != "1" {
		errs = append(errs, field.Invalid(path.Key("rds.force_ssl"), v, "must stay 1: TLS to PostgreSQL is enforced; remove the parameter"))
	}
	return errs
}

func validateNetwork(np *field.Path, s v1alpha1.XPostgresDRSpec) field.ErrorList {
	var errs field.ErrorList
	n := s.Network
	switch n.Mode {
	case v1alpha1.NetworkManaged:
	case v1alpha1.NetworkExisting:
		return validateExisting(np.Child("existing"), n.Existing)
	default:
		return field.ErrorList{field.NotSupported(np.Child("mode"), n.Mode, []string{string(v1alpha1.NetworkManaged), string(v1alpha1.NetworkExisting)})}
	}
	if n.AZCount < 2 || n.AZCount > maxAZs {
		errs = append(errs, field.Invalid(np.Child("azCount"), n.AZCount, fmt.Sprintf("must be 2 to %d: Multi-AZ needs subnets in at least two zones", maxAZs)))
	}
	if n.NATGateways < 1 || n.NATGateways > n.AZCount {
		errs = append(errs, field.Invalid(np.Child("natGateways"), n.NATGateways, fmt.Sprintf("must be 1 to spec.network.azCount (%d)", n.AZCount)))
	}
	if n.SubnetPrefix < 16 || n.SubnetPrefix > 28 {
		errs = append(errs, field.Invalid(np.Child("subnetPrefix"), n.SubnetPrefix, "must be 16 to 28"))
	}
	if len(errs) > 0 {
		return errs
	}
	plans := map[string]networkPlan{}
	for _, c := range []struct {
		name, cidr, region string
		azs                []string
	}{{"primaryCIDR", n.PrimaryCIDR, s.Regions.Primary, n.PrimaryAZs}, {"drCIDR", n.DRCIDR, s.Regions.DR, n.DRAZs}} {
		p, err := planCIDRs(c.cidr, n.SubnetPrefix, n.AZCount)
		if err != nil {
			errs = append(errs, field.Invalid(np.Child(c.name), c.cidr, err.Error()))
			continue
		}
		plans[c.name] = p
		if knownRegion(c.region) {
			azPath := np.Child(strings.TrimSuffix(c.name, "CIDR") + "AZs")
			if _, err := availabilityZones(c.region, n.AZCount, c.azs); err != nil {
				errs = append(errs, field.Invalid(azPath, c.azs, err.Error()))
			}
		}
	}
	if p, ok := plans["primaryCIDR"]; ok {
		if d, ok := plans["drCIDR"]; ok && p.VPC.Overlaps(d.VPC) {
			errs = append(errs, field.Invalid(np.Child("drCIDR"), n.DRCIDR,
				fmt.Sprintf("overlaps spec.network.primaryCIDR (%s): peered VPCs need disjoint ranges, e.g. %s", n.PrimaryCIDR, suggestDisjoint(p))))
		}
	}
	return errs
}

// suggestDisjoint proposes the VPC range right after the given one.
func suggestDisjoint(p networkPlan) string {
	size := uint32(1) << uint(32-p.VPC.Bits())
	return uintToIPv4(ipv4ToUint(p.VPC.Addr())+size).String() + "/" + fmt.Sprint(p.VPC.Bits())
}

func validateMonitoring(mp *field.Path, m v1alpha1.Monitoring) field.ErrorList {
	var errs field.ErrorList
	ranges := []struct {
		name     string
		v, lo, h int64
		unit     string
	}{
		{"replicationLagSeconds", int64(m.ReplicationLagSeconds), 1, 86400, "seconds"},
		{"replicationLagBytes", m.ReplicationLagBytes, 1024, 1 << 40, "bytes"},
		{"cpuPercent", int64(m.CPUPercent), 1, 100, "percent"},
		{"freeStoragePercent", int64(m.FreeStoragePercent), 1, 90, "percent"},
		{"freeMemoryMB", int64(m.FreeMemoryMB), 1, 1 << 20, "MiB"},
		{"maxConnections", int64(m.MaxConnections), 1, 1 << 20, "connections"},
		{"latencyMillis", int64(m.LatencyMillis), 1, 60000, "milliseconds"},
		{"lagCheckMinutes", int64(m.LagCheckMinutes), 1, 60, "minutes"},
	}
	for _, r := range ranges {
		if r.v < r.lo || r.v > r.h {
			errs = append(errs, field.Invalid(mp.Child(r.name), r.v, fmt.Sprintf("must be %d to %d %s", r.lo, r.h, r.unit)))
		}
	}
	if len(m.NotificationEmails) > 10 {
		errs = append(errs, field.TooMany(mp.Child("notificationEmails"), len(m.NotificationEmails), 10))
	}
	for i, e := range m.NotificationEmails {
		if !reEmail.MatchString(e) {
			errs = append(errs, field.Invalid(mp.Child("notificationEmails").Index(i), e, "must be an email address such as dba@example.com"))
		}
	}
	return errs
}
