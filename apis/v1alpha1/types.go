package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// XPostgresDR is PostgreSQL with a disaster-recovery copy in a second AWS region: a Multi-AZ
// primary, a cross-region read replica, encrypted backups replicated across regions, monitoring
// and a failover path that works when the primary region is gone.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=crossplane
type XPostgresDR struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   XPostgresDRSpec   `json:"spec"`
	Status XPostgresDRStatus `json:"status,omitempty"`
}

// XPostgresDRSpec is what an application team asks for.
// +kubebuilder:validation:XValidation:rule="self.regions.primary != self.regions.dr",message="spec.regions.primary and spec.regions.dr must differ: choose a DR region other than the primary region"
// +kubebuilder:validation:XValidation:rule="!has(self.activeRegion) || self.activeRegion == self.regions.primary || self.activeRegion == self.regions.dr",message="spec.activeRegion must be spec.regions.primary or spec.regions.dr"
type XPostgresDRSpec struct {
	// Regions says where the primary database and its disaster-recovery copy live. Both are
	// fixed once the databases exist: moving a database to another region replaces it.
	Regions Regions `json:"regions"`

	// ActiveRegion is the region whose database takes writes. Empty means the primary region.
	// Set it to the region of the replica for a planned switchover: the writer is fenced, the
	// replica replays the writer's last WAL and is promoted, and DNS, alarms, backups and the
	// failover path turn around; nothing acknowledged is lost. If the replica does not catch up
	// within spec.switchover.catchUpTimeoutSeconds nothing changes and a condition says why.
	// +optional
	ActiveRegion string `json:"activeRegion,omitempty"`

	// Switchover configures a planned switchover.
	// +kubebuilder:default={}
	// +optional
	Switchover Switchover `json:"switchover,omitempty"`

	// Generations number each region's database instance. Fail-back: once the writer is in
	// one region, raise the other region's generation by one to re-seed it: a new read replica
	// of the writer is created there under a new name, and the old instance is kept, fenced,
	// until spec.retireInstance names it. A generation can only grow, by one at a time, and
	// never in the writer's region.
	// +kubebuilder:default={}
	// +optional
	Generations Generations `json:"generations,omitempty"`

	// RetireInstance confirms the deletion of a fenced old instance by its RDS identifier
	// (status.<region>.retainedInstance). It is honoured once the instance that re-seeded its
	// region is Ready: its deletion protection is turned off, then it is deleted with a final
	// snapshot.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	RetireInstance string `json:"retireInstance,omitempty"`

	// Postgres configures the database engine and instances.
	// +kubebuilder:default={}
	// +optional
	Postgres Postgres `json:"postgres,omitempty"`

	// Network configures the VPCs of both regions.
	// +kubebuilder:default={}
	// +optional
	Network Network `json:"network,omitempty"`

	// Access says which clients reach the databases on 5432 and in which VPCs the writer's
	// stable name resolves. Without it, only the failover path and (in Managed mode) the two
	// VPCs reach the databases.
	// +kubebuilder:default={}
	// +optional
	Access Access `json:"access,omitempty"`

	// Backups configures the S3 backup buckets.
	// +kubebuilder:default={}
	// +optional
	Backups Backups `json:"backups,omitempty"`

	// Monitoring configures alarms and who is notified.
	// +kubebuilder:default={}
	// +optional
	Monitoring Monitoring `json:"monitoring,omitempty"`

	// Failover configures how the DR copy takes over and the DNS name clients use.
	// +kubebuilder:default={}
	// +optional
	Failover Failover `json:"failover,omitempty"`

	// DeletionProtection keeps AWS from deleting the databases. Turn it off only to tear down.
	// +kubebuilder:default=true
	// +optional
	DeletionProtection *bool `json:"deletionProtection,omitempty"`

	// ProviderConfigName is the provider-aws ProviderConfig to use, a Kubernetes object name
	// (DNS-1123 subdomain). Empty means the one the platform team set in the function's Input.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$`
	// +optional
	ProviderConfigName string `json:"providerConfigName,omitempty"`
}

