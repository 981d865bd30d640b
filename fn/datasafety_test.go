package fn

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// TestNeverLoseData is a property over the spec: with everything observed ready, change one
// field to another valid value; the function either refuses (Fatal, nothing desired changed) or
// still desires every observed database, bucket and key.
func TestNeverLoseData(t *testing.T) {
	base := map[string]any{"regions": map[string]any{"primary": "us-east-1", "dr": "us-east-2"}}
	observed := converge(t, testInput, testXR(mustJSON(base)), 0)
	var stateful []string
	for name, j := range observed {
		if isStatefulJSON(j) {
			stateful = append(stateful, name)
		}
	}
	if len(stateful) != 6 {
		t.Fatalf("want 6 observed stateful resources (2 instances, 2 buckets, 2 keys), got %v", stateful)
	}

	cases := map[string]struct {
		path       string
		value      any
		wantRefuse string // a substring of the refusal; "" when the change must be honoured
	}{
		"PrimaryRegion":         {"regions.primary", "us-west-2", "spec.regions.primary"},
		"DRRegion":              {"regions.dr", "us-west-2", "spec.regions.dr"},
		"ActiveRegion":          {"activeRegion", "us-east-2", ""},
		"MajorUpgrade":          {"postgres.majorVersion", 17, ""},
		"MajorDowngrade":        {"postgres.majorVersion", 15, "spec.postgres.majorVersion"},
		"InstanceClass":         {"postgres.instanceClass", "db.r6g.xlarge", ""},
		"DRInstanceClass":       {"postgres.drInstanceClass", "db.r6g.2xlarge", ""},
		"Storage":               {"postgres.storageGB", 200, ""},
		"MaxStorage":            {"postgres.maxStorageGB", 2000, ""},
		"MultiAZ":               {"postgres.multiAZ", false, ""},
		"BackupRetention":       {"postgres.backupRetentionDays", 14, ""},
		"BackupWindow":          {"postgres.backupWindow", "01:00-02:00", ""},
		"MaintenanceWindow":     {"postgres.maintenanceWindow", "mon:01:00-mon:02:00", ""},
		"DatabaseName":          {"postgres.databaseName", "other", "spec.postgres.databaseName"},
		"Username":              {"postgres.username", "someone", "spec.postgres.username"},
		"Parameters":            {"postgres.parameters", map[string]any{"work_mem": "65536"}, ""},
		"PrimaryCIDR":           {"network.primaryCIDR", "10.7.0.0/16", "spec.network.primaryCIDR"},
		"DRCIDR":                {"network.drCIDR", "10.8.0.0/16", "spec.network.drCIDR"},
		"SubnetPrefix":          {"network.subnetPrefix", 25, "spec.network.subnetPrefix"},
		"AZCountDown":           {"network.azCount", 2, "spec.network.azCount"},
		"NATGateways":           {"network.natGateways", 1, ""},
		"NATGatewaysPerAZ":      {"network.natGateways", 3, ""},
		"NoncurrentDays":        {"backups.noncurrentVersionDays", 90, ""},
		"NoReplication":         {"backups.replicateToDR", false, ""},
		"LagSeconds":            {"monitoring.replicationLagSeconds", 120, ""},
		"Emails":                {"monitoring.notificationEmails", []any{"a@example.com"}, ""},
		"FailoverMode":          {"failover.mode", "Automatic", ""},
		"ZoneName":              {"failover.zoneName", "db.example.internal", ""},
		"RecordName":            {"failover.recordName", "orders", ""},
		"DeletionProtectionOff": {"deletionProtection", false, ""},
		"ProviderConfig":        {"providerConfigName", "other", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := map[string]any{}
			_ = json.Unmarshal([]byte(mustJSON(base)), &spec)
			set(spec, tc.path, tc.value)
			rsp := runFn(t, newRequest(testInput, testXR(mustJSON(spec)), observed))
			fatal := ""
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					fatal = r.GetMessage()
				}
			}
			if tc.wantRefuse != "" {
				if !strings.Contains(fatal, tc.wantRefuse) {
					t.Fatalf("changing spec.%s to %v: want a refusal naming %s, got %q", tc.path, tc.value, tc.wantRefuse, fatal)
				}
				if n := len(rsp.GetDesired().GetResources()); n != 0 {
					t.Errorf("a refusal desires %d resources, want none changed", n)
				}
				return
			}
			if fatal != "" {
				t.Fatalf("changing spec.%s to %v was refused: %s", tc.path, tc.value, fatal)
			}
			for _, s := range stateful {
				if _, ok := rsp.GetDesired().GetResources()[s]; !ok {
					t.Errorf("changing spec.%s to %v dropped observed stateful resource %s: Crossplane would delete it", tc.path, tc.value, s)
				}
			}
		})
	}
}

