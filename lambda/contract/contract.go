// Package contract holds the names and defaults that the composition function and the two
// Lambdas agree on: environment variables, CloudWatch metrics, the heartbeat table and the
// artifact names. Each is one exported constant, defined here and nowhere else.
//
// The package imports nothing, so the composition function's module can import it (with a
// replace directive to ./lambda) without pulling in the Lambdas' dependencies.
package contract

import "time"

// Names of the two Lambda programs: the directory under lambda/ that holds each main package,
// and the first part of each artifact's file name.
const (
	// FunctionReplicationLag is the replication-lag monitor, run on an EventBridge schedule.
	FunctionReplicationLag = "replication-lag"
	// FunctionFailover is the failover orchestrator, run by an EventBridge rule on an alarm.
	FunctionFailover = "failover"
)

// Artifacts.
const (
	// ArchARM64 is the Lambda architecture arm64 (Graviton), also the GOARCH.
	ArchARM64 = "arm64"
	// ArchAMD64 is the Lambda architecture x86_64, built with GOARCH amd64.
	ArchAMD64 = "amd64"
	// Runtime is the Lambda runtime both programs run on.
	Runtime = "provided.al2023"
	// Handler is the handler name of a provided.al2023 function; the runtime ignores it.
	Handler = "bootstrap"
	// BootstrapFile is the executable inside each zip.
	BootstrapFile = "bootstrap"
	// CABundleFile is the RDS CA bundle inside each zip, next to BootstrapFile. It is the
	// default of EnvSSLRootCert.
	CABundleFile = "global-bundle.pem"
	// ArtifactSuffix ends each artifact's file name: <function>-<arch>.zip.
	ArtifactSuffix = ".zip"
)

// ArtifactName is the file name of a function's zip for an architecture, for example
// "replication-lag-arm64.zip". `make lambda` writes these to _output/lambda/.
func ArtifactName(function, arch string) string {
	return function + "-" + arch + ArtifactSuffix
}

// LambdaArchitecture is the name AWS Lambda gives an architecture: "arm64" or "x86_64".
func LambdaArchitecture(arch string) string {
	if arch == ArchAMD64 {
		return "x86_64"
	}
	return arch
}

// CloudWatch metrics published by the replication-lag monitor.
const (
	// DefaultMetricNamespace is the namespace unless EnvMetricNamespace says otherwise.
	DefaultMetricNamespace = "PostgresDR"
	// MetricReplicationLagBytes is the primary's current WAL LSN minus the replica's replay LSN.
	MetricReplicationLagBytes = "ReplicationLagBytes"
	// MetricReceiveLagBytes is the primary's current WAL LSN minus the replica's receive LSN:
	// the WAL the replica does not have yet, which is what a failover now would lose.
	MetricReceiveLagBytes = "ReceiveLagBytes"
	// MetricReplicationLagSeconds is how long a heartbeat written on the primary takes to
	// become visible on the replica.
	MetricReplicationLagSeconds = "ReplicationLagSeconds"
	// MetricPrimaryReachable is 1 when the primary answered, 0 when it did not.
	MetricPrimaryReachable = "PrimaryReachable"
	// MetricReplicaReachable is 1 when the replica answered, 0 when it did not.
	MetricReplicaReachable = "ReplicaReachable"
	// DimensionPair is the one dimension of every metric; its value is EnvPairName.
	DimensionPair = "Pair"
)

// HeartbeatTable is the table the replication-lag monitor writes a heartbeat row to on the
// primary (in EnvDBName, schema public), and the failover Lambda writes to on the promoted
// replica to prove it takes writes. The Lambdas create it when it is missing.
const HeartbeatTable = "pgdr_heartbeat"

// Environment variables that both Lambdas read.
const (
	EnvPrimaryHost = "PRIMARY_HOST"
	EnvPrimaryPort = "PRIMARY_PORT"
	EnvReplicaHost = "REPLICA_HOST"
	EnvReplicaPort = "REPLICA_PORT"
	EnvDBName      = "DB_NAME"
	EnvDBSecretARN = "DB_SECRET_ARN"
	// EnvDBUsername is the user to log in as when the secret holds only a password (the
	// composition's master password secret, replicated to the DR region); a JSON secret with
	// "username" and "password" needs none.
	EnvDBUsername     = "DB_USERNAME"
	EnvSSLMode        = "DB_SSLMODE"
	EnvSSLRootCert    = "DB_SSLROOTCERT"
	EnvConnectTimeout = "CONNECT_TIMEOUT"
)