// Regions names the primary and DR regions.
type Regions struct {
	// Primary is the AWS region of the primary database, e.g. us-east-1.
	// +kubebuilder:validation:Pattern=`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.regions.primary cannot change once set: moving the primary replaces the database"
	Primary string `json:"primary"`

	// DR is the AWS region of the disaster-recovery replica, e.g. us-east-2.
	// +kubebuilder:validation:Pattern=`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.regions.dr cannot change once set: moving the replica replaces it"
	DR string `json:"dr"`
}

// Postgres configures the database engine and instances.
type Postgres struct {
	// MajorVersion is the PostgreSQL major version.
	// +kubebuilder:validation:Enum=13;14;15;16;17
	// +kubebuilder:default=16
	// +optional
	MajorVersion int `json:"majorVersion,omitempty"`

	// InstanceClass is the RDS instance class of the primary, e.g. db.r6g.large.
	// +kubebuilder:validation:Pattern=`^db\.[a-z0-9]+\.[a-z0-9]+$`
	// +kubebuilder:default="db.r6g.large"
	// +optional
	InstanceClass string `json:"instanceClass,omitempty"`

	// DRInstanceClass is the instance class of the DR replica. Empty means the primary's.
	// +kubebuilder:validation:Pattern=`^db\.[a-z0-9]+\.[a-z0-9]+$`
	// +optional
	DRInstanceClass string `json:"drInstanceClass,omitempty"`

	// StorageGB is the allocated gp3 storage in GiB.
	// +kubebuilder:validation:Minimum=20
	// +kubebuilder:validation:Maximum=65536
	// +kubebuilder:default=100
	// +optional
	StorageGB int `json:"storageGB,omitempty"`

	// MaxStorageGB is the ceiling storage autoscaling may grow to, in GiB. Zero means four times
	// StorageGB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65536
	// +optional
	MaxStorageGB int `json:"maxStorageGB,omitempty"`

	// MultiAZ keeps a synchronous standby of the primary in a second availability zone.
	// +kubebuilder:default=true
	// +optional
	MultiAZ *bool `json:"multiAZ,omitempty"`

	// BackupRetentionDays is how long automated backups are kept. At least 1: a read replica
	// needs automated backups on its source.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=35
	// +kubebuilder:default=7
	// +optional
	BackupRetentionDays int `json:"backupRetentionDays,omitempty"`

	// BackupWindow is the daily UTC window for automated backups, hh24:mi-hh24:mi.
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`
	// +kubebuilder:default="03:00-04:00"
	// +optional
	BackupWindow string `json:"backupWindow,omitempty"`

	// MaintenanceWindow is the weekly UTC maintenance window, ddd:hh24:mi-ddd:hh24:mi.
	// +kubebuilder:validation:Pattern=`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`
	// +kubebuilder:default="sun:05:00-sun:06:00"
	// +optional
	MaintenanceWindow string `json:"maintenanceWindow,omitempty"`

	// DatabaseName is the database created in the instance.
	// +kubebuilder:validation:Pattern=`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`
	// +kubebuilder:default="app"
	// +optional
	DatabaseName string `json:"databaseName,omitempty"`

	// Username is the master user name.
	// +kubebuilder:validation:Pattern=`^[a-zA-Z][a-zA-Z0-9_]{0,15}$`
	// +kubebuilder:validation:XValidation:rule="!(self in ['postgres', 'rdsadmin', 'admin'])",message="spec.postgres.username must not be a reserved name (postgres, rdsadmin, admin): choose another user name"
	// +kubebuilder:default="pgadmin"
	// +optional
	Username string `json:"username,omitempty"`

	// Parameters are extra PostgreSQL parameters for both instances' parameter groups, e.g.
	// work_mem: "65536". Names are lowercase, with a dot after an extension's name
	// (pg_stat_statements.track). rds.force_ssl cannot be turned off.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule=`self.all(k, k.matches('^[a-z][a-z0-9_]*([.][a-z][a-z0-9_]*)*$'))`,message="spec.postgres.parameters names must be lowercase PostgreSQL parameter names, such as work_mem or pg_stat_statements.track"
	// +kubebuilder:validation:XValidation:rule="!('rds.force_ssl' in self) || self['rds.force_ssl'] == '1'",message="spec.postgres.parameters rds.force_ssl must stay 1: TLS is enforced"
	// +optional
	Parameters map[string]string `json:"parameters,omitempty"`
}

// Network configures the VPCs of both regions: Managed (the function builds them) or Existing
// (the team's own VPCs and subnets).
// +kubebuilder:validation:XValidation:rule="!has(self.mode) || self.mode != 'Existing' || has(self.existing)",message="spec.network.existing is required when spec.network.mode is Existing: give each region's VPC and subnets"
// +kubebuilder:validation:XValidation:rule="!has(self.primaryCIDR) || !has(self.drCIDR) || self.primaryCIDR != self.drCIDR",message="spec.network.primaryCIDR and spec.network.drCIDR must differ: peered VPCs cannot overlap"
// +kubebuilder:validation:XValidation:rule="!has(self.natGateways) || !has(self.azCount) || self.natGateways <= self.azCount",message="spec.network.natGateways must not exceed spec.network.azCount"
type Network struct {
	// Mode is Managed (the function builds a VPC in each region, peered) or Existing (the
	// databases and Lambdas go into the VPCs and subnets spec.network.existing gives; the
	// function composes no VPC, subnet, NAT gateway, internet gateway or route table). The
	// fields below Existing apply to Managed only.
	// +kubebuilder:validation:Enum=Managed;Existing
	// +kubebuilder:default=Managed
	// +optional
	Mode NetworkMode `json:"mode,omitempty"`

	// Existing names the team's networks, required in Existing mode.
	// +optional
	Existing *ExistingNetwork `json:"existing,omitempty"`

	// PrimaryCIDR is the IPv4 CIDR of the primary region's VPC.
	// +kubebuilder:validation:Pattern=`^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$`
	// +kubebuilder:default="10.0.0.0/16"
	// +optional
	PrimaryCIDR string `json:"primaryCIDR,omitempty"`

	// DRCIDR is the IPv4 CIDR of the DR region's VPC. It must not overlap PrimaryCIDR.
	// +kubebuilder:validation:Pattern=`^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$`
	// +kubebuilder:default="10.1.0.0/16"
	// +optional
	DRCIDR string `json:"drCIDR,omitempty"`

	// SubnetPrefix is the prefix length of every subnet, e.g. 24 for /24.
	// +kubebuilder:validation:Minimum=16
	// +kubebuilder:validation:Maximum=28
	// +kubebuilder:default=24
	// +optional
	SubnetPrefix int `json:"subnetPrefix,omitempty"`

	// AZCount is how many availability zones each region's subnets span.
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=6
	// +kubebuilder:default=3
	// +optional
	AZCount int `json:"azCount,omitempty"`

	// NATGateways is how many NAT gateways each region has, spread over the AZs: 1 is cheapest,
	// one per AZ survives the loss of any AZ.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=6
	// +kubebuilder:default=2
	// +optional
	NATGateways int `json:"natGateways,omitempty"`

	// PrimaryAZs overrides the availability zones of the primary region, e.g. [us-east-1a,
	// us-east-1b, us-east-1c]. Empty means the region's first AZCount zones.
	// +kubebuilder:validation:MaxItems=6
	// +optional
	PrimaryAZs []string `json:"primaryAZs,omitempty"`

	// DRAZs overrides the availability zones of the DR region.
	// +kubebuilder:validation:MaxItems=6
	// +optional
	DRAZs []string `json:"drAZs,omitempty"`
}

// NetworkMode says who owns the VPCs.
type NetworkMode string

// Network modes.
const (
	NetworkManaged  NetworkMode = "Managed"
	NetworkExisting NetworkMode = "Existing"
)

// Connectivity says how the two existing VPCs reach each other.
type Connectivity string

// Connectivities.
const (
	// ConnectivityConnected: the VPCs are connected already (a peering or a transit gateway,
	// with routes both ways); the function adds nothing.
	ConnectivityConnected Connectivity = "Connected"
	// ConnectivityPeer: the function peers the two VPCs and adds the routes to the route
	// tables each region gives.
	ConnectivityPeer Connectivity = "Peer"
)

// Endpoints says whether the Lambdas' VPC has the interface endpoints they use.
type Endpoints string

// Endpoint choices.
const (
	// EndpointsExisting: the VPC has them (or the Lambda subnets reach the public endpoints
	// through NAT); the function adds none.
	EndpointsExisting Endpoints = "Existing"
	// EndpointsCreate: the function adds them, with private DNS, which then answers for the
	// whole VPC.
	EndpointsCreate Endpoints = "Create"
)

// ExistingNetwork is the team's network in both regions.
// +kubebuilder:validation:XValidation:rule="self.connectivity != 'Peer' || (has(self.primary.routeTableIDs) && has(self.dr.routeTableIDs))",message="spec.network.existing.primary.routeTableIDs and dr.routeTableIDs are required when connectivity is Peer: name the route tables of the subnets that talk across the peering"
// +kubebuilder:validation:XValidation:rule="self.primary.vpcID != self.dr.vpcID",message="spec.network.existing.primary.vpcID and dr.vpcID must differ: a VPC lives in one region"
type ExistingNetwork struct {
	// Primary is the network in spec.regions.primary.
	Primary ExistingRegionNetwork `json:"primary"`

	// DR is the network in spec.regions.dr.
	DR ExistingRegionNetwork `json:"dr"`

	// Connectivity is Connected (the VPCs already reach each other, by peering or a transit
	// gateway) or Peer (the function peers them and routes the given route tables).
	// +kubebuilder:validation:Enum=Connected;Peer
	Connectivity Connectivity `json:"connectivity"`

	// InterfaceEndpoints is Existing (the Lambda subnets already reach Secrets Manager,
	// CloudWatch, CloudWatch Logs and SNS, by interface endpoints or NAT) or Create (the
	// function adds those interface endpoints with private DNS to the VPC the failover path
	// runs in; private DNS then answers for every workload in that VPC).
	// +kubebuilder:validation:Enum=Existing;Create
	InterfaceEndpoints Endpoints `json:"interfaceEndpoints"`
}

// ExistingRegionNetwork is one region's existing VPC and subnets.
type ExistingRegionNetwork struct {
	// VPCID is the VPC's id, e.g. vpc-0123456789abcdef0. It cannot change while a database
	// lives in it.
	// +kubebuilder:validation:Pattern=`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`
	VPCID string `json:"vpcID"`

	// CIDRBlock is the VPC's IPv4 CIDR (its primary block): the other region's Lambdas
	// connect from it, and a Peer connectivity routes to it.
	// +kubebuilder:validation:Pattern=`^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$`
	CIDRBlock string `json:"cidrBlock"`

	// DatabaseSubnets are the private subnets of the DB subnet group, in at least two
	// availability zones.
	DatabaseSubnets SubnetSelection `json:"databaseSubnets"`

	// LambdaSubnets are the private subnets the Lambdas run in when the failover path lives
	// in this region. They need a way to Secrets Manager, CloudWatch, CloudWatch Logs and SNS
	// (interface endpoints or NAT), and NAT (or a transit gateway to it) for RDS and Route53,
	// which are called by their public endpoints.
	LambdaSubnets SubnetSelection `json:"lambdaSubnets"`

	// RouteTableIDs are the route tables that get a route to the other region's VPC over the
	// peering, when connectivity is Peer: those of the database and Lambda subnets.
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:Pattern=`^rtb-([0-9a-f]{8}|[0-9a-f]{17})$`
	// +optional
	RouteTableIDs []string `json:"routeTableIDs,omitempty"`
}

// SubnetSelection chooses subnets by id, or by the labels of the provider-aws Subnet managed
// resources that stand for them (a platform's network Composition labels its subnets so).
// +kubebuilder:validation:XValidation:rule="has(self.ids) != has(self.matchLabels)",message="give either ids or matchLabels, not both"
type SubnetSelection struct {
	// IDs are subnet ids, e.g. subnet-0123456789abcdef0.
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Pattern=`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`
	// +optional
	IDs []string `json:"ids,omitempty"`

	// MatchLabels selects the ec2.aws.upbound.io Subnet managed resources carrying all these
	// labels. Crossplane references match Kubernetes labels; AWS tags cannot be queried.
	// +kubebuilder:validation:MinProperties=1
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// Access says which clients reach the databases and where their name resolves.
type Access struct {
	// ClientCIDRs are the IPv4 ranges allowed to connect to 5432 on the writer and the
	// replica in both regions, e.g. the application VPCs' or their pod subnets' CIDRs.
	// 0.0.0.0/0 is refused.
	// +kubebuilder:validation:MaxItems=40
	// +kubebuilder:validation:XValidation:rule="self.all(c, !c.endsWith('/0'))",message="spec.access.clientCIDRs must not hold a /0 range such as 0.0.0.0/0: name the clients' own ranges"
	// +kubebuilder:validation:items:Pattern=`^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$`
	// +optional
	ClientCIDRs []string `json:"clientCIDRs,omitempty"`

	// Primary is the access in spec.regions.primary.
	// +kubebuilder:default={}
	// +optional
	Primary RegionAccess `json:"primary,omitempty"`

	// DR is the access in spec.regions.dr.
	// +kubebuilder:default={}
	// +optional
	DR RegionAccess `json:"dr,omitempty"`
}

// RegionAccess is the access in one region.
type RegionAccess struct {
	// SecurityGroupIDs are security groups of this region whose members may connect to 5432 on
	// this region's database, e.g. an EKS cluster's node or pod security group. A security
	// group of another region cannot be referenced.
	// +kubebuilder:validation:MaxItems=15
	// +kubebuilder:validation:items:Pattern=`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`
	// +optional
	SecurityGroupIDs []string `json:"securityGroupIDs,omitempty"`

	// ZoneVPCIDs are VPCs of this region the private zone is associated with, so that the
	// writer's stable name (spec.failover.recordName in spec.failover.zoneName) resolves in
	// them. The VPCs the databases live in are always associated.
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:Pattern=`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`
	// +optional
	ZoneVPCIDs []string `json:"zoneVPCIDs,omitempty"`
}

// Backups configures the S3 backup buckets of both regions.
type Backups struct {
	// NoncurrentVersionDays is how long replaced or deleted backup object versions are kept.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3650
	// +kubebuilder:default=30
	// +optional
	NoncurrentVersionDays int `json:"noncurrentVersionDays,omitempty"`

	// ReplicateToDR copies every backup object to the DR region's bucket.
	// +kubebuilder:default=true
	// +optional
	ReplicateToDR *bool `json:"replicateToDR,omitempty"`
}

// Monitoring configures alarm thresholds and notifications.
type Monitoring struct {
	// ReplicationLagSeconds is the replica lag, in seconds, above which the replication alarm
	// fires.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=60
	// +optional
	ReplicationLagSeconds int `json:"replicationLagSeconds,omitempty"`

	// ReplicationLagBytes is the replica byte lag above which the replication alarm fires.
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:default=268435456
	// +optional
	ReplicationLagBytes int64 `json:"replicationLagBytes,omitempty"`

	// CPUPercent is the CPU utilisation above which the CPU alarm fires.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=80
	// +optional
	CPUPercent int `json:"cpuPercent,omitempty"`

	// FreeStoragePercent is the free storage, as a percentage of allocated storage, below which
	// the storage alarm fires.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=90
	// +kubebuilder:default=10
	// +optional
	FreeStoragePercent int `json:"freeStoragePercent,omitempty"`

	// FreeMemoryMB is the freeable memory, in MiB, below which the memory alarm fires.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=256
	// +optional
	FreeMemoryMB int `json:"freeMemoryMB,omitempty"`

	// MaxConnections is the connection count above which the connections alarm fires.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=500
	// +optional
	MaxConnections int `json:"maxConnections,omitempty"`

	// LatencyMillis is the read or write latency, in milliseconds, above which the latency
	// alarms fire.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=50
	// +optional
	LatencyMillis int `json:"latencyMillis,omitempty"`

	// LagCheckMinutes is how often the replication-lag monitor runs.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	// +kubebuilder:default=1
	// +optional
	LagCheckMinutes int `json:"lagCheckMinutes,omitempty"`

	// NotificationEmails receive every alarm of both regions by email.
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:Pattern=`^[^@\s]+@[^@\s]+\.[^@\s]+$`
	// +optional
	NotificationEmails []string `json:"notificationEmails,omitempty"`
}

// FailoverMode says what happens when the primary is unhealthy.
// +kubebuilder:validation:Enum=Manual;Automatic
type FailoverMode string

// Failover modes.
const (
	// FailoverManual notifies the operators; a person decides to switch.
	FailoverManual FailoverMode = "Manual"
	// FailoverAutomatic promotes the DR replica when the primary is unhealthy.
	FailoverAutomatic FailoverMode = "Automatic"
)

// Failover configures how the DR copy takes over.
type Failover struct {
	// Mode is Manual (notify only) or Automatic (the failover Lambda promotes the replica).
	// +kubebuilder:default=Manual
	// +optional
	Mode FailoverMode `json:"mode,omitempty"`

	// ZoneName is the private hosted zone clients resolve the database name in. Ignored when
	// ZoneID names an existing zone.
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`
	// +kubebuilder:default="pgdr.internal"
	// +optional
	ZoneName string `json:"zoneName,omitempty"`

	// ZoneID is an existing Route53 hosted zone to put the record in instead of a new one.
	// +kubebuilder:validation:Pattern=`^Z[A-Z0-9]{1,31}$`
	// +optional
	ZoneID string `json:"zoneID,omitempty"`

	// RecordName is the name, inside the zone, that points at the active database.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +kubebuilder:default="db"
	// +optional
	RecordName string `json:"recordName,omitempty"`
}

