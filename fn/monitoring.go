package fn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/crossplane/function-sdk-go/resource"

	cloudwatchv1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatch/v1beta2"
	snsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/sns/v1beta1"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// Alarm purposes: the last part of an alarm's resource name and of its AWS name.
const (
	// On the writer's instance, in the writer's region (namespace AWS/RDS).
	alarmCPU          = "cpu"
	alarmFreeStorage  = "free-storage"
	alarmFreeMemory   = "free-memory"
	alarmConnections  = "connections"
	alarmReadLatency  = "read-latency"
	alarmWriteLatency = "write-latency"

	// On the replica and on what the replication-lag Lambda publishes, in the DR region.
	alarmReplicaLag         = "replica-lag"
	alarmLagSeconds         = "lag-seconds"
	alarmLagBytes           = "lag-bytes"
	alarmPrimaryUnreachable = "primary-unreachable"
	alarmReplicaUnreachable = "replica-unreachable"

	// Composite alarms, in the DR region.
	alarmPrimaryUnhealthy     = "primary-unhealthy"
	alarmReplicationUnhealthy = "replication-unhealthy"
)

// Alarm evaluation the spec does not choose.
const (
	// rdsAlarmPeriod is the period of the alarms on the writer's RDS metrics: a sustained
	// problem over three five-minute periods, not a spike, pages someone.
	rdsAlarmPeriod      = 300
	rdsAlarmEvaluations = 3
	// replicaLagPeriod is the period of the alarm on RDS's own ReplicaLag, which RDS publishes
	// every minute.
	replicaLagPeriod = 60
	// lagAlarmEvaluations is how many consecutive runs of the replication-lag Lambda must breach
	// before a lag or reachability alarm fires: with the default one-minute schedule, three
	// minutes of an unreachable primary before the failover path acts.
	lagAlarmEvaluations = 3

	namespaceRDS      = "AWS/RDS"
	dimensionInstance = "DBInstanceIdentifier"

	gib = 1 << 30
	mib = 1 << 20
)

// TreatMissingData values.
const (
	missingKeep         = "missing"
	missingNotBreaching = "notBreaching"
	missingBreaching    = "breaching"
)

// topicName is the resource name of a region's alarm topic.
func topicName(r Role) resource.Name { return resourceName(r, "sns-topic") }

// topicARN returns the observed ARN of a region's alarm topic, or "".
func topicARN(o observedState, r Role) string {
	return deref(observedAs[snsv1beta1.Topic](o, topicName(r)).Status.AtProvider.Arn)
}

// alarmName is the resource name of a region's metric or composite alarm.
func alarmName(r Role, purpose string) resource.Name { return resourceName(r, "alarm", purpose) }

// alarmARN returns the observed ARN of a region's metric or composite alarm, or "".
func alarmARN(o observedState, r Role, purpose string) string {
	name := alarmName(r, purpose)
	if o.GroupKind(name).Kind == cloudwatchv1beta2.CompositeAlarm_Kind {
		return deref(observedAs[cloudwatchv1beta2.CompositeAlarm](o, name).Status.AtProvider.Arn)
	}
	return deref(observedAs[cloudwatchv1beta2.MetricAlarm](o, name).Status.AtProvider.Arn)
}

// alarmAWSName is the CloudWatch name of a region's alarm. Alarms are named, not generated,
// so that the Route53 health checks, the EventBridge rule and the failover Lambda can name them.
func alarmAWSName(p *xrPlan, r Role, purpose string) string {
	return p.Names.Resource(r, "alarm-"+purpose)
}

// roleTitle is how messages name a role: "primary" or "DR".
func roleTitle(r Role) string {
	if r == RoleDR {
		return "DR"
	}
	return string(r)
}