// Environment variables that only the replication-lag monitor reads.
const (
	EnvPairName        = "PAIR_NAME"
	EnvMetricNamespace = "METRIC_NAMESPACE"
	// EnvHeartbeatWait is how long the monitor waits for its heartbeat to show on the replica
	// before it reports the lag from the replica's last replayed commit instead.
	EnvHeartbeatWait = "HEARTBEAT_WAIT"
)

// Environment variables that only the failover Lambda reads.
const (
	EnvAlarmName           = "ALARM_NAME"
	EnvReplicaInstanceID   = "REPLICA_INSTANCE_ID"
	EnvHostedZoneID        = "HOSTED_ZONE_ID"
	EnvRecordName          = "RECORD_NAME"
	EnvRecordSetIdentifier = "RECORD_SET_IDENTIFIER"
	EnvRecordTTL           = "RECORD_TTL"
	EnvTopicARN            = "TOPIC_ARN"
	EnvPromoteTimeout      = "PROMOTE_TIMEOUT"
	EnvPollInterval        = "POLL_INTERVAL"
	// EnvDNSTimeout bounds the Route53 calls after the promotion (reading and UPSERTing the
	// PRIMARY failover record). Route53's control plane is in us-east-1; when they fail or
	// time out the failover still succeeds, and the summary says the record was not updated.
	EnvDNSTimeout = "DNS_TIMEOUT"
)

// Defaults of the optional environment variables.
const (
	DefaultSSLMode        = "verify-full"
	DefaultConnectTimeout = 3 * time.Second
	DefaultHeartbeatWait  = 2 * time.Second
	DefaultRecordTTL      = 30
	DefaultPromoteTimeout = 10 * time.Minute
	DefaultPollInterval   = 10 * time.Second
	DefaultDNSTimeout     = 15 * time.Second
)

// The event the failover Lambda acts on.
const (
	// AlarmEventSource is the EventBridge source of alarm state changes.
	AlarmEventSource = "aws.cloudwatch"
	// AlarmEventDetailType is the EventBridge detail-type of alarm state changes.
	AlarmEventDetailType = "CloudWatch Alarm State Change"
	// AlarmStateAlarm is the state value the failover Lambda acts on.
	AlarmStateAlarm = "ALARM"
)

// Primary probe of the failover Lambda: it refuses to promote when any of these attempts
// reaches a PostgreSQL server at the primary's address.
const (
	PrimaryProbeAttempts = 2
	PrimaryProbeInterval = 1 * time.Second
)

// The failover Lambda's planned switchover. The composition function starts it with a
// provider-aws lambda Invocation whose input is a SwitchoverRequest and reads the
// SwitchoverResult from the Invocation's status.atProvider.result.
const (
	// ActionSwitchover is SwitchoverRequest.Action.
	ActionSwitchover = "switchover"
	// DefaultCatchUpTimeout bounds how long the fenced writer waits for the replica to replay
	// its last WAL before the switchover aborts.
	DefaultCatchUpTimeout = 60 * time.Second
	// SwitchoverTable keeps, on the promoted writer, the result of each switchover by ID, so that
	// the same request again (the Invocation created anew) reports it instead of acting twice.
	SwitchoverTable = "pgdr_switchover"
	// LambdaMaxTimeout is the longest timeout AWS Lambda allows a function.
	LambdaMaxTimeout = 15 * time.Minute
	// SwitchoverOverhead is the part of the failover Lambda's timeout a switchover needs besides
	// the catch-up and PROMOTE_TIMEOUT: connections, fencing and ending sessions (at most 10 s),
	// Route53 (at most 2 × DNS_TIMEOUT) and the SNS publish. A switchover that cannot finish
	// CatchUpTimeoutSeconds + PROMOTE_TIMEOUT + SwitchoverOverhead within the invocation's
	// remaining time is aborted before it fences anything.
	SwitchoverOverhead = 1 * time.Minute
	// MaxCatchUpTimeout is the largest CatchUpTimeoutSeconds the failover Lambda accepts:
	// LambdaMaxTimeout − DefaultPromoteTimeout − SwitchoverOverhead, 4 minutes. A request with
	// more is refused with an error naming the field.
	MaxCatchUpTimeout = LambdaMaxTimeout - DefaultPromoteTimeout - SwitchoverOverhead
)