// Switchover configures a planned switchover.
type Switchover struct {
	// CatchUpTimeoutSeconds bounds how long the fenced writer waits for the replica to replay
	// its last WAL; past it the switchover aborts and the writer takes writes again.
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=240
	// +kubebuilder:default=60
	// +optional
	CatchUpTimeoutSeconds int `json:"catchUpTimeoutSeconds,omitempty"`
}

// Generations number the database instance of each region, from 1.
type Generations struct {
	// Primary is the generation of the instance in spec.regions.primary.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	Primary int `json:"primary,omitempty"`
	// DR is the generation of the instance in spec.regions.dr.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	DR int `json:"dr,omitempty"`
}

// XPostgresDRStatus is what the function reports back.
type XPostgresDRStatus struct {
	// Phase is Provisioning, Replicating, Degraded, SwitchingOver, FailingOver, FailedOver or
	// Reseeding.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// ActiveRegion is the region whose database takes writes now.
	// +optional
	ActiveRegion string `json:"activeRegion,omitempty"`

	// Primary is what exists in the primary region.
	// +optional
	Primary RegionStatus `json:"primary,omitempty"`

	// DR is what exists in the DR region.
	// +optional
	DR RegionStatus `json:"dr,omitempty"`

	// WaitingFor lists what the composition waits for before it can create the rest.
	// +optional
	WaitingFor []string `json:"waitingFor,omitempty"`

	// Switchover is the last planned switchover: its steps, the fenced LSN, the replica's LSN
	// at promotion and how long writes were unavailable.
	// +optional
	Switchover *SwitchoverStatus `json:"switchover,omitempty"`
}