// buildMonitoring adds, per region, a KMS-encrypted SNS topic with the spec's email
// subscriptions; alarms on the writer's CPU, free storage, free memory, connections and read and
// write latency in the writer's region; and, while the DR instance replicates, alarms on its
// ReplicaLag and on what the replication-lag Lambda publishes, and the composite alarms
// "primary unhealthy" and "replication unhealthy", all in the DR region, where the failover
// path lives. Every alarm notifies its region's topic; a topic waits for its key's ARN, an alarm
// for its topic's ARN and a composite alarm for its children's ARNs.
func buildMonitoring(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	for _, role := range roles {
		buildTopic(p, o, d, role)
	}
	buildWriterAlarms(p, o, st, d)
	switch {
	case st.Armed(p):
		buildReplicationAlarms(p, o, st, d, true)
	case st.PromotedOutOfBand:
		// Kept until spec.activeRegion says what is permanent, but silent: with no replica and
		// no lag monitor they would go to ALARM (missing data breaches replica-unreachable) and
		// notify for as long as the pair stays failed over.
		buildReplicationAlarms(p, o, st, d, false)
	}
}

func buildTopic(p *xrPlan, o observedState, d *desiredState, role Role) {
	region := p.Regions[role].Region
	keyARN := keyARN(o, role)
	if keyARN == "" {
		d.Wait(fmt.Sprintf("the %s KMS key's ARN (%s), to encrypt the %s alarm topic", roleTitle(role), keyName(role), region))
		return
	}
	name := p.Names.Resource(role, "alarms")
	topic := topicName(role)
	d.Add(topic, named(&snsv1beta1.Topic{
		Spec: snsv1beta1.TopicSpec{ForProvider: snsv1beta1.TopicParameters{
			Region:         &region,
			DisplayName:    new(fmt.Sprintf("PostgreSQL DR %s alarms (%s)", p.Names.Base, region)),
			KMSMasterKeyID: new(keyARN),
			Tags:           p.Tags(role, name),
		}},
	}, name))
	for _, email := range p.Spec.Monitoring.NotificationEmails {
		d.Add(subscriptionName(role, email), &snsv1beta1.TopicSubscription{
			Spec: snsv1beta1.TopicSubscriptionSpec{ForProvider: snsv1beta1.TopicSubscriptionParameters{
				Region:           &region,
				TopicArnSelector: d.Select(topic),
				Protocol:         new("email"),
				Endpoint:         new(email),
			}},
		})
	}
}

// subscriptionName is the resource name of an email subscription to a region's topic. It is
// named by a hash of the address, so that adding or removing one address leaves the others'
// subscriptions (and their confirmations) alone.
func subscriptionName(r Role, email string) resource.Name {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return resourceName(r, "sns-email", hex.EncodeToString(sum[:])[:8])
}

// metricAlarm is what differs between the function's metric alarms.
type metricAlarm struct {
	purpose     string
	description string
	namespace   string
	metric      string
	dimensions  map[string]*string
	statistic   string
	comparison  string
	threshold   float64
	period      int
	evaluations int
	missing     string
	silenced    bool
}

func addMetricAlarm(p *xrPlan, d *desiredState, role Role, topicARN string, a metricAlarm) {
	region := p.Regions[role].Region
	name := alarmAWSName(p, role, a.purpose)
	d.Add(alarmName(role, a.purpose), named(&cloudwatchv1beta2.MetricAlarm{
		Spec: cloudwatchv1beta2.MetricAlarmSpec{ForProvider: cloudwatchv1beta2.MetricAlarmParameters{
			Region:             &region,
			AlarmDescription:   new(a.description),
			Namespace:          new(a.namespace),
			MetricName:         new(a.metric),
			Dimensions:         a.dimensions,
			Statistic:          new(a.statistic),
			ComparisonOperator: new(a.comparison),
			Threshold:          new(a.threshold),
			Period:             new(float64(a.period)),
			EvaluationPeriods:  new(float64(a.evaluations)),
			DatapointsToAlarm:  new(float64(a.evaluations)),
			TreatMissingData:   new(a.missing),
			ActionsEnabled:     new(!a.silenced),
			AlarmActions:       []*string{new(topicARN)},
			OkActions:          []*string{new(topicARN)},
			Tags:               p.Tags(role, name),
		}},
	}, name))
}

// alarmTopic returns the observed ARN of a region's topic, which alarms notify. When it is not
// observed it records the wait, unless the topic itself waits for its key (already recorded).
func alarmTopic(o observedState, d *desiredState, role Role, what string) string {
	arn := topicARN(o, role)
	if arn == "" && keyARN(o, role) != "" {
		d.Wait(fmt.Sprintf("the %s alarm topic's ARN (%s), to notify it from %s", roleTitle(role), topicName(role), what))
	}
	return arn
}