func isStatefulJSON(j string) bool {
	var o struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	_ = json.Unmarshal([]byte(j), &o)
	return statefulKinds[schema.GroupKind{Group: strings.SplitN(o.APIVersion, "/", 2)[0], Kind: o.Kind}]
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func set(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// TestPromotedOutOfBandDeletesNothing: after the failover Lambda promotes the replica behind
// Crossplane's back, the function keeps every observed resource desired: it does not fight the
// promotion and deletes nothing until spec.activeRegion says what is permanent.
func TestPromotedOutOfBandDeletesNothing(t *testing.T) {
	observed := observedAfter(t, testSpec, 0, true)
	rsp := runFn(t, newRequest(testInput, testXR(testSpec), observed))
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			t.Fatalf("fatal: %s", r.GetMessage())
		}
	}
	for name := range observed {
		if _, ok := rsp.GetDesired().GetResources()[name]; !ok {
			t.Errorf("%s is observed but no longer desired: Crossplane would delete it after an out-of-band promotion", name)
		}
	}
	dr := rsp.GetDesired().GetResources()[string(DBInstanceName(RoleDR))].GetResource().AsMap()
	if v := get(dr, "spec.forProvider.replicateSourceDb"); v != nil {
		t.Errorf("the promoted instance is still asked to replicate from %v: the function would fight the promotion", v)
	}
}

