package fn

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	cloudwatchv1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatch/v1beta2"
	snsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/sns/v1beta1"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

func monitoringBuild(p *xrPlan, st failoverState) func(observedState, *desiredState) {
	return func(o observedState, d *desiredState) { buildMonitoring(p, o, st, d) }
}

func TestBuildMonitoring(t *testing.T) {
	p := testPlan(t, builderSpec)
	replicating := dataLayer(t, p, false)
	promoted := dataLayer(t, p, true)
	subs := func(r Role) []string {
		return []string{string(subscriptionName(r, "dba@example.com")), string(subscriptionName(r, "oncall@example.com"))}
	}
	alarms := func(r Role, purposes ...string) []string {
		out := make([]string, 0, len(purposes))
		for _, a := range purposes {
			out = append(out, string(alarmName(r, a)))
		}
		return out
	}
	writer := []string{alarmCPU, alarmFreeStorage, alarmFreeMemory, alarmConnections, alarmReadLatency, alarmWriteLatency}
	replication := []string{alarmReplicaLag, alarmLagSeconds, alarmLagBytes, alarmPrimaryUnreachable, alarmReplicaUnreachable, alarmPrimaryUnhealthy, alarmReplicationUnhealthy}
	sorted := func(parts ...[]string) []string {
		out := slices.Concat(parts...)
		slices.Sort(out)
		return out
	}

	cases := map[string]struct {
		reason   string
		observed observedState
		st       failoverState
		settle   bool
		want     []string
		waiting  int
	}{
		"NothingObserved": {
			reason:   "Without the keys' ARNs no topic can be encrypted: nothing is desired and both topics say what they wait for.",
			observed: observedState{},
			st:       stReplicating,
			waiting:  2,
		},
		"KeysObserved": {
			reason:   "With the keys, both topics and their subscriptions; the alarms wait for the topics' ARNs.",
			observed: observedState{keyName(RolePrimary): replicating[keyName(RolePrimary)], keyName(RoleDR): replicating[keyName(RoleDR)]},
			st:       stReplicating,
			want:     sorted([]string{string(topicName(RolePrimary)), string(topicName(RoleDR))}, subs(RolePrimary), subs(RoleDR)),
			waiting:  2,
		},
		"Replicating": {
			reason:   "Replicating: the primary's alarms in the primary region, the replication alarms and both composites in the DR region.",
			observed: replicating,
			st:       detectFailover(p, replicating),
			settle:   true,
			want: sorted([]string{string(topicName(RolePrimary)), string(topicName(RoleDR))}, subs(RolePrimary), subs(RoleDR),
				alarms(RolePrimary, writer...), alarms(RoleDR, replication...)),
		},
		"PromotedOutOfBand": {
			reason:   "The replica was promoted: the DR instance's alarms in the DR region; the replication alarms and composites kept until the spec says what is permanent, silenced (checked in TestSilencedAfterPromotion).",
			observed: promoted,
			st:       detectFailover(p, promoted),
			settle:   true,
			want: sorted([]string{string(topicName(RolePrimary)), string(topicName(RoleDR))}, subs(RolePrimary), subs(RoleDR),
				alarms(RoleDR, writer...), alarms(RoleDR, replication...)),
		},
		"Switchover": {
			reason:   "A planned switchover turns the alarms around like a failover.",
			observed: replicating,
			st:       stSwitchedOver,
			settle:   true,
			want:     sorted([]string{string(topicName(RolePrimary)), string(topicName(RoleDR))}, subs(RolePrimary), subs(RoleDR), alarms(RoleDR, writer...)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			if tc.settle {
				d, _ = settle(t, p, tc.observed, monitoringBuild(p, tc.st))
			} else {
				buildMonitoring(p, tc.observed, tc.st, d)
			}
			if diff := cmp.Diff(tc.want, names(d, "primary-", "dr-")); diff != "" {
				t.Errorf("\n%s\ndesired resources: -want, +got:\n%s", tc.reason, diff)
			}
			if len(d.Waiting) != tc.waiting {
				t.Errorf("\n%s\nwaiting for %d things, want %d:\n%s", tc.reason, len(d.Waiting), tc.waiting, strings.Join(d.Waiting, "\n"))
			}
		})
	}
}

