package fn

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	cloudwatcheventsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchevents/v1beta1"
	cloudwatcheventsv1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchevents/v1beta2"
	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	lambdav1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta1"
	lambdav1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta2"
	route53v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta1"

	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// lambdaBuild runs the builders the Lambdas depend on (the topic, the composite alarm, the zone)
// and the Lambdas.
func lambdaBuild(t *testing.T, p *xrPlan, st failoverState) func(observedState, *desiredState) {
	t.Helper()
	return func(o observedState, d *desiredState) {
		buildMonitoring(p, o, st, d)
		buildDNS(p, o, st, d)
		if err := buildLambdas(p, o, st, d); err != nil {
			t.Fatalf("BuildLambdas: %v", err)
		}
	}
}

// drLambdas is a plan whose failover path is in the DR region, for the Lambdas' names.
var drLambdas = &xrPlan{LambdaRole: RoleDR} //nolint:gochecknoglobals // A read-only fixture.

// lambdaSet returns the resource names of a Lambda and, when given, of its triggers.
func lambdaSet(function string, triggers ...string) []string {
	p := drLambdas
	out := []string{string(lambdaName(p, function))}
	for _, part := range []string{"logs", "policy", "role", "vpc-access"} {
		out = append(out, string(lambdaPart(drLambdas, function, part)))
	}
	for _, tr := range triggers {
		out = append(out, string(lambdaPart(drLambdas, function, tr)), string(lambdaPart(drLambdas, function, tr+"-permission")), string(lambdaPart(drLambdas, function, tr+"-target")))
	}
	return out
}

func TestLambdaArtifacts(t *testing.T) {
	cases := map[string]struct {
		reason  string
		in      []inputv1alpha1.LambdaArtifacts
		want    inputv1alpha1.LambdaArtifacts
		wantErr []string
	}{
		"DRRegionListed": {
			reason: "The DR region's entry, as given.",
			in:     builderInput().LambdaArtifacts,
			want:   inputv1alpha1.LambdaArtifacts{Region: "us-east-2", Bucket: "art-use2", ReplicationLagKey: "lag.zip", FailoverKey: "fo.zip"},
		},
		"DefaultKeys": {
			reason: "Keys left out are the names make lambda gives the arm64 zips.",
			in:     []inputv1alpha1.LambdaArtifacts{{Region: "us-east-2", Bucket: "b"}},
			want:   inputv1alpha1.LambdaArtifacts{Region: "us-east-2", Bucket: "b", ReplicationLagKey: "replication-lag-arm64.zip", FailoverKey: "failover-arm64.zip"},
		},
		"DRRegionMissing": {
			reason:  "Lambda reads code only from its own region: no entry for the DR region is an error naming the field and the fix.",
			in:      []inputv1alpha1.LambdaArtifacts{{Region: "us-east-1", Bucket: "b"}},
			wantErr: []string{"input.lambdaArtifacts", "us-east-2", "add {region: us-east-2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPlan(t, builderSpec, func(in *inputv1alpha1.Input) { in.LambdaArtifacts = tc.in })
			got, err := lambdaArtifacts(p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nLambdaArtifacts: -want, +got:\n%s", tc.reason, diff)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("\n%s\nerror %v does not contain %q", tc.reason, err, w)
				}
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Errorf("\n%s\nunexpected error: %v", tc.reason, err)
			}
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			if berr := buildLambdas(p, observedState{}, stReplicating, d); (berr != nil) != (err != nil) || (berr != nil && len(d.Order) > 0) {
				t.Errorf("\n%s\nBuildLambdas: error %v with %d resources; want the same error as LambdaArtifacts and, on error, nothing desired", tc.reason, berr, len(d.Order))
			}
		})
	}
}