// TestKeepWhileUnreported checks that nothing observed stops being desired while some observed
// resource has not been reported on by its provider (no Synced condition): what the builders
// withhold for want of its ids and ARNs may exist in AWS. A resource taken over by external name
// (a claim moved to a PostgresDR, its twins observe-only) is observed before its status is; an
// e2e run found both Lambdas and their role policies deleted and made anew in that window. Once
// everything is reported, a deliberate drop (Automatic failover turned off) goes through.
func TestKeepWhileUnreported(t *testing.T) {
	automatic := `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"mode":"Automatic"}}`
	manual := `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"mode":"Manual"}}`
	converged := converge(t, testInput, testXR(automatic), 0)
	unreport := func(names ...string) map[string]string {
		o := maps.Clone(converged)
		for _, n := range names {
			m := mustMap(t, o[n])
			delete(m, "status")
			o[n] = mustJSON(m)
		}
		return o
	}
	// A twin as the user creates it: the old resource's annotations and labels, its region, and
	// managementPolicies Observe; no status yet (twins), then what AWS reports of it (reported).
	twins, reported := map[string]string{}, map[string]string{}
	var all []string
	for n, j := range converged {
		m := mustMap(t, j)
		spec := map[string]any{"managementPolicies": []any{"Observe"}, "forProvider": map[string]any{}}
		if r := get(m, "spec.forProvider.region"); r != nil {
			spec["forProvider"] = map[string]any{"region": r}
		}
		twin := map[string]any{"apiVersion": m["apiVersion"], "kind": m["kind"], "metadata": m["metadata"], "spec": spec}
		twins[n] = mustJSON(twin)
		twin["status"] = m["status"]
		reported[n] = mustJSON(twin)
		all = append(all, n)
	}
	triggers := func(o map[string]string) []string {
		var out []string
		for n, j := range o {
			if k := mustMap(t, j)["kind"]; (k == "Rule" || k == "Target" || k == "Permission") && strings.Contains(n, "failover") {
				out = append(out, n)
			}
		}
		return out
	}
	if len(triggers(converged)) != 3 {
		t.Fatalf("want the failover rule with its target and permission observed, got %v", triggers(converged))
	}

	cases := map[string]struct {
		reason   string
		spec     string
		observed map[string]string
		keep     []string // observed, and still desired
		drop     []string // observed, and no longer desired
		noWait   bool     // nothing withheld
	}{
		"AllReportedDeliberateDrop": {
			reason:   "With everything reported, turning Automatic failover off drops the rule that invokes the failover Lambda, its target and permission.",
			spec:     manual,
			observed: converged,
			drop:     triggers(converged),
		},
		"OneUnreportedDeliberateDrop": {
			reason:   "While one subnet is not reported on, the drop waits.",
			spec:     manual,
			observed: unreport(string(subnetName(RoleDR, tierDatabase, "us-east-2a"))),
			keep:     triggers(converged),
		},
		"DatabaseUnreported": {
			reason:   "While the DR database's endpoint and ARN are unknown, the Lambdas, their policies and the DNS record on it stay.",
			spec:     automatic,
			observed: unreport(string(DBInstanceName(RoleDR))),
			keep:     all,
		},
		"TwinsTakingOver": {
			reason:   "Observe-only twins of every resource, none reported on yet: every one stays desired.",
			spec:     automatic,
			observed: twins,
			keep:     all,
		},
		"TwinsReported": {
			reason: "Observe-only twins as AWS reports them, their spec still empty: the builders read what they need from status, " +
				"so nothing waits (the master password secret's replica region came from its spec, and both Lambdas were made anew).",
			spec:     automatic,
			observed: reported,
			keep:     all,
			noWait:   true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(tc.spec), tc.observed))
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					t.Fatalf("\n%s\nfatal: %s", tc.reason, r.GetMessage())
				}
			}
			desired := rsp.GetDesired().GetResources()
			for _, n := range tc.keep {
				if _, ok := desired[n]; !ok {
					t.Errorf("\n%s\n%s is observed but no longer desired: Crossplane would delete it", tc.reason, n)
				}
			}
			for _, n := range tc.drop {
				if _, ok := desired[n]; ok {
					t.Errorf("\n%s\n%s is still desired, want it dropped", tc.reason, n)
				}
			}
			if w := get(rsp.GetDesired().GetComposite().GetResource().AsMap(), "status.waitingFor"); tc.noWait && w != nil {
				t.Errorf("\n%s\nwaiting for %v, want nothing withheld", tc.reason, w)
			}
		})
	}
}

// observedAfter returns what is observed of the XR with the spec after passes reconciles (every
// resource ready with passes 0, nothing with passes < 0), with the DR replica promoted out of
// band when promoted.
func observedAfter(t *testing.T, spec string, passes int, promoted bool) map[string]string {
	t.Helper()
	if passes < 0 {
		return nil
	}
	observed := converge(t, testInput, testXR(spec), passes)
	if promoted {
		observed[string(DBInstanceName(RoleDR))] = promote(t, observed[string(DBInstanceName(RoleDR))])
	}
	return observed
}

