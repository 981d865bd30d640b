package fn

import (
	"encoding/json"
	"fmt"
	"maps"
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

// Lambda settings the spec does not choose.
const (
	// lambdaLogRetentionDays is how long the Lambdas' logs are kept: long enough to read what a
	// failover did after the fact.
	lambdaLogRetentionDays = 90
	lambdaMemoryMB         = 256
	// lagTimeout covers two connection timeouts, the heartbeat wait and slack.
	lagTimeout = 30 * time.Second
	// failoverTimeout is Lambda's most: a switchover needs its catch-up, the promotion and a
	// minute for the rest (contract.MaxCatchUpTimeout is what that leaves).
	failoverTimeout = contract.LambdaMaxTimeout
	// vpcAccessPolicyARN is the AWS-managed policy a VPC Lambda needs: network interfaces in the
	// VPC (EC2 actions that AWS only grants on every resource) and writing its logs.
	vpcAccessPolicyARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
	// arnPartition is the partition of every region the function knows.
	arnPartition = "aws"
)

// lambdaName is the resource name of a Lambda function; its role, policy, log group, rules,
// targets and permissions are named after it.
func lambdaName(p *xrPlan, function string) resource.Name {
	return resourceName(p.LambdaRole, "lambda", function)
}

func lambdaPart(p *xrPlan, function, part string) resource.Name {
	return resource.Name(string(lambdaName(p, function)) + "-" + part)
}

// lambdaAWSName is the AWS name of a Lambda function.
func lambdaAWSName(p *xrPlan, function string) string { return p.Names.Lambda(p.LambdaRole, function) }

// lambdaLogGroup is the CloudWatch Logs group of a Lambda function: Lambda's default name,
// created beforehand so that it is encrypted and expires.
func lambdaLogGroup(p *xrPlan, function string) string {
	return "/aws/lambda/" + lambdaAWSName(p, function)
}

// lambdaArtifacts returns where the Lambdas' zips are in the region the Lambdas run in (Lambda
// reads code only from a bucket in its own region), with the default object keys filled in.
func lambdaArtifacts(p *xrPlan) (inputv1alpha1.LambdaArtifacts, error) {
	region := p.Regions[p.LambdaRole].Region
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
	statements  []statement
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

// buildLambdas adds, in the DR region, the replication-lag monitor and the failover
// orchestrator: each with its IAM role (least privilege, no wildcard actions), its encrypted log
// group and its function in the DR VPC's Lambda subnets; the schedule that runs the monitor
// (disabled while there is no replica to measure); and, in Automatic mode while the DR instance
// replicates, the rule that invokes the failover Lambda when the composite alarm "primary
// unhealthy" goes to ALARM. In Manual mode that alarm only notifies. It returns an error, for a
// Fatal result, when the Input locates no Lambda zips in the DR region.
func buildLambdas(p *xrPlan, o observedState, st failoverState, d *desiredState) error {
	if !st.Armed(p) {
		// No replica: nothing to measure, nothing to fail over to. The path is built again, in
		// the region without the writer, once that region is re-seeded. A switchover's
		// Invocation stays until its result is read.
		if st.AwaitResult {
			buildSwitchover(p, o, st, d)
		}
		return nil
	}
	art, err := lambdaArtifacts(p)
	if err != nil {
		return err
	}
	dr := p.Regions[p.LambdaRole]
	writer, replica := st.Current(p, st.Writer).Name(), st.Current(p, st.Standby()).Name()

	// What both Lambdas need: the databases' endpoints and the secret with their credentials.
	var common needs
	secretARN := common.get(dbSecretARN(o), fmt.Sprintf("the master password secret's ARN (%s)", masterSecretName()))
	// The secret is encrypted with the key of the region it is in: RDS's master user secret is in
	// the primary region; a replica of it in the DR region would be under the DR key.
	secretRole := secretKeyRole(p, secretARN)
	secretKeyARN := common.get(keyARN(o, secretRole), fmt.Sprintf("the %s KMS key's ARN (%s)", roleTitle(secretRole), keyName(secretRole)))
	primaryHost := common.get(dbEndpoint(o, writer), fmt.Sprintf("the %s database's endpoint (%s)", roleTitle(st.Writer), writer))
	replicaHost := common.get(dbEndpoint(o, replica), fmt.Sprintf("the %s database's endpoint (%s)", roleTitle(st.Standby()), replica))
	env := map[string]string{
		contract.EnvPrimaryHost: primaryHost,
		contract.EnvPrimaryPort: strconv.Itoa(postgresPort),
		contract.EnvReplicaHost: replicaHost,
		contract.EnvReplicaPort: strconv.Itoa(postgresPort),
		contract.EnvDBName:      p.Spec.Postgres.DatabaseName,
		contract.EnvDBSecretARN: secretARN,
		contract.EnvDBUsername:  p.Spec.Postgres.Username,
	}
	readSecret := []statement{
		{
			Sid: "ReadDatabaseSecret", Effect: allow,
			Action:   []string{"secretsmanager:GetSecretValue"},
			Resource: []string{secretARN},
		},
		{
			Sid: "DecryptDatabaseSecret", Effect: allow,
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
		statements: append([]statement{{
			// CloudWatch has no resources to name for PutMetricData: the namespace condition is
			// what limits it.
			Sid: "PublishLagMetrics", Effect: allow,
			Action:    []string{"cloudwatch:PutMetricData"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"cloudwatch:namespace": contract.DefaultMetricNamespace}},
		}}, readSecret...),
		missing: common,
	}

	failoverMissing := append(needs{}, common...)
	lr := p.LambdaRole
	replicaARN := failoverMissing.get(dbInstanceARN(o, replica), fmt.Sprintf("the %s database's ARN (%s)", roleTitle(st.Standby()), replica))
	topicARN := failoverMissing.get(topicARN(o, lr), fmt.Sprintf("the %s alarm topic's ARN (%s)", roleTitle(lr), topicName(lr)))
	topicKeyARN := failoverMissing.get(keyARN(o, lr), fmt.Sprintf("the %s KMS key's ARN (%s)", roleTitle(lr), keyName(lr)))
	zoneID := failoverMissing.get(hostedZoneID(p, o), fmt.Sprintf("the hosted zone's id (%s)", zoneName()))
	fqdn := failoverMissing.get(recordFQDN(p, o), fmt.Sprintf("the PRIMARY record's name (%s)", dnsRecordName(RolePrimary)))
	zoneARN := fmt.Sprintf("arn:%s:route53:::hostedzone/%s", arnPartition, zoneID)
	failover := lambdaFunction{
		function:    contract.FunctionFailover,
		description: "Promotes the DR replica of " + p.Names.Base + " when the primary is unhealthy, repoints DNS and notifies",
		key:         art.FailoverKey,
		timeout:     failoverTimeout,
		// One failover at a time.
		reserved: new(float64(1)),
		env: merge(env, map[string]string{
			contract.EnvAlarmName:           alarmAWSName(p, lr, alarmPrimaryUnhealthy),
			contract.EnvReplicaInstanceID:   p.InstanceID(st.Standby()),
			contract.EnvHostedZoneID:        zoneID,
			contract.EnvRecordName:          fqdn,
			contract.EnvRecordSetIdentifier: setIDPrimary,
			contract.EnvRecordTTL:           strconv.Itoa(recordTTL),
			contract.EnvTopicARN:            topicARN,
		}),
		statements: append([]statement{
			{
				Sid: "PromoteReplica", Effect: allow,
				Action:   []string{"rds:DescribeDBInstances", "rds:PromoteReadReplica"},
				Resource: []string{replicaARN},
			},
			{
				Sid: "ReadFailoverRecord", Effect: allow,
				Action:   []string{"route53:ListResourceRecordSets"},
				Resource: []string{zoneARN},
			},
			{
				// Only an UPSERT of the CNAME of the failover record's name.
				Sid: "RepointFailoverRecord", Effect: allow,
				Action:   []string{"route53:ChangeResourceRecordSets"},
				Resource: []string{zoneARN},
				Condition: map[string]map[string]any{"ForAllValues:StringEquals": {
					"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{fqdn},
					"route53:ChangeResourceRecordSetsRecordTypes":           []string{"CNAME"},
					"route53:ChangeResourceRecordSetsActions":               []string{"UPSERT"},
				}},
			},
			{
				Sid: "Notify", Effect: allow,
				Action:   []string{"sns:Publish"},
				Resource: []string{topicARN},
			},
			{
				// The topic is encrypted: publishing to it encrypts with its key.
				Sid: "EncryptNotification", Effect: allow,
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
	rate := fmt.Sprintf("rate(%d minutes)", p.Spec.Monitoring.LagCheckMinutes)
	if p.Spec.Monitoring.LagCheckMinutes == 1 {
		rate = "rate(1 minute)"
	}
	addTrigger(p, o, d, contract.FunctionReplicationLag, "schedule", lagDesired, &cloudwatcheventsv1beta1.RuleParameters{
		Description:        new("Runs the replication-lag monitor of " + p.Names.Base),
		ScheduleExpression: new(rate),
		State:              new(state),
	})

	if st.Switching && failoverDesired {
		buildSwitchover(p, o, st, d)
	}
	if p.Spec.Failover.Mode != v1alpha1.FailoverAutomatic {
		return nil
	}
	alarm := alarmName(lr, alarmPrimaryUnhealthy)
	alarmARN := alarmARN(o, lr, alarmPrimaryUnhealthy)
	if alarmARN == "" {
		d.Wait(fmt.Sprintf("the composite alarm's ARN (%s), for the rule that invokes the failover Lambda", alarm))
		return nil
	}
	pattern, _ := json.Marshal(map[string]any{ //nolint:errchkjson // Strings only.
		"source":      []string{contract.AlarmEventSource},
		"detail-type": []string{contract.AlarmEventDetailType},
		"resources":   []string{alarmARN},
		"detail": map[string]any{
			"alarmName": []string{alarmAWSName(p, lr, alarmPrimaryUnhealthy)},
			"state":     map[string]any{"value": []string{contract.AlarmStateAlarm}},
		},
	})
	addTrigger(p, o, d, contract.FunctionFailover, "alarm", failoverDesired, &cloudwatcheventsv1beta1.RuleParameters{
		Description:  new("Invokes the failover Lambda of " + p.Names.Base + " when the primary is unhealthy"),
		EventPattern: new(string(pattern)),
		State:        new("ENABLED"),
	})
	return nil
}

// buildLambda adds a Lambda's role, its VPC access, its log group, and, once the observed values
// they name are known, its policy and function. It reports whether the function is desired.
func buildLambda(p *xrPlan, o observedState, d *desiredState, bucket string, l lambdaFunction) bool {
	region := p.Regions[p.LambdaRole].Region
	iamName := p.Names.IAM(p.LambdaRole, l.function)
	role := lambdaPart(p, l.function, "role")
	d.Add(role, named(&iamv1beta1.Role{
		Spec: iamv1beta1.RoleSpec{ForProvider: iamv1beta1.RoleParameters{
			Description:      new("Runs the " + l.function + " Lambda of " + p.Names.Base),
			AssumeRolePolicy: assumeRole("lambda.amazonaws.com").JSON(),
			Tags:             p.Tags(p.LambdaRole, iamName),
		}},
	}, iamName))
	vpcAccess := lambdaPart(p, l.function, "vpc-access")
	d.Add(vpcAccess, &iamv1beta1.RolePolicyAttachment{
		Spec: iamv1beta1.RolePolicyAttachmentSpec{ForProvider: iamv1beta1.RolePolicyAttachmentParameters{
			PolicyArn:    new(vpcAccessPolicyARN),
			RoleSelector: d.Select(role),
		}},
	})

	missing := append(needs{}, l.missing...)
	logs := lambdaPart(p, l.function, "logs")
	if logKeyARN := missing.get(keyARN(o, p.LambdaRole), fmt.Sprintf("the %s KMS key's ARN (%s)", roleTitle(p.LambdaRole), keyName(p.LambdaRole))); logKeyARN != "" {
		d.Add(logs, named(&cloudwatchlogsv1beta1.Group{
			Spec: cloudwatchlogsv1beta1.GroupSpec{ForProvider: cloudwatchlogsv1beta1.GroupParameters{
				Region:          &region,
				KMSKeyID:        new(logKeyARN),
				RetentionInDays: new(float64(lambdaLogRetentionDays)),
				Tags:            p.Tags(p.LambdaRole, lambdaLogGroup(p, l.function)),
			}},
		}, lambdaLogGroup(p, l.function)))
	}

	if len(missing) > 0 {
		d.Wait(fmt.Sprintf("%s, for the %s Lambda (%s)", joinAnd(missing), l.function, lambdaName(p, l.function)))
		return false
	}
	d.Add(lambdaPart(p, l.function, "policy"), named(&iamv1beta1.RolePolicy{
		Spec: iamv1beta1.RolePolicySpec{ForProvider: iamv1beta1.RolePolicyParameters{
			Policy:       policy(l.statements...).JSON(),
			RoleSelector: d.Select(role),
		}},
	}, iamName))

	// Lambda checks, when it creates a function in a VPC, that the role may make network
	// interfaces; the attachment that grants it must exist first.
	if !o.Ready(vpcAccess) {
		d.Wait(fmt.Sprintf("the VPC access of the %s Lambda's role (%s) to be ready", l.function, vpcAccess))
		return false
	}
	// Lambda would otherwise make the group itself, unencrypted and kept forever: before the
	// function is created the group must exist in AWS, not only be asked for. (A function that
	// exists is not withheld for it: that would delete the function.)
	if !o.Ready(logs) && (!o.Exists(logs) || !o.Exists(lambdaName(p, l.function))) {
		d.Wait(fmt.Sprintf("the %s Lambda's log group (%s) to be ready", l.function, logs))
		return false
	}
	subnetIDs, subnetSel := subnetsRef(p, d, p.LambdaRole, tierLambda)
	vars := make(map[string]*string, len(l.env))
	for k, v := range l.env {
		vars[k] = new(v)
	}
	d.Add(lambdaName(p, l.function), named(&lambdav1beta2.Function{
		Spec: lambdav1beta2.FunctionSpec{ForProvider: lambdav1beta2.FunctionParameters{
			Region:        &region,
			Description:   new(l.description),
			Runtime:       new(contract.Runtime),
			Handler:       new(contract.Handler),
			Architectures: []*string{new(contract.LambdaArchitecture(contract.ArchARM64))},
			PackageType:   new("Zip"),
			S3Bucket:      new(bucket),
			S3Key:         new(l.key),
			MemorySize:    new(float64(lambdaMemoryMB)),
			Timeout:       new(l.timeout.Seconds()),
			// Only ARNs, names and endpoints: the credentials stay in Secrets Manager.
			Environment:                  &lambdav1beta2.EnvironmentParameters{Variables: vars},
			ReservedConcurrentExecutions: l.reserved,
			RoleSelector:                 d.Select(role),
			VPCConfig: &lambdav1beta2.VPCConfigParameters{
				SubnetIds:               subnetIDs,
				SubnetIDSelector:        subnetSel,
				SecurityGroupIDSelector: d.Select(securityGroupName(p.LambdaRole, sgLambda)),
			},
			LoggingConfig: &lambdav1beta2.LoggingConfigParameters{
				LogFormat:           new("JSON"),
				LogGroupSelector:    d.Select(logs),
				ApplicationLogLevel: new("INFO"),
				SystemLogLevel:      new("WARN"),
			},
			Tags: p.Tags(p.LambdaRole, lambdaAWSName(p, l.function)),
		}},
	}, lambdaAWSName(p, l.function)))
	return true
}

// addTrigger adds an EventBridge rule in the Lambdas' region, and, once the function is desired
// and the rule's and the function's ARNs are observed, the rule's target and the function's
// permission for it.
func addTrigger(p *xrPlan, o observedState, d *desiredState, function, purpose string, fnDesired bool, rule *cloudwatcheventsv1beta1.RuleParameters) {
	region := p.Regions[p.LambdaRole].Region
	ruleName := lambdaPart(p, function, purpose)
	// EventBridge rule names have Lambda's 64-character limit.
	awsName := p.Names.Lambda(p.LambdaRole, function+"-"+purpose)
	rule.Region = &region
	rule.Tags = p.Tags(p.LambdaRole, awsName)
	d.Add(ruleName, named(&cloudwatcheventsv1beta1.Rule{Spec: cloudwatcheventsv1beta1.RuleSpec{ForProvider: *rule}}, awsName))

	target, permission := lambdaPart(p, function, purpose+"-target"), lambdaPart(p, function, purpose+"-permission")
	tg, pm := observedAs[cloudwatcheventsv1beta2.Target](o, target), observedAs[lambdav1beta1.Permission](o, permission)
	// What exists stays as it is while what it needs is not observed (a resource taken over is
	// observed before its status is): withholding it would delete it.
	keep := func() {
		if o.Exists(target) {
			d.Add(target, &cloudwatcheventsv1beta2.Target{Spec: cloudwatcheventsv1beta2.TargetSpec{ForProvider: tg.Spec.ForProvider}})
		}
		if o.Exists(permission) {
			d.Add(permission, &lambdav1beta1.Permission{Spec: lambdav1beta1.PermissionSpec{ForProvider: pm.Spec.ForProvider}})
		}
	}
	if !fnDesired {
		keep()
		return // The function's own wait says what it needs.
	}
	// A target or permission that exists keeps the ARN it has while the function's or rule's is
	// not observed.
	var missing needs
	fnARN := missing.get(orDefault(deref(observedAs[lambdav1beta2.Function](o, lambdaName(p, function)).Status.AtProvider.Arn),
		orDefault(deref(tg.Spec.ForProvider.Arn), deref(tg.Status.AtProvider.Arn))), fmt.Sprintf("the %s Lambda's ARN (%s)", function, lambdaName(p, function)))
	ruleARN := missing.get(orDefault(deref(observedAs[cloudwatcheventsv1beta1.Rule](o, ruleName).Status.AtProvider.Arn),
		orDefault(deref(pm.Spec.ForProvider.SourceArn), deref(pm.Status.AtProvider.SourceArn))), fmt.Sprintf("the rule's ARN (%s)", ruleName))
	if len(missing) > 0 {
		d.Wait(fmt.Sprintf("%s, for the rule's target and invoke permission", joinAnd(missing)))
		keep()
		return
	}
	d.Add(target, &cloudwatcheventsv1beta2.Target{
		Spec: cloudwatcheventsv1beta2.TargetSpec{ForProvider: cloudwatcheventsv1beta2.TargetParameters{
			Region:       &region,
			RuleSelector: d.Select(ruleName),
			TargetID:     new(function),
			Arn:          new(fnARN),
		}},
	})
	d.Add(permission, &lambdav1beta1.Permission{
		Spec: lambdav1beta1.PermissionSpec{ForProvider: lambdav1beta1.PermissionParameters{
			Region:               &region,
			FunctionNameSelector: d.Select(lambdaName(p, function)),
			StatementID:          new("events-" + purpose),
			Action:               new("lambda:InvokeFunction"),
			Principal:            new("events.amazonaws.com"),
			SourceArn:            new(ruleARN),
		}},
	})
}

// secretKeyRole is the role of the region a secret ARN is in, whose key encrypts it: the
// primary's unless the ARN names the DR region.
func secretKeyRole(p *xrPlan, secretARN string) Role {
	// arn:aws:secretsmanager:<region>:<account>:secret:<name>
	if parts := strings.SplitN(secretARN, ":", 5); len(parts) == 5 && parts[3] == p.Regions[RoleDR].Region {
		return RoleDR
	}
	return RolePrimary
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

// joinAnd joins a list as prose: "a", "a and b", "a, b and c".
func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// buildSwitchover adds the Invocation of the failover Lambda's switchover action, in the region of
// the replica it promotes. provider-aws invokes it once, when it creates the Invocation
// (lifecycle scope CREATE_ONLY), and records what it returns; a function error fails the create,
// which is retried, and the Lambda resumes where it stopped. It stays desired until the
// switchover is over, so that it runs once.
func buildSwitchover(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	to := st.Standby()
	if st.Writer == p.RoleOf(p.Spec.ActiveRegion) {
		to = st.Writer
	}
	in, _ := json.Marshal(contract.SwitchoverRequest{ //nolint:errchkjson // Strings and an int.
		Action:                contract.ActionSwitchover,
		ID:                    switchoverID(p, to),
		CatchUpTimeoutSeconds: p.Spec.Switchover.CatchUpTimeoutSeconds,
	})
	fp := lambdav1beta1.InvocationParameters{
		Region:         new(p.Regions[to].Region),
		Input:          new(string(in)),
		LifecycleScope: new("CREATE_ONLY"),
	}
	// Once created it keeps the function it invoked: after the promotion the failover path moves
	// and a selector would name another region's Lambda.
	if fn := deref(observedAs[lambdav1beta1.Invocation](o, switchoverName(to)).Spec.ForProvider.FunctionName); fn != "" {
		fp.FunctionName = new(fn)
	} else {
		fp.FunctionNameSelector = d.Select(lambdaName(p, contract.FunctionFailover))
	}
	d.Add(switchoverName(to), &lambdav1beta1.Invocation{Spec: lambdav1beta1.InvocationSpec{ForProvider: fp}})
}
