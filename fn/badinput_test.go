package fn

import (
	"strings"
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// TestBadInput feeds bad claims, bad Inputs and odd observed states to RunFunction. Each must be
// answered with a Fatal result whose message names the field path, the bad value and the fix,
// and with nothing desired changed.
func TestBadInput(t *testing.T) {
	regions := `"regions":{"primary":"us-east-1","dr":"us-east-2"}`
	spec := func(extra string) string { return testXR(`{` + regions + `,` + extra + `}`) }
	type want struct {
		path, value, fix string // each must appear in the message
	}
	cases := map[string]struct {
		reason string
		input  string
		xr     string
		want   want
	}{
		// Regions.
		"NoRegions":        {"No regions.", testInput, testXR(`{}`), want{"spec.regions.primary", "Required", "us-east-1"}},
		"SameRegion":       {"The same region twice.", testInput, testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-1"}}`), want{"spec.regions.dr", `"us-east-1"`, "choose another region"}},
		"UnknownPrimary":   {"An unknown primary region.", testInput, testXR(`{"regions":{"primary":"mars-north-1","dr":"us-east-2"}}`), want{"spec.regions.primary", `"mars-north-1"`, "supported values"}},
		"UnknownDR":        {"An unknown DR region.", testInput, testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-9"}}`), want{"spec.regions.dr", `"us-east-9"`, "supported values"}},
		"RegionWrongType":  {"A region that is a number.", testInput, testXR(`{"regions":{"primary":1,"dr":"us-east-2"}}`), want{"spec.regions.primary", "a number", "string"}},
		"ActiveElsewhere":  {"An active region that is neither.", testInput, spec(`"activeRegion":"eu-west-1"`), want{"spec.activeRegion", `"eu-west-1"`, "must be spec.regions.primary (us-east-1) or spec.regions.dr (us-east-2)"}},
		"RegionsNotObject": {"Regions as a string.", testInput, testXR(`{"regions":"us-east-1"}`), want{"spec.regions", "a string", "object"}},
		// PostgreSQL.
		"MajorTooOld":         {"PostgreSQL 12.", testInput, spec(`"postgres":{"majorVersion":12}`), want{"spec.postgres.majorVersion", "12", `"16"`}},
		"MajorTooNew":         {"PostgreSQL 18.", testInput, spec(`"postgres":{"majorVersion":18}`), want{"spec.postgres.majorVersion", "18", `"17"`}},
		"MajorString":         {"A version as a string.", testInput, spec(`"postgres":{"majorVersion":"16"}`), want{"spec.postgres.majorVersion", "a string", "integer"}},
		"InstanceClass":       {"Not an RDS class.", testInput, spec(`"postgres":{"instanceClass":"m5.large"}`), want{"spec.postgres.instanceClass", `"m5.large"`, "db.r6g.large"}},
		"DRInstanceClass":     {"A bad DR class.", testInput, spec(`"postgres":{"drInstanceClass":"large"}`), want{"spec.postgres.drInstanceClass", `"large"`, "db.r6g.large"}},
		"ClassNotAllowed":     {"A class the platform does not allow.", strings.Replace(testInput, `"providerConfigName"`, `"allowedInstanceClasses":["db.t4g.medium"],"providerConfigName"`, 1), spec(`"postgres":{"instanceClass":"db.r6g.large","drInstanceClass":"db.t4g.medium"}`), want{"spec.postgres.instanceClass", `"db.r6g.large"`, `"db.t4g.medium"`}},
		"StorageTooSmall":     {"10 GiB.", testInput, spec(`"postgres":{"storageGB":10}`), want{"spec.postgres.storageGB", "10", "20 to 65536"}},
		"StorageTooLarge":     {"70000 GiB.", testInput, spec(`"postgres":{"storageGB":70000}`), want{"spec.postgres.storageGB", "70000", "20 to 65536"}},
		"MaxBelowStorage":     {"A ceiling under the allocation.", testInput, spec(`"postgres":{"storageGB":200,"maxStorageGB":100}`), want{"spec.postgres.maxStorageGB", "100", "at least spec.postgres.storageGB (200)"}},
		"RetentionZero":       {"No backups: a replica needs them.", testInput, spec(`"postgres":{"backupRetentionDays":-1}`), want{"spec.postgres.backupRetentionDays", "-1", "a read replica needs automated backups"}},
		"RetentionTooLong":    {"36 days.", testInput, spec(`"postgres":{"backupRetentionDays":36}`), want{"spec.postgres.backupRetentionDays", "36", "1 to 35"}},
		"BackupWindow":        {"A malformed backup window.", testInput, spec(`"postgres":{"backupWindow":"3am"}`), want{"spec.postgres.backupWindow", `"3am"`, "03:00-04:00"}},
		"MaintenanceWindow":   {"A malformed maintenance window.", testInput, spec(`"postgres":{"maintenanceWindow":"sunday"}`), want{"spec.postgres.maintenanceWindow", `"sunday"`, "sun:05:00-sun:06:00"}},
		"DatabaseName":        {"A database name with a dash.", testInput, spec(`"postgres":{"databaseName":"my-db"}`), want{"spec.postgres.databaseName", `"my-db"`, "start with a letter"}},
		"DatabaseNameTooLong": {"A 64-character database name.", testInput, spec(`"postgres":{"databaseName":"` + strings.Repeat("a", 64) + `"}`), want{"spec.postgres.databaseName", strings.Repeat("a", 64), "at most 63"}},
		"UsernameReserved":    {"A reserved user name.", testInput, spec(`"postgres":{"username":"rdsadmin"}`), want{"spec.postgres.username", `"rdsadmin"`, "pgadmin"}},
		"UsernameTooLong":     {"A 17-character user name.", testInput, spec(`"postgres":{"username":"` + strings.Repeat("u", 17) + `"}`), want{"spec.postgres.username", strings.Repeat("u", 17), "at most 16"}},
		"ForceSSLOff":         {"Turning TLS off.", testInput, spec(`"postgres":{"parameters":{"rds.force_ssl":"0"}}`), want{"spec.postgres.parameters[rds.force_ssl]", `"0"`, "remove the parameter"}},
		"MultiAZString":       {"multiAZ as a string.", testInput, spec(`"postgres":{"multiAZ":"yes"}`), want{"spec.postgres.multiAZ", "a string", "boolean"}},
		// Parameter names: Terraform lowercases a name both ways (expandParameters and
		// flattenParameters, internal/service/rds/flex.go), so a name with capitals never matches
		// what is observed; custom options are "an extension name, then a dot, then the parameter
		// name proper" (PostgreSQL docs, runtime-config-custom.html).
		"ParameterCapitals":   {"A parameter name with capitals.", testInput, spec(`"postgres":{"parameters":{"Work_Mem":"65536"}}`), want{"spec.postgres.parameters[Work_Mem]", `"Work_Mem"`, "use work_mem"}},
		"ParameterHyphen":     {"A parameter name with a hyphen.", testInput, spec(`"postgres":{"parameters":{"work-mem":"65536"}}`), want{"spec.postgres.parameters[work-mem]", `"work-mem"`, "such as work_mem or pg_stat_statements.track"}},
		"ParameterEmptyPart":  {"Two dots in a row: no extension's parameter.", testInput, spec(`"postgres":{"parameters":{"pg_stat_statements..track":"all"}}`), want{"spec.postgres.parameters[pg_stat_statements..track]", `"pg_stat_statements..track"`, "a dot after an extension's name"}},
		"ParameterDigitFirst": {"A parameter name starting with a digit.", testInput, spec(`"postgres":{"parameters":{"2pc":"on"}}`), want{"spec.postgres.parameters[2pc]", `"2pc"`, "starting with a letter"}},
		"ForceSSLCapitals":    {"rds.force_ssl in capitals, to slip TLS off past the check.", testInput, spec(`"postgres":{"parameters":{"RDS.FORCE_SSL":"0"}}`), want{"spec.postgres.parameters[RDS.FORCE_SSL]", `"RDS.FORCE_SSL"`, "use rds.force_ssl"}},
		// The round trip.
		"CatchUpTooLong":  {"A catch-up longer than the Lambda can wait and still promote.", testInput, spec(`"switchover":{"catchUpTimeoutSeconds":600}`), want{"spec.switchover.catchUpTimeoutSeconds", "600", "5 to 240 seconds"}},
		"CatchUpTooShort": {"A catch-up of one second.", testInput, spec(`"switchover":{"catchUpTimeoutSeconds":1}`), want{"spec.switchover.catchUpTimeoutSeconds", "1", "5 to 240 seconds"}},
		"GenerationZero":  {"Generation -1.", testInput, spec(`"generations":{"dr":-1}`), want{"spec.generations.dr", "-1", "1 or more"}},
		"RetireNotAnID":   {"A retirement that is no RDS identifier.", testInput, spec(`"retireInstance":"Orders_DB"`), want{"spec.retireInstance", `"Orders_DB"`, "status.<region>.retainedInstance"}},
		// Network.
		"OverlappingCIDRs": {"Overlapping VPCs.", testInput, spec(`"network":{"primaryCIDR":"10.0.0.0/16","drCIDR":"10.0.0.0/16"}`), want{"spec.network.drCIDR", `"10.0.0.0/16"`, "e.g. 10.1.0.0/16"}},
		"CIDRGarbage":      {"Not a CIDR.", testInput, spec(`"network":{"primaryCIDR":"ten.zero"}`), want{"spec.network.primaryCIDR", `"ten.zero"`, "10.0.0.0/16"}},
		"CIDRHostBits":     {"Host bits set.", testInput, spec(`"network":{"drCIDR":"10.1.2.3/16"}`), want{"spec.network.drCIDR", `"10.1.2.3/16"`, "use 10.1.0.0/16"}},
		"CIDRTooLarge":     {"A /8 VPC.", testInput, spec(`"network":{"primaryCIDR":"10.0.0.0/8"}`), want{"spec.network.primaryCIDR", `"10.0.0.0/8"`, "/16 to /28"}},
		"SubnetsDontFit":   {"/20 subnets in a /16.", testInput, spec(`"network":{"subnetPrefix":20}`), want{"spec.network.primaryCIDR", `"10.0.0.0/16"`, "longer subnet prefix"}},
		"SubnetPrefix":     {"A /30 subnet.", testInput, spec(`"network":{"subnetPrefix":30}`), want{"spec.network.subnetPrefix", "30", "16 to 28"}},
		"TooManyAZs":       {"Four AZs in a three-AZ region.", testInput, spec(`"network":{"azCount":4,"natGateways":1}`), want{"spec.network.drAZs", "us-east-2", "set azCount to at most 3"}},
		"OneAZ":            {"One AZ: no Multi-AZ.", testInput, spec(`"network":{"azCount":1,"natGateways":1}`), want{"spec.network.azCount", "1", "at least two zones"}},
		"NATsOverAZs":      {"More NATs than AZs.", testInput, spec(`"network":{"natGateways":4}`), want{"spec.network.natGateways", "4", "1 to spec.network.azCount (3)"}},
		"AZWrongRegion":    {"A zone of another region.", testInput, spec(`"network":{"azCount":2,"primaryAZs":["us-east-1a","us-west-2b"]}`), want{"spec.network.primaryAZs", "us-west-2b", "us-east-1a"}},
		// Backups, monitoring, failover, misc.
		"NoncurrentDays":  {"Zero days of old versions.", testInput, spec(`"backups":{"noncurrentVersionDays":-5}`), want{"spec.backups.noncurrentVersionDays", "-5", "1 to 3650"}},
		"LagSeconds":      {"A lag threshold of a week.", testInput, spec(`"monitoring":{"replicationLagSeconds":604800}`), want{"spec.monitoring.replicationLagSeconds", "604800", "1 to 86400"}},
		"CPUPercent":      {"150 percent CPU.", testInput, spec(`"monitoring":{"cpuPercent":150}`), want{"spec.monitoring.cpuPercent", "150", "1 to 100"}},
		"BadEmail":        {"Not an email.", testInput, spec(`"monitoring":{"notificationEmails":["dba"]}`), want{"spec.monitoring.notificationEmails[0]", `"dba"`, "dba@example.com"}},
		"LagCheck":        {"Checking lag every 2 hours.", testInput, spec(`"monitoring":{"lagCheckMinutes":120}`), want{"spec.monitoring.lagCheckMinutes", "120", "1 to 60"}},
		"FailoverMode":    {"An unknown failover mode.", testInput, spec(`"failover":{"mode":"Sometimes"}`), want{"spec.failover.mode", `"Sometimes"`, `"Automatic"`}},
		"ZoneName":        {"A zone name with capitals.", testInput, spec(`"failover":{"zoneName":"PGDR.Internal"}`), want{"spec.failover.zoneName", `"PGDR.Internal"`, "pgdr.internal"}},
		"ZoneID":          {"A zone id that is not one.", testInput, spec(`"failover":{"zoneID":"zone-1"}`), want{"spec.failover.zoneID", `"zone-1"`, "Z0123456789ABCDEFGHIJ"}},
		"RecordName":      {"A record name with a dot.", testInput, spec(`"failover":{"recordName":"db.primary"}`), want{"spec.failover.recordName", `"db.primary"`, "such as db"}},
		"ProviderConfig":  {"A 300-character provider config name.", testInput, spec(`"providerConfigName":"` + strings.Repeat("p", 300) + `"`), want{"spec.providerConfigName", "Too long", "253"}},
		"DeletionProtStr": {"deletionProtection as a string.", testInput, spec(`"deletionProtection":"no"`), want{"spec.deletionProtection", "a string", "boolean"}},
		// A ProviderConfig is a Kubernetes object: its name is a DNS-1123 subdomain
		// (k8s.io/apimachinery validation.IsDNS1123Subdomain, as the API server checks names).
		"ProviderCfgCaps": {"A provider config name with capitals and an underscore.", testInput, spec(`"providerConfigName":"AWS_Prod"`), want{"spec.providerConfigName", `"AWS_Prod"`, "such as aws-prod"}},
		"ProviderCfgDash": {"A provider config name ending in a hyphen.", testInput, spec(`"providerConfigName":"aws-"`), want{"spec.providerConfigName", `"aws-"`, "starting and ending with a letter or digit"}},
		// The Input.
		"NoInput":          {"A step without input.", "", spec(`"postgres":{}`), want{"input", "fn.pgdr.io/v1alpha1", "add input"}},
		"InputWrongKind":   {"An input of another kind.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Other"}`, spec(`"postgres":{}`), want{"input", `"fn.pgdr.io/v1alpha1/Other"`, "kind Input"}},
		"InputNoAccount":   {"An input without the account id.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input"}`, spec(`"postgres":{}`), want{"input.accountID", `""`, "12-digit AWS account id"}},
		"InputBadRegion":   {"Artifacts in an unknown region.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","accountID":"123456789012","lambdaArtifacts":[{"region":"moon-1","bucket":"b"}]}`, spec(`"postgres":{}`), want{"input.lambdaArtifacts[0].region", `"moon-1"`, "supported values"}},
		"InputNoBucket":    {"Artifacts without a bucket.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","accountID":"123456789012","lambdaArtifacts":[{"region":"us-east-2"}]}`, spec(`"postgres":{}`), want{"input.lambdaArtifacts[0].bucket", "Required", "make lambda"}},
		"InputBadClass":    {"An allowed class that is not one.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","accountID":"123456789012","allowedInstanceClasses":["big"]}`, spec(`"postgres":{}`), want{"input.allowedInstanceClasses[0]", `"big"`, "db.r6g.large"}},
		"InputWrongType":   {"An account id that is a number.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","accountID":123456789012}`, spec(`"postgres":{}`), want{"input", "accountID", "fn.pgdr.io/v1alpha1 Input"}},
		"InputProviderCfg": {"An Input's provider config name with a space.", strings.Replace(testInput, `"providerConfigName":"aws"`, `"providerConfigName":"aws prod"`, 1), spec(`"postgres":{}`), want{"input.providerConfigName", `"aws prod"`, "such as aws-prod"}},
		"InputDuplicateRg": {"Artifacts listed twice for a region.", `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","accountID":"123456789012","lambdaArtifacts":[{"region":"us-east-2","bucket":"a"},{"region":"us-east-2","bucket":"b"}]}`, spec(`"postgres":{}`), want{"input.lambdaArtifacts[1].region", `"us-east-2"`, "Duplicate"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(tc.input, tc.xr, nil))
			wantFatal(t, rsp, tc.reason, tc.want.path, tc.want.value, tc.want.fix)
		})
	}
	if len(cases) < 40 {
		t.Errorf("want at least 40 bad inputs, have %d", len(cases))
	}
}

// wantFatal checks that a response is a Fatal result whose message holds every part (the field
// path, the bad value, the fix) and that it desires nothing, so nothing observed is dropped.
func wantFatal(t *testing.T, rsp *fnv1.RunFunctionResponse, reason string, parts ...string) {
	t.Helper()
	var msg string
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			msg = r.GetMessage()
		}
	}
	if msg == "" {
		t.Fatalf("\n%s\nno Fatal result; results: %v", reason, rsp.GetResults())
	}
	for _, part := range parts {
		if !strings.Contains(msg, part) {
			t.Errorf("\n%s\nmessage %q\ndoes not contain %q", reason, msg, part)
		}
	}
	if n := len(rsp.GetDesired().GetResources()); n != 0 {
		t.Errorf("\n%s\na Fatal response desires %d resources: want nothing changed", reason, n)
	}
}
