package v1alpha1

// Defaults of the spec. The XRD's schema carries the same values (kubebuilder:default markers);
// a test checks that the two agree.
const (
	DefaultMajorVersion          = 16
	DefaultInstanceClass         = "db.r6g.large"
	DefaultStorageGB             = 100
	DefaultBackupRetentionDays   = 7
	DefaultBackupWindow          = "03:00-04:00"
	DefaultMaintenanceWindow     = "sun:05:00-sun:06:00"
	DefaultDatabaseName          = "app"
	DefaultUsername              = "pgadmin"
	DefaultPrimaryCIDR           = "10.0.0.0/16"
	DefaultDRCIDR                = "10.1.0.0/16"
	DefaultSubnetPrefix          = 24
	DefaultAZCount               = 3
	DefaultNATGateways           = 2
	DefaultNoncurrentVersionDays = 30
	DefaultReplicationLagSeconds = 60
	DefaultReplicationLagBytes   = 268435456
	DefaultCPUPercent            = 80
	DefaultFreeStoragePercent    = 10
	DefaultFreeMemoryMB          = 256
	DefaultMaxConnections        = 500
	DefaultLatencyMillis         = 50
	DefaultLagCheckMinutes       = 1
	DefaultZoneName              = "pgdr.internal"
	DefaultRecordName            = "db"
	// DefaultCatchUpTimeoutSeconds is how long a switchover waits for the replica by default.
	DefaultCatchUpTimeoutSeconds = 60
	// StorageCeilingFactor is MaxStorageGB's default as a multiple of StorageGB.
	StorageCeilingFactor = 4
)

// Default fills every unset field of the spec with its default, as the API server does from the
// XRD's schema. The function calls it too, because `crossplane render` has no API server.
func (s *XPostgresDRSpec) Default() {
	if s.ActiveRegion == "" {
		s.ActiveRegion = s.Regions.Primary
	}
	p := &s.Postgres
	setInt(&p.MajorVersion, DefaultMajorVersion)
	setString(&p.InstanceClass, DefaultInstanceClass)
	setString(&p.DRInstanceClass, p.InstanceClass)
	setInt(&p.StorageGB, DefaultStorageGB)
	setInt(&p.MaxStorageGB, p.StorageGB*StorageCeilingFactor)
	setBool(&p.MultiAZ, true)
	setInt(&p.BackupRetentionDays, DefaultBackupRetentionDays)
	setString(&p.BackupWindow, DefaultBackupWindow)
	setString(&p.MaintenanceWindow, DefaultMaintenanceWindow)
	setString(&p.DatabaseName, DefaultDatabaseName)
	setString(&p.Username, DefaultUsername)

	n := &s.Network
	if n.Mode == "" {
		n.Mode = NetworkManaged
	}
	setString(&n.PrimaryCIDR, DefaultPrimaryCIDR)
	setString(&n.DRCIDR, DefaultDRCIDR)
	setInt(&n.SubnetPrefix, DefaultSubnetPrefix)
	setInt(&n.AZCount, DefaultAZCount)
	setInt(&n.NATGateways, DefaultNATGateways)

	setInt(&s.Backups.NoncurrentVersionDays, DefaultNoncurrentVersionDays)
	setBool(&s.Backups.ReplicateToDR, true)

	m := &s.Monitoring
	setInt(&m.ReplicationLagSeconds, DefaultReplicationLagSeconds)
	if m.ReplicationLagBytes == 0 {
		m.ReplicationLagBytes = DefaultReplicationLagBytes
	}
	setInt(&m.CPUPercent, DefaultCPUPercent)
	setInt(&m.FreeStoragePercent, DefaultFreeStoragePercent)
	setInt(&m.FreeMemoryMB, DefaultFreeMemoryMB)
	setInt(&m.MaxConnections, DefaultMaxConnections)
	setInt(&m.LatencyMillis, DefaultLatencyMillis)
	setInt(&m.LagCheckMinutes, DefaultLagCheckMinutes)

	f := &s.Failover
	if f.Mode == "" {
		f.Mode = FailoverManual
	}
	setString(&f.ZoneName, DefaultZoneName)
	setString(&f.RecordName, DefaultRecordName)

	setBool(&s.DeletionProtection, true)
	setInt(&s.Switchover.CatchUpTimeoutSeconds, DefaultCatchUpTimeoutSeconds)
	setInt(&s.Generations.Primary, 1)
	setInt(&s.Generations.DR, 1)
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setBool(p **bool, v bool) {
	if *p == nil {
		*p = &v
	}
}