// promote returns an observed replica (JSON) as provider-aws reports it once promoted: without
// a replication source.
func promote(t *testing.T, replica string) string {
	t.Helper()
	obj := map[string]any{}
	if err := json.Unmarshal([]byte(replica), &obj); err != nil {
		t.Fatalf("cannot read the observed replica: %v", err)
	}
	at, _ := obj["status"].(map[string]any)["atProvider"].(map[string]any)
	if _, ok := at["replicateSourceDb"]; !ok {
		t.Fatal("the observed replica has no replication source to drop")
	}
	delete(at, "replicateSourceDb")
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRefuseGenerations(t *testing.T) {
	const regions = `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"`
	fenced := fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN})
	writer := fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN})
	g2 := fxDesiredAs(t, asReplica, map[string]any{"arn": "arn:aws:rds:us-east-1:123456789012:db:x-g2", "replicateSourceDb": fxDRDBARN})
	switched := observedState{DBInstanceName(RolePrimary): fenced, DBInstanceName(RoleDR): writer}
	reseeded := observedState{DBInstanceName(RolePrimary): fenced, DBInstanceName(RoleDR): writer, instanceName(RolePrimary, 2): g2}
	cases := map[string]struct {
		reason   string
		spec     string
		observed observedState
		want     string // part of the one error; "" for none
	}{
		"Reseed":          {"Raising the old writer's region by one re-seeds it.", regions + `,"generations":{"primary":2}}`, switched, ""},
		"TwoAtOnce":       {"Raising by two skips a generation.", regions + `,"generations":{"primary":3}}`, switched, "raise it by one at a time; set it to 2"},
		"WritersRegion":   {"A new generation where the writer is would replace the writer.", regions + `,"generations":{"dr":2}}`, switched, "switch over to us-east-1 first"},
		"Lowered":         {"Lowering under an observed generation would recreate an old name.", regions + `,"generations":{"primary":1}}`, reseeded, "a generation cannot go back; set it to 2"},
		"StillRetained":   {"A third generation while the first is still kept.", regions + `,"generations":{"primary":3}}`, reseeded, "retire it first"},
		"NothingObserved": {"A new claim may start at any generation.", regions + `,"generations":{"primary":4}}`, observedState{}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			errs := refuseGenerations(testPlan(t, tc.spec), tc.observed)
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Errorf("\n%s\nrefused: %v", tc.reason, errs)
			case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want)):
				t.Errorf("\n%s\nerrors %v, want one containing %q", tc.reason, errs, tc.want)
			}
		})
	}
}

