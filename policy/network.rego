package pgdr.security

# No security group ingress from anywhere, however the rule is written.

open_cidrs := {"0.0.0.0/0", "::/0"}

deny contains msg(r, "ec2-open-ingress", sprintf("%s is %s: ingress from anywhere", [f, c])) if {
	some r in of_kind("ec2", "SecurityGroupIngressRule")
	some f in ["cidrIpv4", "cidrIpv6"]
	c := object.get(fp(r), f, "")
	c in open_cidrs
}

deny contains msg(r, "ec2-open-ingress", sprintf("%s holds %s: ingress from anywhere", [f, c])) if {
	some r in of_kind("ec2", "SecurityGroupRule")
	fp(r).type == "ingress"
	some f in ["cidrBlocks", "ipv6CidrBlocks"]
	some c in object.get(fp(r), f, [])
	c in open_cidrs
}

deny contains msg(r, "ec2-open-ingress", sprintf("ingress[%d].%s holds %s: ingress from anywhere", [n, f, c])) if {
	some r in of_kind("ec2", "SecurityGroup")
	some n, rule in object.get(fp(r), "ingress", [])
	some f in ["cidrBlocks", "ipv6CidrBlocks"]
	some c in object.get(rule, f, [])
	c in open_cidrs
}