// SwitchoverRequest asks the failover Lambda for a planned switchover: fence the writer
// (PRIMARY_HOST), wait until the replica (REPLICA_HOST, REPLICA_INSTANCE_ID) has replayed the
// writer's last WAL, promote the replica, point the PRIMARY record at it (best effort).
type SwitchoverRequest struct {
	// Action is ActionSwitchover.
	Action string `json:"action"`
	// ID names this switchover; the same ID again is the same switchover.
	ID string `json:"id"`
	// CatchUpTimeoutSeconds bounds the wait for the replica; 0 is DefaultCatchUpTimeout.
	CatchUpTimeoutSeconds int `json:"catchUpTimeoutSeconds,omitempty"`
}

// Outcomes of a switchover.
const (
	// SwitchoverPromoted: the writer was fenced, the replica replayed its last WAL and was
	// promoted; it takes writes. The old writer stays fenced (read-only).
	SwitchoverPromoted = "Promoted"
	// SwitchoverAborted: nothing was promoted and the writer takes writes again (unfenced), or
	// was never fenced; Reason says why and what to do.
	SwitchoverAborted = "Aborted"
	// SwitchoverIgnored: the request was not acted on because it is Terraform's delete of an
	// Invocation whose lifecycle_scope is CRUD (its input then carries "tf": {"action":
	// "delete"}); a delete never switches over. With the default lifecycle_scope, CREATE_ONLY,
	// the Lambda is not invoked on delete.
	SwitchoverIgnored = "Ignored"
)

// Steps of a switchover, in order.
const (
	StepFenced           = "Fenced"
	StepSessionsEnded    = "SessionsEnded"
	StepCaughtUp         = "CaughtUp"
	StepPromoteRequested = "PromoteRequested"
	StepWritable         = "Writable"
	StepRecordUpdated    = "RecordUpdated"
	StepUnfenced         = "Unfenced"
)

// SwitchoverStep is one step of a switchover and when it finished.
type SwitchoverStep struct {
	Step   string    `json:"step"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// SwitchoverResult is what a switchover did. The Lambda returns it (no function error) for
// both outcomes; an error means a step failed and the request may be sent again.
type SwitchoverResult struct {
	Action  string `json:"action"`
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// FencedLSN is the writer's WAL position once it was fenced and its other sessions had
	// ended: every commit acknowledged before the fence ends at or below it. (It is read as
	// pg_current_wal_insert_lsn() inside a transaction whose synchronous commit then flushes
	// the WAL past it, so the replica always receives it.)
	FencedLSN string `json:"fencedLsn,omitempty"`
	// ReplicaLSN is the replica's pg_last_wal_replay_lsn() when promotion was requested.
	ReplicaLSN string `json:"replicaLsn,omitempty"`
	// WriteUnavailableMs is from fencing the writer to the promoted replica's first commit
	// (Promoted), or to unfencing the writer (Aborted).
	WriteUnavailableMs int64 `json:"writeUnavailableMs,omitempty"`
	// CatchUpMs is from reading FencedLSN to the replica having replayed it.
	CatchUpMs int64 `json:"catchUpMs,omitempty"`
	// FencedDatabases are the databases whose default_transaction_read_only the switchover set
	// (on the writer, and by replication on the replica, where it resets them once promoted).
	// A database that was read-only before the switchover is not among them and is left as it is.
	FencedDatabases []string `json:"fencedDatabases,omitempty"`
	// Endpoint is the promoted instance's endpoint (Promoted).
	Endpoint   string           `json:"endpoint,omitempty"`
	DNSUpdated *bool            `json:"dnsUpdated,omitempty"`
	DNSError   string           `json:"dnsError,omitempty"`
	Steps      []SwitchoverStep `json:"steps,omitempty"`
}