func TestBuildLambdas(t *testing.T) {
	auto := testPlan(t, builderSpec)
	manual := testPlan(t, strings.Replace(builderSpec, "Automatic", "Manual", 1))
	replicating, promoted := dataLayer(t, auto, false), dataLayer(t, auto, true)
	lag, fo := contract.FunctionReplicationLag, contract.FunctionFailover
	cases := map[string]struct {
		reason    string
		plan      *xrPlan
		observed  observedState
		st        failoverState
		settle    bool
		want      []string
		schedule  string
		wantWaits bool
	}{
		"NothingObserved": {
			reason:   "Roles, their VPC access and the schedule need nothing observed; the rest waits for the databases, keys, topic and zone.",
			plan:     auto,
			observed: observedState{},
			st:       stReplicating,
			want: []string{
				string(lambdaPart(drLambdas, fo, "role")), string(lambdaPart(drLambdas, fo, "vpc-access")),
				string(lambdaPart(drLambdas, lag, "role")), string(lambdaPart(drLambdas, lag, "schedule")), string(lambdaPart(drLambdas, lag, "vpc-access")),
			},
			schedule:  "ENABLED",
			wantWaits: true,
		},
		"ReplicatingAutomatic": {
			reason:   "Automatic: the composite alarm's state change invokes the failover Lambda.",
			plan:     auto,
			observed: replicating,
			st:       detectFailover(auto, replicating),
			settle:   true,
			want:     slices.Concat(lambdaSet(fo, "alarm"), lambdaSet(lag, "schedule")),
			schedule: "ENABLED",
		},
		"ReplicatingManual": {
			reason:   "Manual: the composite alarm only notifies; the failover Lambda exists but nothing invokes it.",
			plan:     manual,
			observed: dataLayer(t, manual, false),
			st:       stReplicating,
			settle:   true,
			want:     slices.Concat(lambdaSet(fo), lambdaSet(lag, "schedule")),
			schedule: "ENABLED",
		},
		"PromotedOutOfBand": {
			reason:   "After a failover nothing replicates: the builder asks for no Lambda (keepObserved keeps the observed ones as they are until the spec says what is permanent).",
			plan:     auto,
			observed: promoted,
			st:       detectFailover(auto, promoted),
			settle:   true,
		},
		"Switchover": {
			reason:   "After a planned switchover there is no replica until the old region is re-seeded: no failover path.",
			plan:     auto,
			observed: replicating,
			st:       stSwitchedOver,
			settle:   true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, tc.plan.ProviderConfig)
			if tc.settle {
				d, _ = settle(t, tc.plan, tc.observed, lambdaBuild(t, tc.plan, tc.st))
			} else if err := buildLambdas(tc.plan, tc.observed, tc.st, d); err != nil {
				t.Fatal(err)
			}
			want := append([]string(nil), tc.want...)
			slices.Sort(want)
			if diff := cmp.Diff(want, names(d, "dr-lambda-")); diff != "" {
				t.Errorf("\n%s\nLambda resources: -want, +got:\n%s", tc.reason, diff)
			}
			r, ok := d.Resources[lambdaPart(drLambdas, lag, "schedule")].(*cloudwatcheventsv1beta1.Rule)
			switch {
			case tc.schedule == "" && ok:
				t.Errorf("\n%s\na schedule rule while nothing replicates", tc.reason)
			case tc.schedule == "":
			case !ok:
				t.Fatalf("\n%s\nno schedule rule", tc.reason)
			case *r.Spec.ForProvider.State != tc.schedule:
				t.Errorf("\n%s\nschedule state %s, want %s", tc.reason, *r.Spec.ForProvider.State, tc.schedule)
			}
			if (len(d.Waiting) > 0) != tc.wantWaits {
				t.Errorf("\n%s\nwaiting for %q, want waits: %v", tc.reason, d.Waiting, tc.wantWaits)
			}
		})
	}
}

