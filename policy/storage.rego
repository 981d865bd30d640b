package pgdr.security

# Every S3 bucket: public access blocked, SSE-KMS with bucket keys, TLS only, never force-destroyed.
# A bucket's configuration resources are found by their bucketSelector, whose pgdr.io/resource
# label is the bucket's composition-resource name.

buckets := of_kind("s3", "Bucket")

# selects holds when a bucket configuration resource selects the bucket.
selects(part, bucket) if fp(part).bucketSelector.matchLabels["pgdr.io/resource"] == name(bucket)

deny contains msg(b, "s3-force-destroy", sprintf("spec.forProvider.forceDestroy is %v, want false: deleting the XR must not empty the backups", [v])) if {
	some b in buckets
	v := object.get(fp(b), "forceDestroy", null)
	v != false
}

pab_flags := ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]

blocks_public(p) if {
	every f in pab_flags {
		object.get(fp(p), f, null) == true
	}
}

public_blocked(b) if {
	some p in of_kind("s3", "BucketPublicAccessBlock")
	selects(p, b)
	blocks_public(p)
}

deny contains msg(b, "s3-public-access-block", "no BucketPublicAccessBlock selects it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true") if {
	some b in buckets
	not public_blocked(b)
}

deny contains msg(p, "s3-public-access-block", sprintf("%s is %v, want true", [f, v])) if {
	some p in of_kind("s3", "BucketPublicAccessBlock")
	some f in pab_flags
	v := object.get(fp(p), f, null)
	v != true
}

# sse_default is a rule's default encryption (an object in v1beta2, a list of one in v1beta1).
sse_default(rule) := d if {
	d := rule.applyServerSideEncryptionByDefault
	is_object(d)
}

sse_default(rule) := rule.applyServerSideEncryptionByDefault[0] if is_array(rule.applyServerSideEncryptionByDefault)

# kms_rule holds for an encryption rule with SSE-KMS under a named key and bucket keys enabled.
kms_rule(rule) if {
	d := sse_default(rule)
	d.sseAlgorithm == "aws:kms"
	has_value(d, ["kmsMasterKeyId", "kmsMasterKeyIdRef", "kmsMasterKeyIdSelector"])
	rule.bucketKeyEnabled == true
}

kms_encrypts(p) if {
	rules := object.get(fp(p), "rule", [])
	count(rules) > 0
	every rule in rules {
		kms_rule(rule)
	}
}

encrypted(b) if {
	some p in of_kind("s3", "BucketServerSideEncryptionConfiguration")
	selects(p, b)
	kms_encrypts(p)
}

# encryption_awaited holds while the function says, in the XR's status.waitingFor, that it
# withholds the bucket's encryption configuration ("... to encrypt the dr backup bucket" for
# dr-backup-bucket): the DR bucket's waits for the DR key's ARN on early passes.
encryption_awaited(b) if {
	some w in object.get(xr, ["status", "waitingFor"], [])
	contains(lower(w), sprintf("to encrypt the %s", [replace(name(b), "-", " ")]))
}

# waived are the buckets whose missing encryption is excused by encryption_awaited.
waived contains sprintf("%s: encryption awaited", [name(b)]) if {
	some b in buckets
	not encrypted(b)
	encryption_awaited(b)
}

deny contains msg(b, "s3-encryption", "no BucketServerSideEncryptionConfiguration selects it with aws:kms, a KMS key and bucketKeyEnabled true, and status.waitingFor does not say its encryption is awaited") if {
	some b in buckets
	not encrypted(b)
	not encryption_awaited(b)
}

deny contains msg(p, "s3-encryption", "every rule must apply sseAlgorithm aws:kms with a KMS key and bucketKeyEnabled true") if {
	some p in of_kind("s3", "BucketServerSideEncryptionConfiguration")
	not kms_encrypts(p)
}

# insecure_transport holds for a statement conditioned on aws:SecureTransport being false.
insecure_transport(st) if st.Condition.Bool["aws:SecureTransport"] in {"false", false, ["false"], [false]}

# denies_object_access holds for a statement that denies every S3 action: a list of actions
# leaves the others (GetObjectVersion, ListBucketVersions...) open over plain HTTP. AWS's
# recommendation: https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule
denies_object_access(st) if {
	some a in as_list(object.get(st, "Action", null))
	a in {"*", "s3:*"}
}

# covers_bucket holds for a statement on the bucket and its objects (when the bucket's name, its
# external name, is known).
covers_bucket(st, b) if {
	ext := object.get(b, ["metadata", "annotations", "crossplane.io/external-name"], "")
	arn := concat("", ["arn:aws:s3:::", ext])
	every want in [arn, concat("", [arn, "/*"])] {
		want in as_list(object.get(st, "Resource", null))
	}
}

covers_bucket(_, b) if object.get(b, ["metadata", "annotations", "crossplane.io/external-name"], "") == ""

tls_only(b) if {
	some p in of_kind("s3", "BucketPolicy")
	selects(p, b)
	policy := fp(p).policy
	is_string(policy)
	json.is_valid(policy)
	some st in statements(json.unmarshal(policy))
	is_object(st)
	st.Effect == "Deny"
	any_principal(st)
	insecure_transport(st)
	denies_object_access(st)
	covers_bucket(st, b)
}

deny contains msg(b, "s3-tls-only", "no BucketPolicy selects it that denies object access to any principal on the bucket and its objects when aws:SecureTransport is false") if {
	some b in buckets
	not tls_only(b)
}