// SwitchoverStatus is what a planned switchover did.
type SwitchoverStatus struct {
	// ID names the switchover.
	ID string `json:"id,omitempty"`
	// From is the region of the writer it fenced.
	From string `json:"from,omitempty"`
	// To is the region of the replica it promoted.
	To string `json:"to,omitempty"`
	// State is Running, Promoted or Aborted.
	State string `json:"state,omitempty"`
	// Reason says why it aborted and what to do.
	// +optional
	Reason string `json:"reason,omitempty"`
	// FencedLSN is the writer's WAL position once it was fenced.
	// +optional
	FencedLSN string `json:"fencedLsn,omitempty"`
	// ReplicaLSN is the replica's replayed WAL position when it was promoted.
	// +optional
	ReplicaLSN string `json:"replicaLsn,omitempty"`
	// WriteUnavailableMillis is how long no instance took writes.
	// +optional
	WriteUnavailableMillis int64 `json:"writeUnavailableMillis,omitempty"`
	// CatchUpMillis is how long the replica took to replay the fenced LSN.
	// +optional
	CatchUpMillis int64 `json:"catchUpMillis,omitempty"`
	// Steps are the steps done and when.
	// +optional
	Steps []SwitchoverStep `json:"steps,omitempty"`
}

// SwitchoverStep is one step of a switchover.
type SwitchoverStep struct {
	// Step names the step.
	Step string `json:"step"`
	// At is when it finished, RFC 3339.
	At string `json:"at"`
	// Detail says more.
	// +optional
	Detail string `json:"detail,omitempty"`
}