func TestLambdaFunctions(t *testing.T) {
	p := testPlan(t, builderSpec)
	replicating, promoted := dataLayer(t, p, false), dataLayer(t, p, true)
	d, o := settle(t, p, replicating, lambdaBuild(t, p, detectFailover(p, replicating)))
	dPromoted, _ := settle(t, p, promoted, lambdaBuild(t, p, detectFailover(p, promoted)))

	dbEnv := map[string]string{
		"PRIMARY_HOST": dbEndpoint(o, DBInstanceName(RolePrimary)), "PRIMARY_PORT": "5432",
		"REPLICA_HOST": dbEndpoint(o, DBInstanceName(RoleDR)), "REPLICA_PORT": "5432",
		"DB_NAME": "app", "DB_SECRET_ARN": dbSecretARN(o), "DB_USERNAME": "pgadmin",
	}
	with := func(extra map[string]string) map[string]*string {
		out := map[string]*string{}
		for _, m := range []map[string]string{dbEnv, extra} {
			for k, v := range m {
				out[k] = new(v)
			}
		}
		return out
	}
	fn := func(function, key string, timeout float64, reserved *float64, env map[string]*string) lambdav1beta2.FunctionParameters {
		return lambdav1beta2.FunctionParameters{
			Region: new("us-east-2"), Runtime: new("provided.al2023"), Handler: new("bootstrap"),
			Architectures: []*string{new("arm64")}, PackageType: new("Zip"), S3Bucket: new("art-use2"), S3Key: new(key),
			MemorySize: new(float64(256)), Timeout: new(timeout), ReservedConcurrentExecutions: reserved,
			Environment:  &lambdav1beta2.EnvironmentParameters{Variables: env},
			RoleSelector: selectorOf(lambdaPart(drLambdas, function, "role")),
			VPCConfig: &lambdav1beta2.VPCConfigParameters{
				SubnetIDSelector:        d.SelectAll(tierLabels(RoleDR, tierLambda)),
				SecurityGroupIDSelector: selectorOf(securityGroupName(RoleDR, sgLambda)),
			},
			LoggingConfig: &lambdav1beta2.LoggingConfigParameters{
				LogFormat: new("JSON"), LogGroupSelector: selectorOf(lambdaPart(drLambdas, function, "logs")),
				ApplicationLogLevel: new("INFO"), SystemLogLevel: new("WARN"),
			},
		}
	}
	cases := map[string]struct {
		reason   string
		function string
		want     lambdav1beta2.FunctionParameters
	}{
		"ReplicationLag": {
			reason:   "The monitor: 30 s, the pair name and namespace of its metrics, no reserved concurrency.",
			function: contract.FunctionReplicationLag,
			want: fn(contract.FunctionReplicationLag, "lag.zip", 30, nil, with(map[string]string{
				"PAIR_NAME": p.Names.Base, "METRIC_NAMESPACE": "PostgresDR",
			})),
		},
		"Failover": {
			reason:   "The orchestrator: Lambda's longest timeout (a switchover's catch-up, the promotion and a minute), one at a time, and what it repoints and notifies.",
			function: contract.FunctionFailover,
			want: fn(contract.FunctionFailover, "fo.zip", 900, new(float64(1)), with(map[string]string{
				"ALARM_NAME":          alarmAWSName(p, RoleDR, alarmPrimaryUnhealthy),
				"REPLICA_INSTANCE_ID": p.Names.DBInstance(RoleDR, 1),
				"HOSTED_ZONE_ID":      deref(observedAs[route53v1beta1.Zone](o, zoneName()).Status.AtProvider.ZoneID),
				"RECORD_NAME":         "db.pgdr.internal", "RECORD_SET_IDENTIFIER": "primary", "RECORD_TTL": "30",
				"TOPIC_ARN": topicARN(o, RoleDR),
			})),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, ok := d.Resources[lambdaName(drLambdas, tc.function)].(*lambdav1beta2.Function)
			if !ok {
				t.Fatalf("\n%s\n%s is not a desired Function", tc.reason, lambdaName(drLambdas, tc.function))
			}
			got := f.Spec.ForProvider
			got.Description, got.Tags = nil, nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, lambdaName(drLambdas, tc.function), diff)
			}
			if got, want := f.GetAnnotations()["crossplane.io/external-name"], lambdaAWSName(p, tc.function); got != want {
				t.Errorf("\n%s\nfunction name %q, want %q", tc.reason, got, want)
			}
			// Once nothing replicates the builder asks for no Lambda; while the promotion is out of
			// band keepObserved keeps the Lambda that performed it as observed, unchanged
			// (TestKeepObserved), and after a planned switchover the path moves to the other region.
			if _, ok := dPromoted.Resources[lambdaName(drLambdas, tc.function)]; ok {
				t.Errorf("\n%s\n%s is still built after the failover", tc.reason, lambdaName(drLambdas, tc.function))
			}
		})
	}
}