func TestMonitoringAlarms(t *testing.T) {
	spec := `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"postgres":{"storageGB":200},
"monitoring":{"cpuPercent":70,"freeStoragePercent":15,"freeMemoryMB":512,"maxConnections":300,"latencyMillis":20,
"replicationLagSeconds":30,"replicationLagBytes":1048576,"lagCheckMinutes":2}}`
	p := testPlan(t, spec)
	observed := dataLayer(t, p, false)
	d, o := settle(t, p, observed, monitoringBuild(p, detectFailover(p, observed)))
	metric := func(name resource.Name) cloudwatchv1beta2.MetricAlarmParameters {
		t.Helper()
		a, ok := d.Resources[name].(*cloudwatchv1beta2.MetricAlarm)
		if !ok {
			t.Fatalf("%s is not a desired MetricAlarm", name)
		}
		return a.Spec.ForProvider
	}
	type alarm struct {
		Namespace, Metric, Statistic, Comparison, Missing, Dimension, DimensionValue, Topic string
		Threshold                                                                           float64
		Period, Evaluations                                                                 float64
	}
	summary := func(name resource.Name) alarm {
		fp := metric(name)
		a := alarm{
			Namespace: *fp.Namespace, Metric: *fp.MetricName, Statistic: *fp.Statistic, Comparison: *fp.ComparisonOperator,
			Missing: *fp.TreatMissingData, Threshold: *fp.Threshold, Period: *fp.Period, Evaluations: *fp.EvaluationPeriods,
		}
		for k, v := range fp.Dimensions {
			a.Dimension, a.DimensionValue = k, *v
		}
		if len(fp.AlarmActions) == 1 && len(fp.OkActions) == 1 && *fp.AlarmActions[0] == *fp.OkActions[0] {
			a.Topic = *fp.AlarmActions[0]
		}
		return a
	}
	primaryDB, replica := p.Names.DBInstance(RolePrimary, 1), p.Names.DBInstance(RoleDR, 1)
	pTopic, drTopic := topicARN(o, RolePrimary), topicARN(o, RoleDR)
	rds := func(metric, stat, cmp string, threshold float64) alarm {
		return alarm{"AWS/RDS", metric, stat, cmp, "missing", "DBInstanceIdentifier", primaryDB, pTopic, threshold, 300, 3}
	}
	lag := func(metric, cmp string, threshold float64, missing string) alarm {
		return alarm{contract.DefaultMetricNamespace, metric, "Maximum", cmp, missing, contract.DimensionPair, p.Names.Base, drTopic, threshold, 120, 3}
	}
	cases := map[string]struct {
		reason  string
		role    Role
		purpose string
		want    alarm
	}{
		"CPU":          {"CPU above the spec's percentage, on the primary, to the primary's topic.", RolePrimary, alarmCPU, rds("CPUUtilization", "Average", "GreaterThanThreshold", 70)},
		"FreeStorage":  {"Free storage below 15% of 200 GiB, in bytes.", RolePrimary, alarmFreeStorage, rds("FreeStorageSpace", "Minimum", "LessThanThreshold", 200*(1<<30)*0.15)},
		"FreeMemory":   {"Freeable memory below 512 MiB, in bytes.", RolePrimary, alarmFreeMemory, rds("FreeableMemory", "Average", "LessThanThreshold", 512*(1<<20))},
		"Connections":  {"More connections than the spec allows.", RolePrimary, alarmConnections, rds("DatabaseConnections", "Maximum", "GreaterThanThreshold", 300)},
		"ReadLatency":  {"Read latency in seconds, from the spec's milliseconds.", RolePrimary, alarmReadLatency, rds("ReadLatency", "Average", "GreaterThanThreshold", 0.02)},
		"WriteLatency": {"Write latency in seconds, from the spec's milliseconds.", RolePrimary, alarmWriteLatency, rds("WriteLatency", "Average", "GreaterThanThreshold", 0.02)},
		"ReplicaLag": {"RDS's ReplicaLag of the replica, every minute, to the DR topic.", RoleDR, alarmReplicaLag,
			alarm{"AWS/RDS", "ReplicaLag", "Maximum", "GreaterThanThreshold", "missing", "DBInstanceIdentifier", replica, drTopic, 30, 60, 3}},
		"LagSeconds":         {"The monitor's heartbeat lag, one period per scheduled run.", RoleDR, alarmLagSeconds, lag(contract.MetricReplicationLagSeconds, "GreaterThanThreshold", 30, "missing")},
		"LagBytes":           {"The monitor's byte lag.", RoleDR, alarmLagBytes, lag(contract.MetricReplicationLagBytes, "GreaterThanThreshold", 1048576, "missing")},
		"PrimaryUnreachable": {"Only data says the primary is down: missing data does not breach.", RoleDR, alarmPrimaryUnreachable, lag(contract.MetricPrimaryReachable, "LessThanThreshold", 1, "notBreaching")},
		"ReplicaUnreachable": {"A silent monitor cannot vouch for the replica: missing data breaches.", RoleDR, alarmReplicaUnreachable, lag(contract.MetricReplicaReachable, "LessThanThreshold", 1, "breaching")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := alarmName(tc.role, tc.purpose)
			if diff := cmp.Diff(tc.want, summary(n)); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, n, diff)
			}
			if got, want := d.Resources[n].GetAnnotations()["crossplane.io/external-name"], alarmAWSName(p, tc.role, tc.purpose); got != want {
				t.Errorf("\n%s\n%s is named %q in CloudWatch, want %q", tc.reason, n, got, want)
			}
		})
	}

	composite := func(purpose string) cloudwatchv1beta2.CompositeAlarmParameters {
		a, ok := d.Resources[alarmName(RoleDR, purpose)].(*cloudwatchv1beta2.CompositeAlarm)
		if !ok {
			t.Fatalf("%s is not a desired CompositeAlarm", alarmName(RoleDR, purpose))
		}
		return a.Spec.ForProvider
	}
	arn := func(purpose string) string { return alarmARN(o, RoleDR, purpose) }
	rules := map[string]string{
		alarmPrimaryUnhealthy: fmt.Sprintf(`ALARM(%q) AND NOT ALARM(%q)`, arn(alarmPrimaryUnreachable), arn(alarmReplicaUnreachable)),
		alarmReplicationUnhealthy: fmt.Sprintf(`ALARM(%q) OR ALARM(%q) OR ALARM(%q) OR ALARM(%q)`,
			arn(alarmReplicaLag), arn(alarmLagSeconds), arn(alarmLagBytes), arn(alarmReplicaUnreachable)),
	}
	for purpose, want := range rules {
		fp := composite(purpose)
		if diff := cmp.Diff(want, *fp.AlarmRule); diff != "" {
			t.Errorf("composite alarm %s's rule names its children by observed ARN: -want, +got:\n%s", purpose, diff)
		}
		if *fp.Region != "us-east-2" || len(fp.AlarmActions) != 1 || *fp.AlarmActions[0] != drTopic {
			t.Errorf("composite alarm %s: region %s, actions %v; want us-east-2 and the DR topic %s", purpose, *fp.Region, fp.AlarmActions, drTopic)
		}
	}
}

