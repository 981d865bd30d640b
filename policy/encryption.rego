package pgdr.security

# Alarm topics and log groups are encrypted with the pair's KMS key.

deny contains msg(t, "sns-kms", "spec.forProvider has no kmsMasterKeyId: the topic must be encrypted with the pair's KMS key") if {
	some t in of_kind("sns", "Topic")
	not has_value(fp(t), ["kmsMasterKeyId"])
}

deny contains msg(g, "logs-kms", "spec.forProvider has no kmsKeyId (nor a reference or selector for one): the log group must be encrypted with the pair's KMS key") if {
	some g in of_kind("cloudwatchlogs", "Group")
	not has_value(fp(g), ["kmsKeyId", "kmsKeyIdRef", "kmsKeyIdSelector"])
}