func TestLambdaPolicies(t *testing.T) {
	p := testPlan(t, builderSpec)
	existing := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneID":"Z0EXISTING1","recordName":"Orders"}}`)
	policyOf := func(t *testing.T, d *desiredState, function string) policyDocument {
		t.Helper()
		rp, ok := d.Resources[lambdaPart(drLambdas, function, "policy")].(*iamv1beta1.RolePolicy)
		if !ok {
			t.Fatalf("%s is not a desired RolePolicy", lambdaPart(drLambdas, function, "policy"))
		}
		var doc policyDocument
		if err := json.Unmarshal([]byte(*rp.Spec.ForProvider.Policy), &doc); err != nil {
			t.Fatalf("%s's policy is not a policy document: %v", function, err)
		}
		return doc
	}
	readSecret := func(o observedState) []statement {
		return []statement{
			{Sid: "ReadDatabaseSecret", Effect: allow, Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{dbSecretARN(o)}},
			{Sid: "DecryptDatabaseSecret", Effect: allow, Action: []string{"kms:Decrypt"}, Resource: []string{keyARN(o, RoleDR)},
				Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager.us-east-2.amazonaws.com"}}},
		}
	}
	failover := func(o observedState, zone, fqdn string) policyDocument {
		zoneARN := "arn:aws:route53:::hostedzone/" + zone
		return policy(append([]statement{
			{Sid: "PromoteReplica", Effect: allow, Action: []string{"rds:DescribeDBInstances", "rds:PromoteReadReplica"}, Resource: []string{dbInstanceARN(o, DBInstanceName(RoleDR))}},
			{Sid: "ReadFailoverRecord", Effect: allow, Action: []string{"route53:ListResourceRecordSets"}, Resource: []string{zoneARN}},
			{Sid: "RepointFailoverRecord", Effect: allow, Action: []string{"route53:ChangeResourceRecordSets"}, Resource: []string{zoneARN},
				Condition: map[string]map[string]any{"ForAllValues:StringEquals": {
					"route53:ChangeResourceRecordSetsNormalizedRecordNames": []any{fqdn},
					"route53:ChangeResourceRecordSetsRecordTypes":           []any{"CNAME"},
					"route53:ChangeResourceRecordSetsActions":               []any{"UPSERT"},
				}}},
			{Sid: "Notify", Effect: allow, Action: []string{"sns:Publish"}, Resource: []string{topicARN(o, RoleDR)}},
			{Sid: "EncryptNotification", Effect: allow, Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: []string{keyARN(o, RoleDR)},
				Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "sns.us-east-2.amazonaws.com"}}},
		}, readSecret(o)...)...)
	}

	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		function string
		fqdn     string // observed FQDN of the PRIMARY record (existing zones only)
		want     func(o observedState) policyDocument
	}{
		"ReplicationLag": {
			reason:   "The monitor publishes metrics to its namespace only and reads the database secret.",
			plan:     p,
			function: contract.FunctionReplicationLag,
			want: func(o observedState) policyDocument {
				return policy(append([]statement{{
					Sid: "PublishLagMetrics", Effect: allow, Action: []string{"cloudwatch:PutMetricData"}, Resource: []string{"*"},
					Condition: map[string]map[string]any{"StringEquals": {"cloudwatch:namespace": "PostgresDR"}},
				}}, readSecret(o)...)...)
			},
		},
		"Failover": {
			reason:   "The orchestrator promotes the replica, UPSERTs the failover CNAME in the function's zone and publishes to the DR topic.",
			plan:     p,
			function: contract.FunctionFailover,
			want: func(o observedState) policyDocument {
				return failover(o, deref(observedAs[route53v1beta1.Zone](o, zoneName()).Status.AtProvider.ZoneID), "db.pgdr.internal")
			},
		},
		"FailoverExistingZone": {
			reason:   "In an existing zone the record's name comes from the observed record, normalised.",
			plan:     existing,
			function: contract.FunctionFailover,
			fqdn:     "Orders.Corp.Example.",
			want:     func(o observedState) policyDocument { return failover(o, "Z0EXISTING1", "orders.corp.example") },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := dataLayer(t, tc.plan, false)
			build := lambdaBuild(t, tc.plan, detectFailover(tc.plan, observed))
			if tc.fqdn != "" {
				inner := build
				build = func(o observedState, d *desiredState) {
					if oc, ok := o[dnsRecordName(RolePrimary)]; ok {
						// What provider-aws reports: the name the zone's name completes.
						if err := oc.Resource.SetString("status.atProvider.fqdn", tc.fqdn); err != nil {
							t.Fatal(err)
						}
					}
					inner(o, d)
				}
			}
			d, o := settle(t, tc.plan, observed, build)
			got := policyOf(t, d, tc.function)
			// Conditions decode as []any; compare through JSON, the form AWS reads.
			wantJSON, gotJSON := *tc.want(o).JSON(), *got.JSON()
			if diff := cmp.Diff(wantJSON, gotJSON); diff != "" {
				t.Errorf("\n%s\n%s's policy: -want, +got:\n%s", tc.reason, tc.function, diff)
			}
			att, ok := d.Resources[lambdaPart(drLambdas, tc.function, "vpc-access")].(*iamv1beta1.RolePolicyAttachment)
			if !ok || *att.Spec.ForProvider.PolicyArn != vpcAccessPolicyARN {
				t.Errorf("\n%s\nthe role's only managed policy is %s", tc.reason, vpcAccessPolicyARN)
			}
		})
	}
}

