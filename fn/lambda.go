package fn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/function-sdk-go/resource"

	cloudwatcheventsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchevents/v1beta1"
	cloudwatcheventsv1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchevents/v1beta2"
	cloudwatchlogsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchlogs/v1beta1"
	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	lambdav1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta1"
	lambdav1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta2"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// LambdaRegion is the role of the region the Lambdas, their schedule and their trigger live in:
// the DR region, so that the failover path works when the primary region is gone.
const LambdaRegion = RoleDR

// Lambda settings the spec does not choose.
const (
	// LambdaLogRetentionDays is how long the Lambdas' logs are kept: long enough to read what a
	// failover did after the fact.
	LambdaLogRetentionDays = 90
	lambdaMemoryMB         = 256
	// lagTimeout covers two connection timeouts, the heartbeat wait and slack.
	lagTimeout = 30 * time.Second
	// failoverTimeout covers the promotion and writable check, and a minute for the rest.
	failoverTimeout = contract.DefaultPromoteTimeout + time.Minute
	// vpcAccessPolicyARN is the AWS-managed policy a VPC Lambda needs: network interfaces in the
	// VPC (EC2 actions that AWS only grants on every resource) and writing its logs.
	vpcAccessPolicyARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
	// arnPartition is the partition of every region the function knows.
	arnPartition = "aws"
)

// LambdaName is the resource name of a Lambda function; its role, policy, log group, rules,
// targets and permissions are named after it.
func LambdaName(function string) resource.Name { return ResourceName(LambdaRegion, "lambda", function) }

func lambdaPart(function, part string) resource.Name {
	return resource.Name(string(LambdaName(function)) + "-" + part)
}

// LambdaAWSName is the AWS name of a Lambda function.
func LambdaAWSName(p *Plan, function string) string { return p.Names.Lambda(LambdaRegion, function) }

// LambdaLogGroup is the CloudWatch Logs group of a Lambda function: Lambda's default name,
// created beforehand so that it is encrypted and expires.
func LambdaLogGroup(p *Plan, function string) string {
	return "/aws/lambda/" + LambdaAWSName(p, function)
}

// LambdaArtifacts returns where the Lambdas' zips are in the region the Lambdas run in (Lambda
// reads code only from a bucket in its own region), with the default object keys filled in.
func LambdaArtifacts(p *Plan) (inputv1alpha1.LambdaArtifacts, error) {
	region := p.Regions[LambdaRegion].Region
	if p.Input != nil {
		for _, a := range p.Input.LambdaArtifacts {
			if a.Region != region {
				continue
			}
			if a.ReplicationLagKey == "" {
				a.ReplicationLagKey = contract.ArtifactName(contract.FunctionReplicationLag, contract.ArchARM64)
			}
			if a.FailoverKey == "" {
				a.FailoverKey = contract.ArtifactName(contract.FunctionFailover, contract.ArchARM64)
			}
			return a, nil
		}
	}
	return inputv1alpha1.LambdaArtifacts{}, field.Required(field.NewPath("input", "lambdaArtifacts"),
		fmt.Sprintf("no entry for %s, the DR region the Lambdas run in: add {region: %s, bucket: <a bucket in %s holding the zips of make lambda>} to the Composition's input", region, region, region))
}

// lambdaFunction is what differs between the two Lambdas.
type lambdaFunction struct {
	function    string
	description string
	key         string
	timeout     time.Duration
	reserved    *float64
	env         map[string]string
	statements  []Statement
	missing     needs
}

// needs collects the observed values a Lambda waits for.
type needs []string

func (n *needs) get(v, what string) string {
	if v == "" && !slices.Contains(*n, what) {
		*n = append(*n, what)
	}
	return v
}