// buildWriterAlarms alarms on the RDS metrics of the instance that takes writes, in its region.
func buildWriterAlarms(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	m, w := p.Spec.Monitoring, st.Writer
	id := p.InstanceID(w)
	dims := func() map[string]*string { return map[string]*string{dimensionInstance: new(id)} }
	rds := func(purpose, metric, statistic, comparison string, threshold float64, description string) metricAlarm {
		return metricAlarm{
			purpose: purpose, description: description, namespace: namespaceRDS, metric: metric,
			dimensions: dims(), statistic: statistic, comparison: comparison, threshold: threshold,
			period: rdsAlarmPeriod, evaluations: rdsAlarmEvaluations, missing: missingKeep,
		}
	}
	topicARN := alarmTopic(o, d, w, "the "+roleTitle(w)+" database's alarms")
	if topicARN == "" {
		return
	}
	freeStorage := float64(p.Spec.Postgres.StorageGB) * gib * float64(m.FreeStoragePercent) / 100
	for _, a := range []metricAlarm{
		rds(alarmCPU, "CPUUtilization", "Average", "GreaterThanThreshold", float64(m.CPUPercent),
			fmt.Sprintf("%s: CPU above %d%%", id, m.CPUPercent)),
		rds(alarmFreeStorage, "FreeStorageSpace", "Minimum", "LessThanThreshold", freeStorage,
			fmt.Sprintf("%s: free storage below %d%% of the %d GiB allocated", id, m.FreeStoragePercent, p.Spec.Postgres.StorageGB)),
		rds(alarmFreeMemory, "FreeableMemory", "Average", "LessThanThreshold", float64(m.FreeMemoryMB)*mib,
			fmt.Sprintf("%s: freeable memory below %d MiB", id, m.FreeMemoryMB)),
		rds(alarmConnections, "DatabaseConnections", "Maximum", "GreaterThanThreshold", float64(m.MaxConnections),
			fmt.Sprintf("%s: more than %d connections", id, m.MaxConnections)),
		rds(alarmReadLatency, "ReadLatency", "Average", "GreaterThanThreshold", float64(m.LatencyMillis)/1000,
			fmt.Sprintf("%s: read latency above %d ms", id, m.LatencyMillis)),
		rds(alarmWriteLatency, "WriteLatency", "Average", "GreaterThanThreshold", float64(m.LatencyMillis)/1000,
			fmt.Sprintf("%s: write latency above %d ms", id, m.LatencyMillis)),
	} {
		addMetricAlarm(p, d, w, topicARN, a)
	}
}

