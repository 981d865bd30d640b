package pgdr.security

# The allow-list. The only wildcards a policy document may hold, each because AWS requires it:
#
#   - Resource "*" in a KMS key policy (kms Key and ReplicaKey spec.forProvider.policy): there it
#     means "this key"; a key policy cannot name its key any other way.
#   - Action "kms:*" in a key policy, in an Allow whose only principal is the account root
#     (arn:aws:iam::<account>:root): AWS requires it so that the key never becomes unmanageable,
#     and it is what lets IAM policies grant the key's use at all.
#   - Resource "*" for the actions in resource_wildcard_actions, which have no resource-level
#     permissions, when the statement limits them with the condition key named there.
#   - Deny statements: a Deny may be as wide as it likes (the TLS-only bucket policy denies every
#     principal, "AWS": "*").
#
# Roles get AWS-managed policies only from managed_policies.

# resource_wildcard_actions may have Resource "*" when the statement has the condition key.
resource_wildcard_actions := {"cloudwatch:PutMetricData": "cloudwatch:namespace"}

# managed_policies are the AWS-managed policies a role may have attached.
managed_policies := {
	"arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
	"arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
}

# policy_documents are the policy documents (JSON objects with a Statement) in the composed
# resources' spec.forProvider, wherever the provider keeps them: Role.assumeRolePolicy,
# Role.inlinePolicy[].policy, RolePolicy.policy, Policy.policy, Key.policy, ReplicaKey.policy,
# BucketPolicy.policy... resource is the index of the resource in resources.
policy_documents contains {"resource": i, "path": path, "doc": doc} if {
	some [i, p, value] in spec_strings
	startswith(trim_space(value), "{")
	json.is_valid(value)
	doc := json.unmarshal(value)
	is_object(doc)
	"Statement" in object.keys(doc)
	path := concat(".", array.concat(["spec", "forProvider"], [sprintf("%v", [e]) | some e in p]))
}

# document_kinds are the kinds and fields policy documents were found in.
document_kinds contains sprintf("%s %s", [kind(resources[d.resource]), d.path]) if some d in policy_documents

# statements are a document's statements: one object or a list.
statements(doc) := doc.Statement if is_array(doc.Statement)

statements(doc) := [doc.Statement] if is_object(doc.Statement)

# doc_msg is a deny message about statement i of document d.
doc_msg(d, i, rule, detail) := msg(resources[d.resource], rule, sprintf("%s statement %d: %s", [d.path, i, detail]))

# allow holds for a statement that grants: anything but a Deny is checked.
allow(st) if object.get(st, "Effect", "") != "Deny"

actions(st) := as_list(object.get(st, "Action", null))

# key_policy holds for the policy of a KMS key.
key_policy(d) if {
	r := resources[d.resource]
	some k in ["Key", "ReplicaKey"]
	is_kind(r, "kms", k)
	d.path == "spec.forProvider.policy"
}

# root_only holds for a statement whose only principal is one account's root.
root_only(st) if {
	is_object(st.Principal)
	object.keys(st.Principal) == {"AWS"}
	aws := as_list(st.Principal.AWS)
	count(aws) == 1
	regex.match(`^arn:aws:iam::[0-9]{12}:root$`, aws[0])
}

# any_principal holds for a statement about every principal.
any_principal(st) if st.Principal == "*"

any_principal(st) if {
	is_object(st.Principal)
	"*" in as_list(object.get(st.Principal, "AWS", null))
}

# allowed_wildcard_action is the key policy's administration statement.
allowed_wildcard_action(d, st, "kms:*") if {
	key_policy(d)
	root_only(st)
}

has_condition_key(st, key) if {
	some op in object.get(st, "Condition", {})
	is_object(op)
	key in object.keys(op)
}

deny contains doc_msg(d, i, "iam-statement", "not an object") if {
	some d in policy_documents
	some i, st in statements(d.doc)
	not is_object(st)
}

deny contains doc_msg(d, i, "iam-inverted-element", sprintf("%s grants everything it does not list", [e])) if {
	some d in policy_documents
	some i, st in statements(d.doc)
	is_object(st)
	some e in ["NotAction", "NotResource", "NotPrincipal"]
	e in object.keys(st)
}

deny contains doc_msg(d, i, "iam-any-principal", "allows any principal") if {
	some d in policy_documents
	some i, st in statements(d.doc)
	is_object(st)
	allow(st)
	any_principal(st)
}

deny contains doc_msg(d, i, "iam-no-action", "has no Action") if {
	some d in policy_documents
	some i, st in statements(d.doc)
	is_object(st)
	allow(st)
	count(actions(st)) == 0
}

deny contains doc_msg(d, i, "iam-wildcard-action", sprintf("wildcard action %q", [a])) if {
	some d in policy_documents
	some i, st in statements(d.doc)
	is_object(st)
	allow(st)
	some a in actions(st)
	contains(a, "*")
	not allowed_wildcard_action(d, st, a)
}

deny contains doc_msg(d, i, "iam-wildcard-resource", sprintf(`Resource "*" for %s, which AWS lets a policy name resources for`, [a])) if {
	some d in policy_documents
	not key_policy(d)
	some i, st in statements(d.doc)
	is_object(st)
	allow(st)
	"*" in as_list(object.get(st, "Resource", null))
	some a in actions(st)
	not resource_wildcard_actions[a]
}

deny contains doc_msg(d, i, "iam-wildcard-resource", sprintf(`Resource "*" for %s without a %s condition`, [a, key])) if {
	some d in policy_documents
	not key_policy(d)
	some i, st in statements(d.doc)
	is_object(st)
	allow(st)
	"*" in as_list(object.get(st, "Resource", null))
	some a in actions(st)
	key := resource_wildcard_actions[a]
	not has_condition_key(st, key)
}

deny contains msg(r, "iam-managed-policy", sprintf("attaches %s, which is not an allowed AWS-managed policy", [arn])) if {
	some [i, path, arn] in spec_strings
	path[0] in {"policyArn", "managedPolicyArns"}
	not arn in managed_policies
	r := resources[i]
}

deny contains msg(r, "lambda-permission-wildcard", sprintf("grants wildcard action %q", [a])) if {
	some r in of_kind("lambda", "Permission")
	a := object.get(fp(r), "action", "")
	contains(a, "*")
}