// TestRefuseNetworkMove checks that a database never moves to another VPC. RDS moves an
// instance to another VPC only by a new DB subnet group, with an outage ("Changing the subnet
// group causes an outage", ModifyDBInstance DBSubnetGroupName, RDS API reference), and a
// subnet group's subnets must share one VPC (ModifyDBSubnetGroup, InvalidSubnet: "multiple
// subnets were requested that are not all in a common VPC"). Growing the access is honoured.
func TestRefuseNetworkMove(t *testing.T) {
	managed := converge(t, testInput, testXR(testSpec), 0)
	existing := converge(t, testInput, testXR(existingSpec("")), 0)
	// provider-aws reports the subnet group's VPC (status.atProvider.vpcId); the fn stand-in does
	// not resolve subnets, so the test says which VPC the group is in.
	for _, role := range roles {
		name := string(resourceName(role, "db-subnet-group"))
		obj := map[string]any{}
		_ = json.Unmarshal([]byte(existing[name]), &obj)
		vpc := "vpc-0a1b2c3d4e5f60718"
		if role == RoleDR {
			vpc = "vpc-0f1e2d3c4b5a69788"
		}
		set(obj, "status.atProvider.vpcId", vpc)
		existing[name] = mustJSON(obj)
		obj = map[string]any{}
		_ = json.Unmarshal([]byte(managed[name]), &obj)
		set(obj, "status.atProvider.vpcId", get(mustMap(t, managed[string(vpcName(role))]), "status.atProvider.id"))
		managed[name] = mustJSON(obj)
	}
	networkOnly := converge(t, testInput, testXR(testSpec), 1)
	if _, ok := networkOnly[string(DBInstanceName(RolePrimary))]; ok || networkOnly[string(vpcName(RolePrimary))] == "" {
		t.Fatal("want a first pass observed with the managed VPCs and no database")
	}
	cases := map[string]struct {
		reason     string
		observed   map[string]string
		spec       string
		wantRefuse string
		wantRules  []string
	}{
		"ManagedToExisting": {
			reason:   "The databases live in the managed VPCs: Existing would delete that network under them.",
			observed: managed, spec: existingSpec(""), wantRefuse: "spec.network.mode",
		},
		"ManagedToExistingBeforeDatabases": {
			reason:   "Only the network exists, no database: the change is honoured.",
			observed: networkOnly, spec: existingSpec(""),
		},
		"ExistingToManaged": {
			reason:   "The databases live in the team's VPCs: Managed would move them into new ones.",
			observed: existing, spec: testSpec, wantRefuse: "lives in the existing VPC vpc-0a1b2c3d4e5f60718",
		},
		"ExistingVPCChanged": {
			reason:   "Another existing VPC under a live database.",
			observed: existing, spec: strings.Replace(existingSpec(""), "vpc-0f1e2d3c4b5a69788", "vpc-0f1e2d3c4b5a60000", 1),
			wantRefuse: "spec.network.existing.dr.vpcID: Invalid value: \"vpc-0f1e2d3c4b5a60000\": the dr database lives in vpc-0f1e2d3c4b5a69788",
		},
		"ExistingAccessGrows": {
			reason:   "More clients and application VPCs on a live Existing graph: honoured.",
			observed: existing, spec: existingSpec(`{"clientCIDRs":["10.60.0.0/16"],"dr":{"securityGroupIDs":["sg-0f1e2d3c4b5a60099"],"zoneVPCIDs":["vpc-0f1e2d3c4b5a60041"]}}`),
			wantRules: []string{"primary-sgr-database-pg-cidr-10-60-0-0-16", "dr-sgr-database-pg-cidr-10-60-0-0-16", "dr-sgr-database-pg-sg-0f1e2d3c4b5a60099"},
		},
		"ManagedAccessGrows": {
			reason:   "Clients added to a live Managed graph: honoured.",
			observed: managed, spec: `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"access":{"clientCIDRs":["10.60.0.0/16"],"primary":{"securityGroupIDs":["sg-0a1b2c3d4e5f60099"]}}}`,
			wantRules: []string{"primary-sgr-database-pg-cidr-10-60-0-0-16", "dr-sgr-database-pg-cidr-10-60-0-0-16", "primary-sgr-database-pg-sg-0a1b2c3d4e5f60099"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(tc.spec), tc.observed))
			fatal := ""
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					fatal = r.GetMessage()
				}
			}
			desired := rsp.GetDesired().GetResources()
			if tc.wantRefuse != "" {
				if !strings.Contains(fatal, tc.wantRefuse) {
					t.Fatalf("\n%s\nwant a refusal containing %q, got %q", tc.reason, tc.wantRefuse, fatal)
				}
				if len(desired) != 0 {
					t.Errorf("\n%s\na refusal desires %d resources, want none changed", tc.reason, len(desired))
				}
				return
			}
			if fatal != "" {
				t.Fatalf("\n%s\nrefused: %s", tc.reason, fatal)
			}
			for n, j := range tc.observed {
				if _, ok := desired[n]; !ok && isStatefulJSON(j) {
					t.Errorf("\n%s\ndropped observed stateful resource %s", tc.reason, n)
				}
			}
			for _, r := range tc.wantRules {
				if _, ok := desired[r]; !ok {
					t.Errorf("\n%s\nno %s desired", tc.reason, r)
				}
			}
		})
	}
}

func mustMap(t *testing.T, j string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(j), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestShortList(t *testing.T) {
	cases := map[string]struct {
		reason string
		names  []resource.Name
		want   string
	}{
		"None":  {"No names, nothing to say.", nil, ""},
		"Three": {"Up to three are named.", []resource.Name{"a", "b", "c"}, "a, b, c"},
		"Five":  {"More are counted.", []resource.Name{"a", "b", "c", "d", "e"}, "a, b, c and 2 more"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := shortList(tc.names); got != tc.want {
				t.Errorf("\n%s\nshortList(%v) = %q, want %q", tc.reason, tc.names, got, tc.want)
			}
		})
	}
}