// buildReplicationAlarms alarms, in the DR region, on the replica's ReplicaLag and on the
// metrics the replication-lag Lambda publishes there, and combines them into the composite
// alarms whose rules the README's "Alarms" section gives.
// Unless armed their actions are disabled.
func buildReplicationAlarms(p *xrPlan, o observedState, st failoverState, d *desiredState, armed bool) {
	lr := p.LambdaRole
	topicARN := alarmTopic(o, d, lr, "the replication alarms")
	if topicARN == "" {
		return
	}
	m := p.Spec.Monitoring
	replica := p.InstanceID(st.Standby())
	lagPeriod := 60 * m.LagCheckMinutes
	pair := func() map[string]*string { return map[string]*string{contract.DimensionPair: new(p.Names.Base)} }
	lambda := func(purpose, metric, comparison string, threshold float64, missing, description string) metricAlarm {
		return metricAlarm{
			purpose: purpose, description: description, namespace: contract.DefaultMetricNamespace, metric: metric,
			dimensions: pair(), statistic: "Maximum", comparison: comparison, threshold: threshold,
			period: lagPeriod, evaluations: lagAlarmEvaluations, missing: missing,
		}
	}
	for _, a := range []metricAlarm{
		{
			purpose: alarmReplicaLag, namespace: namespaceRDS, metric: "ReplicaLag",
			dimensions: map[string]*string{dimensionInstance: new(replica)}, statistic: "Maximum",
			comparison: "GreaterThanThreshold", threshold: float64(m.ReplicationLagSeconds),
			period: replicaLagPeriod, evaluations: lagAlarmEvaluations, missing: missingKeep,
			description: fmt.Sprintf("%s: RDS ReplicaLag above %d s", replica, m.ReplicationLagSeconds),
		},
		lambda(alarmLagSeconds, contract.MetricReplicationLagSeconds, "GreaterThanThreshold", float64(m.ReplicationLagSeconds), missingKeep,
			fmt.Sprintf("%s: heartbeat replication lag above %d s", p.Names.Base, m.ReplicationLagSeconds)),
		lambda(alarmLagBytes, contract.MetricReplicationLagBytes, "GreaterThanThreshold", float64(m.ReplicationLagBytes), missingKeep,
			fmt.Sprintf("%s: replay lag above %d bytes of WAL", p.Names.Base, m.ReplicationLagBytes)),
		// Only data can fail the primary over: a silent monitor is not evidence of a dead primary.
		lambda(alarmPrimaryUnreachable, contract.MetricPrimaryReachable, "LessThanThreshold", 1, missingNotBreaching,
			fmt.Sprintf("%s: the primary %s did not answer the replication-lag monitor in %s", p.Names.Base, p.InstanceID(st.Writer), p.Regions[lr].Region)),
		// A silent monitor cannot vouch for the replica: missing data breaches, which also keeps
		// "primary unhealthy" from firing when the monitor itself is broken.
		lambda(alarmReplicaUnreachable, contract.MetricReplicaReachable, "LessThanThreshold", 1, missingBreaching,
			fmt.Sprintf("%s: the replica %s did not answer the replication-lag monitor, or the monitor did not report", p.Names.Base, replica)),
	} {
		a.silenced = !armed
		addMetricAlarm(p, d, lr, topicARN, a)
	}

	children := []string{alarmReplicaLag, alarmLagSeconds, alarmLagBytes, alarmPrimaryUnreachable, alarmReplicaUnreachable}
	arn := map[string]string{}
	var missing []string
	for _, c := range children {
		if arn[c] = alarmARN(o, lr, c); arn[c] == "" {
			missing = append(missing, string(alarmName(lr, c)))
		}
	}
	if len(missing) > 0 {
		// CloudWatch refuses a composite rule that names an alarm that does not exist yet.
		d.Wait(fmt.Sprintf("the ARNs of %s, for the composite alarms %s and %s", strings.Join(missing, ", "),
			alarmName(lr, alarmPrimaryUnhealthy), alarmName(lr, alarmReplicationUnhealthy)))
		return
	}
	addCompositeAlarm(p, d, topicARN, armed, alarmPrimaryUnhealthy,
		"the primary does not answer from the DR region while the replica does: the failover signal",
		fmt.Sprintf("ALARM(%q) AND NOT ALARM(%q)", arn[alarmPrimaryUnreachable], arn[alarmReplicaUnreachable]))
	addCompositeAlarm(p, d, topicARN, armed, alarmReplicationUnhealthy,
		"the replica lags or cannot be reached: a failover now would lose data or find no replica",
		fmt.Sprintf("ALARM(%q) OR ALARM(%q) OR ALARM(%q) OR ALARM(%q)",
			arn[alarmReplicaLag], arn[alarmLagSeconds], arn[alarmLagBytes], arn[alarmReplicaUnreachable]))
}

// addCompositeAlarm adds a composite alarm in the DR region that notifies the DR topic, if armed.
func addCompositeAlarm(p *xrPlan, d *desiredState, topicARN string, armed bool, purpose, description, rule string) {
	lr := p.LambdaRole
	region := p.Regions[lr].Region
	name := alarmAWSName(p, lr, purpose)
	d.Add(alarmName(lr, purpose), named(&cloudwatchv1beta2.CompositeAlarm{
		Spec: cloudwatchv1beta2.CompositeAlarmSpec{ForProvider: cloudwatchv1beta2.CompositeAlarmParameters{
			Region:           &region,
			AlarmDescription: new(p.Names.Base + ": " + description),
			AlarmRule:        new(rule),
			ActionsEnabled:   new(armed),
			AlarmActions:     []*string{new(topicARN)},
			OkActions:        []*string{new(topicARN)},
			Tags:             p.Tags(lr, name),
		}},
	}, name))
}