func TestLambdaTriggers(t *testing.T) {
	p := testPlan(t, builderSpec)
	every5 := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"monitoring":{"lagCheckMinutes":5}}`)
	observed := dataLayer(t, p, false)
	d, o := settle(t, p, observed, lambdaBuild(t, p, detectFailover(p, observed)))
	d5 := newDesired(clusterFlavour{}, every5.ProviderConfig)
	if err := buildLambdas(every5, observedState{}, stReplicating, d5); err != nil {
		t.Fatal(err)
	}
	rule := func(d *desiredState, function, purpose string) cloudwatcheventsv1beta1.RuleParameters {
		r, ok := d.Resources[lambdaPart(drLambdas, function, purpose)].(*cloudwatcheventsv1beta1.Rule)
		if !ok {
			t.Fatalf("%s is not a desired Rule", lambdaPart(drLambdas, function, purpose))
		}
		return r.Spec.ForProvider
	}

	t.Run("Schedule", func(t *testing.T) {
		cases := map[string]struct {
			reason string
			d      *desiredState
			want   string
		}{
			"Default": {"The spec's default: every minute, in EventBridge's singular.", d, "rate(1 minute)"},
			"Five":    {"Every five minutes.", d5, "rate(5 minutes)"},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				if got := *rule(tc.d, contract.FunctionReplicationLag, "schedule").ScheduleExpression; got != tc.want {
					t.Errorf("\n%s\nschedule %q, want %q", tc.reason, got, tc.want)
				}
			})
		}
	})

	t.Run("AlarmPattern", func(t *testing.T) {
		got := map[string]any{}
		if err := json.Unmarshal([]byte(*rule(d, contract.FunctionFailover, "alarm").EventPattern), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"source":      []any{"aws.cloudwatch"},
			"detail-type": []any{"CloudWatch Alarm State Change"},
			"resources":   []any{alarmARN(o, RoleDR, alarmPrimaryUnhealthy)},
			"detail": map[string]any{
				"alarmName": []any{alarmAWSName(p, RoleDR, alarmPrimaryUnhealthy)},
				"state":     map[string]any{"value": []any{"ALARM"}},
			},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the failover rule matches the composite alarm's ARN going to ALARM: -want, +got:\n%s", diff)
		}
	})

	for _, tr := range []struct{ function, purpose string }{{contract.FunctionReplicationLag, "schedule"}, {contract.FunctionFailover, "alarm"}} {
		t.Run("Target-"+tr.function, func(t *testing.T) {
			tg, ok := d.Resources[lambdaPart(drLambdas, tr.function, tr.purpose+"-target")].(*cloudwatcheventsv1beta2.Target)
			if !ok {
				t.Fatalf("no target of %s", lambdaPart(drLambdas, tr.function, tr.purpose))
			}
			wantTarget := cloudwatcheventsv1beta2.TargetParameters{
				Region: new("us-east-2"), RuleSelector: selectorOf(lambdaPart(drLambdas, tr.function, tr.purpose)), TargetID: new(tr.function),
				Arn: new(deref(observedAs[lambdav1beta2.Function](o, lambdaName(drLambdas, tr.function)).Status.AtProvider.Arn)),
			}
			if diff := cmp.Diff(wantTarget, tg.Spec.ForProvider); diff != "" {
				t.Errorf("target: -want, +got:\n%s", diff)
			}
			pm, ok := d.Resources[lambdaPart(drLambdas, tr.function, tr.purpose+"-permission")].(*lambdav1beta1.Permission)
			if !ok {
				t.Fatalf("no permission for %s", lambdaPart(drLambdas, tr.function, tr.purpose))
			}
			wantPerm := lambdav1beta1.PermissionParameters{
				Region: new("us-east-2"), FunctionNameSelector: selectorOf(lambdaName(drLambdas, tr.function)), StatementID: new("events-" + tr.purpose),
				Action: new("lambda:InvokeFunction"), Principal: new("events.amazonaws.com"),
				SourceArn: new(deref(observedAs[cloudwatcheventsv1beta1.Rule](o, lambdaPart(drLambdas, tr.function, tr.purpose)).Status.AtProvider.Arn)),
			}
			if diff := cmp.Diff(wantPerm, pm.Spec.ForProvider); diff != "" {
				t.Errorf("invoke permission, limited to the rule: -want, +got:\n%s", diff)
			}
		})
	}
}

func TestSecretKeyRole(t *testing.T) {
	p := testPlan(t, builderSpec)
	cases := map[string]struct {
		reason string
		arn    string
		want   Role
	}{
		"PrimarySecret": {"A secret in the primary region is under the primary key.", "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf", RolePrimary},
		"DRReplica":     {"A replica of the secret in the DR region is under the DR key.", "arn:aws:secretsmanager:us-east-2:123456789012:secret:rds!db-1-AbCdEf", RoleDR},
		"Unknown":       {"Not observed yet: the primary's, as RDS makes it.", "", RolePrimary},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := secretKeyRole(p, tc.arn); got != tc.want {
				t.Errorf("\n%s\nsecretKeyRole(%q) = %s, want %s", tc.reason, tc.arn, got, tc.want)
			}
		})
	}
}

func TestSwitchoverInvocation(t *testing.T) {
	// Terraform's aws_lambda_invocation (internal/service/lambda/invocation.go of the fork):
	// with lifecycle_scope CREATE_ONLY it invokes once, RequestResponse, when it is created, and
	// a change of input replaces it (customizeDiffInputChangeWithCreateOnlyScope); a function
	// error fails the create ("invoking Lambda Function ... %s", FunctionError), so provider-aws
	// retries it; its delete invokes nothing. Read is a no-op: result is what the create stored.
	drActive := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2","switchover":{"catchUpTimeoutSeconds":90},"failover":{"mode":"Automatic"}}`)
	switching := stReplicating
	switching.Switching = true
	cases := map[string]struct {
		reason string
		st     failoverState
		want   bool
	}{
		"Replicating": {reason: "No switchover asked: no Invocation.", st: stReplicating},
		"Switching":   {reason: "A switchover asked of a Ready replica: one Invocation of the failover Lambda in the replica's region.", st: switching, want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, _ := settle(t, drActive, dataLayer(t, drActive, false), lambdaBuild(t, drActive, tc.st))
			inv, ok := d.Resources[switchoverName(RoleDR)].(*lambdav1beta1.Invocation)
			if ok != tc.want {
				t.Fatalf("\n%s\nInvocation desired: %v, want %v", tc.reason, ok, tc.want)
			}
			if !ok {
				return
			}
			fp := inv.Spec.ForProvider
			if deref(fp.Region) != "us-east-2" || deref(fp.LifecycleScope) != "CREATE_ONLY" || selectorTarget(fp.FunctionNameSelector) != string(lambdaName(drLambdas, contract.FunctionFailover)) {
				t.Errorf("\n%s\nregion %q, lifecycle %q, function %q; want us-east-2, CREATE_ONLY, the failover Lambda", tc.reason, deref(fp.Region), deref(fp.LifecycleScope), selectorTarget(fp.FunctionNameSelector))
			}
			var req contract.SwitchoverRequest
			if err := json.Unmarshal([]byte(deref(fp.Input)), &req); err != nil {
				t.Fatalf("\n%s\ninput %q: %v", tc.reason, deref(fp.Input), err)
			}
			want := contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: switchoverID(drActive, RoleDR), CatchUpTimeoutSeconds: 90}
			if diff := cmp.Diff(want, req); diff != "" {
				t.Errorf("\n%s\nrequest: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestTriggersKeptWhileARNsUnobserved checks that an existing rule target and invoke permission
// stay desired, with the ARNs they have, while the Lambda's or the rule's ARN is not observed:
// withholding them would make Crossplane delete them. A resource taken over (a claim moved to a
// PostgresDR, its twins observe-only) is observed before its status is; found by an e2e run.
func TestTriggersKeptWhileARNsUnobserved(t *testing.T) {
	spec := `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"mode":"Automatic"}}`
	observed := converge(t, testInput, testXR(spec), 0)
	want := map[string]any{}
	for n, j := range observed {
		o := mustMap(t, j)
		switch o["kind"] {
		case "Target":
			want[n] = get(o, "spec.forProvider.arn")
		case "Permission":
			want[n] = get(o, "spec.forProvider.sourceArn")
		case "Function", "Rule":
			if at, ok := get(o, "status.atProvider").(map[string]any); ok {
				delete(at, "arn")
			}
			observed[n] = mustJSON(o)
		}
	}
	if len(want) < 4 {
		t.Fatalf("want the triggers' targets and permissions observed, got %v", want)
	}
	rsp := runFn(t, newRequest(testInput, testXR(spec), observed))
	// Observe-only twins have no ARNs in their spec, only in what AWS reports: still kept.
	twins := maps.Clone(observed)
	for n := range want {
		o := mustMap(t, twins[n])
		o["spec"] = map[string]any{"managementPolicies": []any{"Observe"}, "forProvider": map[string]any{"region": "us-east-2"}}
		twins[n] = mustJSON(o)
	}
	for n := range want {
		if _, ok := runFn(t, newRequest(testInput, testXR(spec), twins)).GetDesired().GetResources()[n]; !ok {
			t.Errorf("%s, observe-only, is no longer desired while the ARNs are unobserved", n)
		}
	}
	for n, v := range want {
		r, ok := rsp.GetDesired().GetResources()[n]
		if !ok {
			t.Errorf("%s is no longer desired while the ARNs are unobserved: Crossplane would delete it", n)
			continue
		}
		o := r.GetResource().AsMap()
		got := get(o, "spec.forProvider.arn")
		if o["kind"] == "Permission" {
			got = get(o, "spec.forProvider.sourceArn")
		}
		if got != v {
			t.Errorf("%s desires %v, want the %v it has", n, got, v)
		}
	}
}