func TestMonitoringTopics(t *testing.T) {
	p := testPlan(t, builderSpec)
	observed := dataLayer(t, p, false)
	d, _ := settle(t, p, observed, monitoringBuild(p, detectFailover(p, observed)))
	for _, role := range roles {
		topic, ok := d.Resources[topicName(role)].(*snsv1beta1.Topic)
		if !ok {
			t.Fatalf("%s is not a desired Topic", topicName(role))
		}
		if got, want := *topic.Spec.ForProvider.KMSMasterKeyID, keyARN(observed, role); got != want {
			t.Errorf("%s is encrypted with %q, want its region's key %q", topicName(role), got, want)
		}
		if got := *topic.Spec.ForProvider.Region; got != p.Regions[role].Region {
			t.Errorf("%s is in %s, want %s", topicName(role), got, p.Regions[role].Region)
		}
		for _, email := range p.Spec.Monitoring.NotificationEmails {
			s, ok := d.Resources[subscriptionName(role, email)].(*snsv1beta1.TopicSubscription)
			if !ok {
				t.Fatalf("no subscription of %s to %s", email, topicName(role))
			}
			want := snsv1beta1.TopicSubscriptionParameters{
				Region: new(p.Regions[role].Region), Protocol: new("email"), Endpoint: new(email),
				TopicArnSelector: &xpv1.Selector{MatchControllerRef: new(true), MatchLabels: map[string]string{labelResource: string(topicName(role))}},
			}
			if diff := cmp.Diff(want, s.Spec.ForProvider); diff != "" {
				t.Errorf("subscription of %s to %s: -want, +got:\n%s", email, topicName(role), diff)
			}
		}
	}
}