// BuildLambdas adds, in the DR region, the replication-lag monitor and the failover
// orchestrator: each with its IAM role (least privilege, no wildcard actions), its encrypted log
// group and its function in the DR VPC's Lambda subnets; the schedule that runs the monitor
// (disabled while there is no replica to measure); and, in Automatic mode while the DR instance
// replicates, the rule that invokes the failover Lambda when the composite alarm "primary
// unhealthy" goes to ALARM. In Manual mode that alarm only notifies. It returns an error, for a
// Fatal result, when the Input locates no Lambda zips in the DR region.
func BuildLambdas(p *Plan, o Observed, st FailoverState, d *Desired) error {
	art, err := LambdaArtifacts(p)
	if err != nil {
		return err
	}
	dr := p.Regions[RoleDR]

	// What both Lambdas need: the databases' endpoints and the secret with their credentials.
	var common needs
	secretARN := common.get(DBSecretARN(o), fmt.Sprintf("the master password secret's ARN (%s)", MasterSecretName()))
	// The secret is encrypted with the key of the region it is in: RDS's master user secret is in
	// the primary region; a replica of it in the DR region would be under the DR key.
	secretRole := secretKeyRole(p, secretARN)
	secretKeyARN := common.get(KeyARN(o, secretRole), fmt.Sprintf("the %s KMS key's ARN (%s)", roleTitle(secretRole), KeyName(secretRole)))
	primaryHost := common.get(DBEndpoint(o, RolePrimary), fmt.Sprintf("the primary database's endpoint (%s)", DBInstanceName(RolePrimary)))
	replicaHost := common.get(DBEndpoint(o, RoleDR), fmt.Sprintf("the DR database's endpoint (%s)", DBInstanceName(RoleDR)))
	env := map[string]string{
		contract.EnvPrimaryHost: primaryHost,
		contract.EnvPrimaryPort: strconv.Itoa(PostgresPort),
		contract.EnvReplicaHost: replicaHost,
		contract.EnvReplicaPort: strconv.Itoa(PostgresPort),
		contract.EnvDBName:      p.Spec.Postgres.DatabaseName,
		contract.EnvDBSecretARN: secretARN,
		contract.EnvDBUsername:  p.Spec.Postgres.Username,
	}
	readSecret := []Statement{
		{
			Sid: "ReadDatabaseSecret", Effect: Allow,
			Action:   []string{"secretsmanager:GetSecretValue"},
			Resource: []string{secretARN},
		},
		{
			Sid: "DecryptDatabaseSecret", Effect: Allow,
			Action:    []string{"kms:Decrypt"},
			Resource:  []string{secretKeyARN},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager." + p.Regions[secretRole].Region + ".amazonaws.com"}},
		},
	}

	lag := lambdaFunction{
		function:    contract.FunctionReplicationLag,
		description: "Measures the replication lag of " + p.Names.Base + " and whether both databases answer",
		key:         art.ReplicationLagKey,
		timeout:     lagTimeout,
		env: merge(env, map[string]string{
			contract.EnvPairName:        p.Names.Base,
			contract.EnvMetricNamespace: contract.DefaultMetricNamespace,
		}),
		statements: append([]Statement{{
			// CloudWatch has no resources to name for PutMetricData: the namespace condition is
			// what limits it.
			Sid: "PublishLagMetrics", Effect: Allow,
			Action:    []string{"cloudwatch:PutMetricData"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"cloudwatch:namespace": contract.DefaultMetricNamespace}},
		}}, readSecret...),
		missing: common,
	}

	failoverMissing := append(needs{}, common...)
	replicaARN := failoverMissing.get(DBInstanceARN(o, RoleDR), fmt.Sprintf("the DR database's ARN (%s)", DBInstanceName(RoleDR)))
	topicARN := failoverMissing.get(TopicARN(o, RoleDR), fmt.Sprintf("the DR alarm topic's ARN (%s)", TopicName(RoleDR)))
	topicKeyARN := failoverMissing.get(KeyARN(o, RoleDR), fmt.Sprintf("the DR KMS key's ARN (%s)", KeyName(RoleDR)))
	zoneID := failoverMissing.get(HostedZoneID(p, o), fmt.Sprintf("the hosted zone's id (%s)", ZoneName()))
	fqdn := failoverMissing.get(RecordFQDN(p, o), fmt.Sprintf("the PRIMARY record's name (%s)", DNSRecordName(RolePrimary)))
	zoneARN := fmt.Sprintf("arn:%s:route53:::hostedzone/%s", arnPartition, zoneID)
	failover := lambdaFunction{
		function:    contract.FunctionFailover,
		description: "Promotes the DR replica of " + p.Names.Base + " when the primary is unhealthy, repoints DNS and notifies",
		key:         art.FailoverKey,
		timeout:     failoverTimeout,
		// One failover at a time.
		reserved: ptr(float64(1)),
		env: merge(env, map[string]string{
			contract.EnvAlarmName:           AlarmAWSName(p, RoleDR, AlarmPrimaryUnhealthy),
			contract.EnvReplicaInstanceID:   p.Names.DBInstance(RoleDR),
			contract.EnvHostedZoneID:        zoneID,
			contract.EnvRecordName:          fqdn,
			contract.EnvRecordSetIdentifier: SetIDPrimary,
			contract.EnvRecordTTL:           strconv.Itoa(RecordTTL),
			contract.EnvTopicARN:            topicARN,
		}),
		statements: append([]Statement{
			{
				Sid: "PromoteReplica", Effect: Allow,
				Action:   []string{"rds:DescribeDBInstances", "rds:PromoteReadReplica"},
				Resource: []string{replicaARN},
			},
			{
				Sid: "ReadFailoverRecord", Effect: Allow,
				Action:   []string{"route53:ListResourceRecordSets"},
				Resource: []string{zoneARN},
			},
			{
				// Only an UPSERT of the CNAME of the failover record's name.
				Sid: "RepointFailoverRecord", Effect: Allow,
				Action:   []string{"route53:ChangeResourceRecordSets"},
				Resource: []string{zoneARN},
				Condition: map[string]map[string]any{"ForAllValues:StringEquals": {
					"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{fqdn},
					"route53:ChangeResourceRecordSetsRecordTypes":           []string{"CNAME"},
					"route53:ChangeResourceRecordSetsActions":               []string{"UPSERT"},
				}},
			},
			{
				Sid: "Notify", Effect: Allow,
				Action:   []string{"sns:Publish"},
				Resource: []string{topicARN},
			},
			{
				// The topic is encrypted: publishing to it encrypts with its key.
				Sid: "EncryptNotification", Effect: Allow,
				Action:    []string{"kms:GenerateDataKey", "kms:Decrypt"},
				Resource:  []string{topicKeyARN},
				Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "sns." + dr.Region + ".amazonaws.com"}},
			},
		}, readSecret...),
		missing: failoverMissing,
	}

	lagDesired := buildLambda(p, o, d, art.Bucket, lag)
	failoverDesired := buildLambda(p, o, d, art.Bucket, failover)

	state := "ENABLED"
	if !Replicating(st) {
		// Nothing replicates: the monitor would only write heartbeats to an instance that is no
		// longer the writer.
		state = "DISABLED"
	}
	rate := fmt.Sprintf("rate(%d minutes)", p.Spec.Monitoring.LagCheckMinutes)
	if p.Spec.Monitoring.LagCheckMinutes == 1 {
		rate = "rate(1 minute)"
	}
	addTrigger(p, o, d, contract.FunctionReplicationLag, "schedule", lagDesired, &cloudwatcheventsv1beta1.RuleParameters{
		Description:        ptr("Runs the replication-lag monitor of " + p.Names.Base),
		ScheduleExpression: ptr(rate),
		State:              ptr(state),
	})

	if p.Spec.Failover.Mode != v1alpha1.FailoverAutomatic || !Replicating(st) {
		return nil
	}
	alarm := AlarmName(RoleDR, AlarmPrimaryUnhealthy)
	alarmARN := AlarmARN(o, RoleDR, AlarmPrimaryUnhealthy)
	if alarmARN == "" {
		d.Wait(fmt.Sprintf("the composite alarm's ARN (%s), for the rule that invokes the failover Lambda", alarm))
		return nil
	}
	pattern, _ := json.Marshal(map[string]any{ //nolint:errchkjson // Strings only.
		"source":      []string{contract.AlarmEventSource},
		"detail-type": []string{contract.AlarmEventDetailType},
		"resources":   []string{alarmARN},
		"detail": map[string]any{
			"alarmName": []string{AlarmAWSName(p, RoleDR, AlarmPrimaryUnhealthy)},
			"state":     map[string]any{"value": []string{contract.AlarmStateAlarm}},
		},
	})
	addTrigger(p, o, d, contract.FunctionFailover, "alarm", failoverDesired, &cloudwatcheventsv1beta1.RuleParameters{
		Description:  ptr("Invokes the failover Lambda of " + p.Names.Base + " when the primary is unhealthy"),
		EventPattern: ptr(string(pattern)),
		State:        ptr("ENABLED"),
	})
	return nil
}

