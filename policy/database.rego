package pgdr.security

# Every RDS instance: encrypted, private, deletion-protected (unless the XR turns that off), a final
# snapshot on deletion, and TLS forced by its parameter group.

instances := of_kind("rds", "Instance")

deny contains msg(i, "rds-storage-encrypted", sprintf("spec.forProvider.storageEncrypted is %v, want true", [v])) if {
	some i in instances
	v := object.get(fp(i), "storageEncrypted", null)
	v != true
}

deny contains msg(i, "rds-publicly-accessible", sprintf("spec.forProvider.publiclyAccessible is %v, want false", [v])) if {
	some i in instances
	v := object.get(fp(i), "publiclyAccessible", null)
	v != false
}

deny contains msg(i, "rds-deletion-protection", sprintf("spec.forProvider.deletionProtection is %v, want true: the XR's spec.deletionProtection is not false, and spec.retireInstance does not name it", [v])) if {
	object.get(xr, ["spec", "deletionProtection"], true) != false
	some i in instances
	not retiring(i)
	v := object.get(fp(i), "deletionProtection", null)
	v != true
}

# The one instance whose protection may go while the XR's stays on: the one the user named for
# retirement (a fenced old writer after a fail-back).
retiring(i) if {
	id := object.get(fp(i), "identifier", "")
	id != ""
	id == object.get(xr, ["spec", "retireInstance"], "")
}

# A read replica is the exception: RDS refuses DeleteDBInstance of a read replica that names a
# final snapshot ("Can't be specified when deleting a read replica",
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html).
replica(i) if object.get(fp(i), "replicateSourceDb", "") != ""

deny contains msg(i, "rds-replica-final-snapshot", "a read replica must skip the final snapshot and name none: RDS refuses to delete it otherwise") if {
	some i in instances
	replica(i)
	object.get(fp(i), "skipFinalSnapshot", null) != true
}

deny contains msg(i, "rds-replica-final-snapshot", "a read replica must skip the final snapshot and name none: RDS refuses to delete it otherwise") if {
	some i in instances
	replica(i)
	object.get(fp(i), "finalSnapshotIdentifier", "") != ""
}

deny contains msg(i, "rds-skip-final-snapshot", sprintf("spec.forProvider.skipFinalSnapshot is %v, want false", [v])) if {
	some i in instances
	not replica(i)
	v := object.get(fp(i), "skipFinalSnapshot", null)
	v != false
}

# forces_ssl holds for a parameter group that sets rds.force_ssl to 1.
forces_ssl(g) if {
	some p in object.get(fp(g), "parameter", [])
	p.name == "rds.force_ssl"
	sprintf("%v", [p.value]) == "1"
}

deny contains msg(i, "rds-force-ssl", "no parameterGroupNameSelector selects a composed ParameterGroup, so rds.force_ssl = 1 cannot be verified") if {
	some i in instances
	selected(i, "parameterGroupNameSelector") == ""
}

deny contains msg(i, "rds-force-ssl", sprintf("its parameter group %s is not composed, so rds.force_ssl = 1 cannot be verified", [pg])) if {
	some i in instances
	pg := selected(i, "parameterGroupNameSelector")
	pg != ""
	count([g | some g in of_kind("rds", "ParameterGroup"); name(g) == pg]) == 0
}

deny contains msg(i, "rds-force-ssl", sprintf("its parameter group %s does not set rds.force_ssl = 1", [pg])) if {
	some i in instances
	pg := selected(i, "parameterGroupNameSelector")
	some g in of_kind("rds", "ParameterGroup")
	name(g) == pg
	not forces_ssl(g)
}