func TestSubscriptionName(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   string
		same   bool
	}{
		"CaseInsensitive": {"Email addresses differing in case are one subscription.", "DBA@example.com", "dba@example.com", true},
		"Different":       {"Different addresses are different subscriptions.", "dba@example.com", "ops@example.com", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := subscriptionName(RoleDR, tc.a) == subscriptionName(RoleDR, tc.b); got != tc.same {
				t.Errorf("\n%s\nSubscriptionName(%q) == SubscriptionName(%q): %v, want %v", tc.reason, tc.a, tc.b, got, tc.same)
			}
			if n := subscriptionName(RoleDR, tc.a); strings.Contains(string(n), "@") {
				t.Errorf("\n%s\n%s carries the address itself", tc.reason, n)
			}
		})
	}
}

// TestSilencedAfterPromotion checks that once the replica is promoted out of band the replication
// alarms and composites have their actions off, the writer's alarms on: with no replica and no
// lag monitor, replica-unreachable (missing data breaching) and the composites would go to ALARM
// and notify for as long as the pair stays failed over. ActionsEnabled, AWS: "Indicates whether
// actions should be executed during any changes to the alarm state"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
func TestSilencedAfterPromotion(t *testing.T) {
	p := testPlan(t, builderSpec)
	for state, promoted := range map[string]bool{"Replicating": false, "PromotedOutOfBand": true} {
		t.Run(state, func(t *testing.T) {
			observed := dataLayer(t, p, promoted)
			d, _ := settle(t, p, observed, monitoringBuild(p, detectFailover(p, observed)))
			for _, purpose := range []string{alarmReplicaLag, alarmLagSeconds, alarmLagBytes, alarmPrimaryUnreachable, alarmReplicaUnreachable, alarmPrimaryUnhealthy, alarmReplicationUnhealthy, alarmCPU} {
				var enabled *bool
				switch a := d.Resources[alarmName(RoleDR, purpose)].(type) {
				case *cloudwatchv1beta2.MetricAlarm:
					enabled = a.Spec.ForProvider.ActionsEnabled
				case *cloudwatchv1beta2.CompositeAlarm:
					enabled = a.Spec.ForProvider.ActionsEnabled
				default:
					if purpose == alarmCPU && !promoted {
						continue // The writer's alarms are in the primary region while replicating.
					}
					t.Fatalf("%s is not desired", alarmName(RoleDR, purpose))
				}
				want := !promoted || purpose == alarmCPU
				if enabled == nil || *enabled != want {
					t.Errorf("%s: actionsEnabled %v, want %v", alarmName(RoleDR, purpose), enabled, want)
				}
			}
		})
	}
}