// Phase of the database pair.
// +kubebuilder:validation:Enum=Provisioning;Replicating;Degraded;FailingOver;FailedOver;SwitchingOver;Reseeding
type Phase string

// Phases.
const (
	PhaseProvisioning Phase = "Provisioning"
	PhaseReplicating  Phase = "Replicating"
	PhaseDegraded     Phase = "Degraded"
	PhaseFailingOver  Phase = "FailingOver"
	PhaseFailedOver   Phase = "FailedOver"
	// PhaseSwitchingOver: a planned switchover runs.
	PhaseSwitchingOver Phase = "SwitchingOver"
	// PhaseReseeding: the writer's old region gets a new replica.
	PhaseReseeding Phase = "Reseeding"
)

// RegionStatus is what exists in one region.
type RegionStatus struct {
	// Region is the AWS region.
	// +optional
	Region string `json:"region,omitempty"`
	// VPCID is the VPC's id.
	// +optional
	VPCID string `json:"vpcId,omitempty"`
	// SubnetIDs are the subnet ids per tier (public, database, lambda).
	// +optional
	SubnetIDs map[string][]string `json:"subnetIds,omitempty"`
	// Endpoint is the database endpoint address.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// InstanceARN is the database instance's ARN.
	// +optional
	InstanceARN string `json:"instanceArn,omitempty"`
	// Instance is the RDS identifier of the region's current instance.
	// +optional
	Instance string `json:"instance,omitempty"`
	// Generation is the current instance's generation.
	// +optional
	Generation int `json:"generation,omitempty"`
	// InstanceRole is Writer, Replica, Promoted (out of band, not yet in the spec) or Fenced
	// (an old writer: read-only, closed to clients, kept).
	// +optional
	InstanceRole string `json:"instanceRole,omitempty"`
	// RetainedInstance is the fenced old instance kept after a re-seed, until
	// spec.retireInstance names it.
	// +optional
	RetainedInstance string `json:"retainedInstance,omitempty"`
	// Bucket is the backup bucket's name.
	// +optional
	Bucket string `json:"bucket,omitempty"`
	// TopicARN is the alarm topic's ARN.
	// +optional
	TopicARN string `json:"topicArn,omitempty"`
}
