# METADATA
# title: pgdr.security
# description: |
#   Security policy over one render of an XPostgresDR: the XR and every composed provider-aws
#   managed resource. input is {"xr": <the XR>, "resources": [<composed resources>]}; deny is the
#   set of violations, each "<composition-resource name> (<group>/<Kind>) <rule>: <detail>".
#   See policy/README.md for the rules and the allow-list.
package pgdr.security

# resources are the composed managed resources of the render.
resources := object.get(input, "resources", [])

# xr is the composite resource, with the status the function wrote.
xr := object.get(input, "xr", {})

# name is a resource's composition-resource name; the XR, which has none, goes by metadata.name.
name(r) := object.get(
	r, ["metadata", "annotations", "crossplane.io/composition-resource-name"],
	object.get(r, ["metadata", "name"], "<unnamed>"),
)

# group is the API group of a resource, without its version.
group(r) := split(object.get(r, "apiVersion", ""), "/")[0]

# kind is "<group>/<Kind>", as messages name it.
kind(r) := sprintf("%s/%s", [group(r), object.get(r, "kind", "")])

# aws_kind is "<service>/<Kind>" for a provider-aws resource, cluster-scoped (<service>.aws.upbound.io)
# or namespaced (<service>.aws.m.upbound.io).
aws_kind(r) := sprintf("%s/%s", [split(group(r), ".")[0], r.kind]) if endswith(group(r), ".aws.upbound.io")

aws_kind(r) := sprintf("%s/%s", [split(group(r), ".")[0], r.kind]) if endswith(group(r), ".aws.m.upbound.io")

# resource_kinds are the aws_kind of each composed resource, by index in resources.
resource_kinds := {i: aws_kind(r) | some i, r in resources}

# kind_index indexes the composed resources (their indices in resources) by aws_kind.
kind_index := {k: {i | some i, k2 in resource_kinds; k2 == k} | some k in {k | some k in resource_kinds}}

# is_kind holds when r is the provider-aws Kind k of a service.
is_kind(r, service, k) if aws_kind(r) == sprintf("%s/%s", [service, k])

# of_kind are the composed resources of a provider-aws Kind.
of_kind(service, k) := [resources[i] | some i in object.get(kind_index, sprintf("%s/%s", [service, k]), set())]

# spec_strings are the strings anywhere in the composed resources' spec.forProvider, as
# [index of the resource, path, value]: what the rules on policy documents and secrets read.
spec_strings := [[i, path, v] |
	some i, r in resources
	walk(fp(r), [path, v])
	is_string(v)
]

# fp is a resource's spec.forProvider.
fp(r) := object.get(r, ["spec", "forProvider"], {})

# selected is the pgdr.io/resource label a selector field of spec.forProvider matches: the
# composition-resource name of the resource it selects ("" when there is no such selector).
selected(r, field) := object.get(fp(r), [field, "matchLabels", "pgdr.io/resource"], "")

# msg is a deny message.
msg(r, rule, detail) := sprintf("%s (%s) %s: %s", [name(r), kind(r), rule, detail])

# as_list reads an element that may be one string or a list of them (policy documents do both).
as_list(x) := x if is_array(x)

as_list(x) := [x] if is_string(x)

as_list(x) := [] if {
	not is_array(x)
	not is_string(x)
}

# has_value holds when obj has a non-empty value for one of the fields.
has_value(obj, fields) if {
	some f in fields
	not object.get(obj, f, null) in {null, ""}
}

# checked counts what the policy examined, so that a test can tell "nothing wrong" from "nothing
# read".
checked := {
	"IAM policy documents": count(policy_documents),
	"S3 buckets": count(of_kind("s3", "Bucket")),
	"RDS instances": count(of_kind("rds", "Instance")),
	"security group ingress rules": count(of_kind("ec2", "SecurityGroupIngressRule")),
	"SNS topics": count(of_kind("sns", "Topic")),
	"log groups": count(of_kind("cloudwatchlogs", "Group")),
	"Lambda functions": count(of_kind("lambda", "Function")),
	"XR status fields": count([p | walk(object.get(xr, "status", {}), [p, _])]),
}