// buildLambda adds a Lambda's role, its VPC access, its log group, and, once the observed values
// they name are known, its policy and function. It reports whether the function is desired.
func buildLambda(p *Plan, o Observed, d *Desired, bucket string, l lambdaFunction) bool {
	region := p.Regions[LambdaRegion].Region
	iamName := p.Names.IAM(LambdaRegion, l.function)
	role := lambdaPart(l.function, "role")
	d.Add(role, Named(&iamv1beta1.Role{
		Spec: iamv1beta1.RoleSpec{ForProvider: iamv1beta1.RoleParameters{
			Description:      ptr("Runs the " + l.function + " Lambda of " + p.Names.Base),
			AssumeRolePolicy: AssumeRole("lambda.amazonaws.com").JSON(),
			Tags:             p.Tags(LambdaRegion, iamName),
		}},
	}, iamName))
	vpcAccess := lambdaPart(l.function, "vpc-access")
	d.Add(vpcAccess, &iamv1beta1.RolePolicyAttachment{
		Spec: iamv1beta1.RolePolicyAttachmentSpec{ForProvider: iamv1beta1.RolePolicyAttachmentParameters{
			PolicyArn:    ptr(vpcAccessPolicyARN),
			RoleSelector: d.Select(role),
		}},
	})

	missing := append(needs{}, l.missing...)
	logs := lambdaPart(l.function, "logs")
	if logKeyARN := missing.get(KeyARN(o, LambdaRegion), fmt.Sprintf("the %s KMS key's ARN (%s)", roleTitle(LambdaRegion), KeyName(LambdaRegion))); logKeyARN != "" {
		d.Add(logs, Named(&cloudwatchlogsv1beta1.Group{
			Spec: cloudwatchlogsv1beta1.GroupSpec{ForProvider: cloudwatchlogsv1beta1.GroupParameters{
				Region:          &region,
				KMSKeyID:        ptr(logKeyARN),
				RetentionInDays: ptr(float64(LambdaLogRetentionDays)),
				Tags:            p.Tags(LambdaRegion, LambdaLogGroup(p, l.function)),
			}},
		}, LambdaLogGroup(p, l.function)))
	}

	if len(missing) > 0 {
		d.Wait(fmt.Sprintf("%s, for the %s Lambda (%s)", joinAnd(missing), l.function, LambdaName(l.function)))
		return false
	}
	d.Add(lambdaPart(l.function, "policy"), Named(&iamv1beta1.RolePolicy{
		Spec: iamv1beta1.RolePolicySpec{ForProvider: iamv1beta1.RolePolicyParameters{
			Policy:       Policy(l.statements...).JSON(),
			RoleSelector: d.Select(role),
		}},
	}, iamName))

	// Lambda checks, when it creates a function in a VPC, that the role may make network
	// interfaces; the attachment that grants it must exist first.
	if !o.Ready(vpcAccess) {
		d.Wait(fmt.Sprintf("the VPC access of the %s Lambda's role (%s) to be ready", l.function, vpcAccess))
		return false
	}
	if !o.Exists(logs) {
		// Lambda would otherwise make the group itself, unencrypted and kept forever.
		d.Wait(fmt.Sprintf("the %s Lambda's log group (%s)", l.function, logs))
		return false
	}
	vars := make(map[string]*string, len(l.env))
	for k, v := range l.env {
		vars[k] = ptr(v)
	}
	d.Add(LambdaName(l.function), Named(&lambdav1beta2.Function{
		Spec: lambdav1beta2.FunctionSpec{ForProvider: lambdav1beta2.FunctionParameters{
			Region:        &region,
			Description:   ptr(l.description),
			Runtime:       ptr(contract.Runtime),
			Handler:       ptr(contract.Handler),
			Architectures: []*string{ptr(contract.LambdaArchitecture(contract.ArchARM64))},
			PackageType:   ptr("Zip"),
			S3Bucket:      ptr(bucket),
			S3Key:         ptr(l.key),
			MemorySize:    ptr(float64(lambdaMemoryMB)),
			Timeout:       ptr(l.timeout.Seconds()),
			// Only ARNs, names and endpoints: the credentials stay in Secrets Manager.
			Environment:                  &lambdav1beta2.EnvironmentParameters{Variables: vars},
			ReservedConcurrentExecutions: l.reserved,
			RoleSelector:                 d.Select(role),
			VPCConfig: &lambdav1beta2.VPCConfigParameters{
				SubnetIDSelector:        d.SelectAll(TierLabels(LambdaRegion, TierLambda)),
				SecurityGroupIDSelector: d.Select(SecurityGroupName(LambdaRegion, SGLambda)),
			},
			LoggingConfig: &lambdav1beta2.LoggingConfigParameters{
				LogFormat:           ptr("JSON"),
				LogGroupSelector:    d.Select(logs),
				ApplicationLogLevel: ptr("INFO"),
				SystemLogLevel:      ptr("WARN"),
			},
			Tags: p.Tags(LambdaRegion, LambdaAWSName(p, l.function)),
		}},
	}, LambdaAWSName(p, l.function)))
	return true
}

// addTrigger adds an EventBridge rule in the Lambdas' region, and, once the function is desired
// and the rule's and the function's ARNs are observed, the rule's target and the function's
// permission for it.
func addTrigger(p *Plan, o Observed, d *Desired, function, purpose string, fnDesired bool, rule *cloudwatcheventsv1beta1.RuleParameters) {
	region := p.Regions[LambdaRegion].Region
	ruleName := lambdaPart(function, purpose)
	// EventBridge rule names have Lambda's 64-character limit.
	awsName := p.Names.Lambda(LambdaRegion, function+"-"+purpose)
	rule.Region = &region
	rule.Tags = p.Tags(LambdaRegion, awsName)
	d.Add(ruleName, Named(&cloudwatcheventsv1beta1.Rule{Spec: cloudwatcheventsv1beta1.RuleSpec{ForProvider: *rule}}, awsName))

	if !fnDesired {
		return // The function's own wait says what it needs.
	}
	var missing needs
	fnARN := missing.get(deref(observedAs[lambdav1beta2.Function](o, LambdaName(function)).Status.AtProvider.Arn), fmt.Sprintf("the %s Lambda's ARN (%s)", function, LambdaName(function)))
	ruleARN := missing.get(deref(observedAs[cloudwatcheventsv1beta1.Rule](o, ruleName).Status.AtProvider.Arn), fmt.Sprintf("the rule's ARN (%s)", ruleName))
	if len(missing) > 0 {
		d.Wait(fmt.Sprintf("%s, for the rule's target and invoke permission", joinAnd(missing)))
		return
	}
	d.Add(lambdaPart(function, purpose+"-target"), &cloudwatcheventsv1beta2.Target{
		Spec: cloudwatcheventsv1beta2.TargetSpec{ForProvider: cloudwatcheventsv1beta2.TargetParameters{
			Region:       &region,
			RuleSelector: d.Select(ruleName),
			TargetID:     ptr(function),
			Arn:          ptr(fnARN),
		}},
	})
	d.Add(lambdaPart(function, purpose+"-permission"), &lambdav1beta1.Permission{
		Spec: lambdav1beta1.PermissionSpec{ForProvider: lambdav1beta1.PermissionParameters{
			Region:               &region,
			FunctionNameSelector: d.Select(LambdaName(function)),
			StatementID:          ptr("events-" + purpose),
			Action:               ptr("lambda:InvokeFunction"),
			Principal:            ptr("events.amazonaws.com"),
			SourceArn:            ptr(ruleARN),
		}},
	})
}

// secretKeyRole is the role of the region a secret ARN is in, whose key encrypts it: the
// primary's unless the ARN names the DR region.
func secretKeyRole(p *Plan, secretARN string) Role {
	// arn:aws:secretsmanager:<region>:<account>:secret:<name>
	if parts := strings.SplitN(secretARN, ":", 5); len(parts) == 5 && parts[3] == p.Regions[RoleDR].Region {
		return RoleDR
	}
	return RolePrimary
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// joinAnd joins a list as prose: "a", "a and b", "a, b and c".
func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
