//go:build e2e

package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// What AWS does when a resource is deleted while another still uses it. The provider stand-in
// checks these before it deletes anything in "AWS": a rule's user that still exists in AWS either
// makes AWS refuse the delete (the provider gets the error and retries later) or, where AWS
// deletes anyway, is broken by it. Each rule names the AWS documentation it follows.

// An outcome is what AWS does with the delete of a resource that is still used.
type outcome string

const (
	// refused: AWS answers with an error and deletes nothing; the provider retries.
	refused outcome = "refused"
	// broken: AWS deletes it, and what still uses it is broken or its data lost.
	broken outcome = "broken"
)

// Group/kinds the rules name.
const (
	gkRDSInstance       = "rds.aws.upbound.io/Instance"
	gkDBSubnetGroup     = "rds.aws.upbound.io/SubnetGroup"
	gkDBParameterGroup  = "rds.aws.upbound.io/ParameterGroup"
	gkVPC               = "ec2.aws.upbound.io/VPC"
	gkSubnet            = "ec2.aws.upbound.io/Subnet"
	gkSecurityGroup     = "ec2.aws.upbound.io/SecurityGroup"
	gkRouteTable        = "ec2.aws.upbound.io/RouteTable"
	gkKMSKey            = "kms.aws.upbound.io/Key"
	gkKMSReplicaKey     = "kms.aws.upbound.io/ReplicaKey"
	gkIAMRole           = "iam.aws.upbound.io/Role"
	gkLambdaFunction    = "lambda.aws.upbound.io/Function"
	fieldInstanceSubnet = "dbSubnetGroupName.subnetId" // an instance's network interfaces: in the subnets of its DB subnet group
)

// A deleteRule is one of AWS's rules on deleting a resource (of) while another (by) uses it through
// one of the given spec.forProvider fields (nested fields joined by ".", without the Ref, Refs or
// Selector suffix and a plural's s: "vpcConfig.subnetId" stands for vpcConfig.subnetIds,
// vpcConfig.subnetIdRefs and vpcConfig.subnetIdSelector).
type deleteRule struct {
	api     string // the AWS call that deletes of
	of, by  string // group/kind
	fields  []string
	outcome outcome
	aws     string // what AWS answers (refused) or what becomes of the user (broken)
	source  string // the AWS documentation of the rule
}

var deleteRules = []deleteRule{
	// RDS User Guide, "Cross-Region replication considerations": "For PostgreSQL DB instances,
	// when the source DB instance for a cross-Region read replica is deleted, the replication
	// status of the read replica is set to terminated. The read replica isn't promoted."
	{api: "DeleteDBInstance", of: gkRDSInstance, by: gkRDSInstance, fields: []string{"replicateSourceDb"}, outcome: broken,
		aws:    "the source DB instance is deleted; the cross-Region read replica's replication is terminated (PostgreSQL: it is not promoted)",
		source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.XRgn.html#USER_ReadRepl.XRgn.Cnsdr"},
	// RDS API Reference, DeleteDBSubnetGroup: "The specified database subnet group must not be
	// associated with any DB instances"; InvalidDBSubnetGroupStateFault.
	{api: "DeleteDBSubnetGroup", of: gkDBSubnetGroup, by: gkRDSInstance, fields: []string{"dbSubnetGroupName"}, outcome: refused,
		aws:    "InvalidDBSubnetGroupStateFault: The DB subnet group cannot be deleted because it's in use.",
		source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSubnetGroup.html"},
	// RDS API Reference, DeleteDBParameterGroup: "The DB parameter group to be deleted can't be
	// associated with any DB instances"; InvalidDBParameterGroupState.
	{api: "DeleteDBParameterGroup", of: gkDBParameterGroup, by: gkRDSInstance, fields: []string{"parameterGroupName"}, outcome: refused,
		aws:    "InvalidDBParameterGroupState: The DB parameter group is in use or is in an invalid state.",
		source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBParameterGroup.html"},
	// EC2 API Reference, DeleteSecurityGroup: "If you attempt to delete a security group that is
	// associated with an instance or network interface, is referenced by another security group
	// in the same VPC, or has a VPC association, the operation fails with DependencyViolation."
	// The network interfaces: a DB instance's, a VPC Lambda's, an interface endpoint's.
	{api: "DeleteSecurityGroup", of: gkSecurityGroup, by: gkRDSInstance, fields: []string{"vpcSecurityGroupId"}, outcome: refused,
		aws: "DependencyViolation: resource has a dependent object (a DB instance's network interface)", source: srcDeleteSecurityGroup},
	{api: "DeleteSecurityGroup", of: gkSecurityGroup, by: gkLambdaFunction, fields: []string{"vpcConfig.securityGroupId"}, outcome: refused,
		aws: "DependencyViolation: resource has a dependent object (a Lambda function's network interface)", source: srcDeleteSecurityGroup},
	{api: "DeleteSecurityGroup", of: gkSecurityGroup, by: "ec2.aws.upbound.io/VPCEndpointSecurityGroupAssociation", fields: []string{"securityGroupId"}, outcome: refused,
		aws: "DependencyViolation: resource has a dependent object (a VPC endpoint's network interface)", source: srcDeleteSecurityGroup},
	{api: "DeleteSecurityGroup", of: gkSecurityGroup, by: "ec2.aws.upbound.io/VPCEndpoint", fields: []string{"securityGroupId"}, outcome: refused,
		aws: "DependencyViolation: resource has a dependent object (a VPC endpoint's network interface)", source: srcDeleteSecurityGroup},
	{api: "DeleteSecurityGroup", of: gkSecurityGroup, by: "ec2.aws.upbound.io/SecurityGroupIngressRule", fields: []string{"referencedSecurityGroupId"}, outcome: refused,
		aws: "DependencyViolation: resource has a dependent object (referenced by another security group's rule)", source: srcDeleteSecurityGroup},
	{api: "DeleteSecurityGroup", of: gkSecurityGroup, by: "ec2.aws.upbound.io/SecurityGroupEgressRule", fields: []string{"referencedSecurityGroupId"}, outcome: refused,
		aws: "DependencyViolation: resource has a dependent object (referenced by another security group's rule)", source: srcDeleteSecurityGroup},
	// EC2 API Reference, DeleteSubnet: "You must terminate all running instances in the subnet
	// before you can delete the subnet": every network interface in it (a DB instance's, a NAT
	// gateway's, a VPC Lambda's, an interface endpoint's) makes it fail with DependencyViolation.
	{api: "DeleteSubnet", of: gkSubnet, by: gkRDSInstance, fields: []string{fieldInstanceSubnet}, outcome: refused,
		aws: "DependencyViolation: The subnet has dependencies and cannot be deleted (a DB instance's network interface)", source: srcDeleteSubnet},
	{api: "DeleteSubnet", of: gkSubnet, by: "ec2.aws.upbound.io/NATGateway", fields: []string{"subnetId"}, outcome: refused,
		aws: "DependencyViolation: The subnet has dependencies and cannot be deleted (a NAT gateway's network interface)", source: srcDeleteSubnet},
	{api: "DeleteSubnet", of: gkSubnet, by: gkLambdaFunction, fields: []string{"vpcConfig.subnetId"}, outcome: refused,
		aws: "DependencyViolation: The subnet has dependencies and cannot be deleted (a Lambda function's network interface)", source: srcDeleteSubnet},
	{api: "DeleteSubnet", of: gkSubnet, by: "ec2.aws.upbound.io/VPCEndpointSubnetAssociation", fields: []string{"subnetId"}, outcome: refused,
		aws: "DependencyViolation: The subnet has dependencies and cannot be deleted (a VPC endpoint's network interface)", source: srcDeleteSubnet},
	{api: "DeleteSubnet", of: gkSubnet, by: "ec2.aws.upbound.io/VPCEndpoint", fields: []string{"subnetId"}, outcome: refused,
		aws: "DependencyViolation: The subnet has dependencies and cannot be deleted (a VPC endpoint's network interface)", source: srcDeleteSubnet},
	// EC2 API Reference, DeleteRouteTable: "You must disassociate the route table from any subnets
	// before you can delete it."
	{api: "DeleteRouteTable", of: gkRouteTable, by: "ec2.aws.upbound.io/RouteTableAssociation", fields: []string{"routeTableId"}, outcome: refused,
		aws:    "DependencyViolation: The routeTable has dependencies and cannot be deleted.",
		source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteRouteTable.html"},
	// EC2 API Reference, DeleteVpc: "You must detach or delete all gateways and resources that are
	// associated with the VPC before you can delete it. For example, you must terminate all
	// instances running in the VPC, delete all security groups associated with the VPC (except the
	// default one), delete all route tables associated with the VPC (except the default one)".
	{api: "DeleteVpc", of: gkVPC, by: gkSubnet, fields: []string{"vpcId"}, outcome: refused,
		aws: "DependencyViolation: The vpc has dependencies and cannot be deleted (a subnet)", source: srcDeleteVpc},
	{api: "DeleteVpc", of: gkVPC, by: gkSecurityGroup, fields: []string{"vpcId"}, outcome: refused,
		aws: "DependencyViolation: The vpc has dependencies and cannot be deleted (a security group)", source: srcDeleteVpc},
	{api: "DeleteVpc", of: gkVPC, by: gkRouteTable, fields: []string{"vpcId"}, outcome: refused,
		aws: "DependencyViolation: The vpc has dependencies and cannot be deleted (a route table)", source: srcDeleteVpc},
	{api: "DeleteVpc", of: gkVPC, by: "ec2.aws.upbound.io/InternetGateway", fields: []string{"vpcId"}, outcome: refused,
		aws: "DependencyViolation: The vpc has dependencies and cannot be deleted (an attached internet gateway)", source: srcDeleteVpc},
	{api: "DeleteVpc", of: gkVPC, by: "ec2.aws.upbound.io/VPCEndpoint", fields: []string{"vpcId"}, outcome: refused,
		aws: "DependencyViolation: The vpc has dependencies and cannot be deleted (a VPC endpoint)", source: srcDeleteVpc},
	// KMS API Reference, ScheduleKeyDeletion: the key is scheduled, not refused; "When a KMS key is
	// deleted, all data that was encrypted under the KMS key is unrecoverable." RDS User Guide,
	// "AWS KMS key management": "If you turn off or revoke permissions to a KMS key used by an RDS
	// database, RDS puts your database into a terminal state when access to the KMS key is
	// required" (and its final snapshot is encrypted under that key too).
	{api: "ScheduleKeyDeletion", of: gkKMSKey, by: gkRDSInstance, fields: []string{"kmsKeyId"}, outcome: broken,
		aws: "the key is pending deletion; the DB instance encrypted with it, and its final snapshot, are lost (inaccessible-encryption-credentials)", source: srcKMSKeyRDS},
	{api: "ScheduleKeyDeletion", of: gkKMSReplicaKey, by: gkRDSInstance, fields: []string{"kmsKeyId"}, outcome: broken,
		aws: "the key is pending deletion; the DB instance encrypted with it, and its final snapshot, are lost (inaccessible-encryption-credentials)", source: srcKMSKeyRDS},
	// IAM API Reference, DeleteRole: "when you delete a role programmatically, you must delete the
	// items attached to the role manually, or the deletion fails": inline policies, attached
	// managed policies; DeleteConflict.
	{api: "DeleteRole", of: gkIAMRole, by: "iam.aws.upbound.io/RolePolicyAttachment", fields: []string{"role"}, outcome: refused,
		aws: "DeleteConflict: Cannot delete entity, must detach all policies first.", source: srcDeleteRole},
	{api: "DeleteRole", of: gkIAMRole, by: "iam.aws.upbound.io/RolePolicy", fields: []string{"role"}, outcome: refused,
		aws: "DeleteConflict: Cannot delete entity, must delete policies first.", source: srcDeleteRole},
	// Lambda Developer Guide, "Defining Lambda function permissions with an execution role":
	// "Lambda automatically assumes your execution role when you invoke your function"; IAM's
	// DeleteRole does not check who assumes a role.
	{api: "DeleteRole", of: gkIAMRole, by: gkLambdaFunction, fields: []string{"role"}, outcome: broken,
		aws:    "the role is deleted; the Lambda function that runs as it can no longer be invoked",
		source: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"},
	// RDS User Guide, "Setting up and enabling Enhanced Monitoring": "Enhanced Monitoring requires
	// permission to act on your behalf to send OS metric information to CloudWatch Logs", granted by
	// the role; DeleteRole does not check who assumes it.
	{api: "DeleteRole", of: gkIAMRole, by: gkRDSInstance, fields: []string{"monitoringRoleArn"}, outcome: broken,
		aws:    "the role is deleted; the DB instance's Enhanced Monitoring can no longer publish",
		source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html"},
}

const (
	srcDeleteSecurityGroup = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html"
	srcDeleteSubnet        = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html"
	srcDeleteVpc           = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html"
	srcDeleteRole          = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html"
	srcKMSKeyRDS           = "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html"
)

// groupKind returns an object's group/kind.
func groupKind(o *unstructured.Unstructured) string {
	return clusterGVK(o.GroupVersionKind()).Group + "/" + o.GetKind()
}

// A link is one use of a resource by another: through the user's field, of target.
type link struct {
	field  string
	target *unstructured.Unstructured
}

// links returns what u's spec.forProvider uses among objs: a *Ref or *Refs names a resource, a
// *Selector selects by labels (and controller), and any other string is matched against every
// resource's external name, status.atProvider.id and status.atProvider.arn (the resolved or
// written-out id or ARN). A DB instance also uses the subnets of its DB subnet group: its
// network interfaces are there.
func links(u *unstructured.Unstructured, objs []*unstructured.Unstructured) []link {
	ids := map[string][]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetUID() == u.GetUID() {
			continue
		}
		for _, id := range []string{o.GetAnnotations()[annExternal], str(o, "status", "atProvider", "id"), str(o, "status", "atProvider", "arn")} {
			if id != "" && !containsObj(ids[id], o) {
				ids[id] = append(ids[id], o)
			}
		}
	}
	fp, _, _ := unstructured.NestedMap(u.Object, "spec", "forProvider")
	var out []link
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			field := prefix + fieldBase(k)
			switch {
			case strings.HasSuffix(k, "SecretRef"):
			case strings.HasSuffix(k, "Ref"):
				if t := byName(objs, fmt.Sprint(asMap(v)["name"])); t != nil {
					out = append(out, link{field: field, target: t})
				}
			case strings.HasSuffix(k, "Refs"):
				for _, r := range asSlice(v) {
					if t := byName(objs, fmt.Sprint(asMap(r)["name"])); t != nil {
						out = append(out, link{field: field, target: t})
					}
				}
			case strings.HasSuffix(k, "Selector"):
				for _, t := range bySelector(objs, u, asMap(v)) {
					out = append(out, link{field: field, target: t})
				}
			default:
				switch x := v.(type) {
				case string:
					for _, t := range ids[x] {
						out = append(out, link{field: field, target: t})
					}
				case map[string]any:
					walk(field+".", x)
				case []any:
					for _, e := range x {
						switch y := e.(type) {
						case string:
							for _, t := range ids[y] {
								out = append(out, link{field: field, target: t})
							}
						case map[string]any:
							walk(field+".", y)
						}
					}
				}
			}
		}
	}
	walk("", fp)
	if groupKind(u) == gkRDSInstance {
		for _, l := range out {
			if l.field != "dbSubnetGroupName" || groupKind(l.target) != gkDBSubnetGroup {
				continue
			}
			for _, sl := range links(l.target, objs) {
				if sl.field == "subnetId" && groupKind(sl.target) == gkSubnet {
					out = append(out, link{field: fieldInstanceSubnet, target: sl.target})
				}
			}
		}
	}
	return out
}

// fieldBase is a spec.forProvider field without its Ref, Refs or Selector suffix and a plural's
// s: subnetIdSelector, subnetIdRefs and subnetIds are all subnetId.
func fieldBase(k string) string {
	for _, s := range []string{"Selector", "Refs", "Ref"} {
		if strings.HasSuffix(k, s) {
			return strings.TrimSuffix(k, s)
		}
	}
	for _, s := range []string{"Ids", "Arns", "Names"} {
		if strings.HasSuffix(k, s) {
			return strings.TrimSuffix(k, "s")
		}
	}
	return k
}

func containsObj(xs []*unstructured.Unstructured, o *unstructured.Unstructured) bool {
	for _, x := range xs {
		if x.GetUID() == o.GetUID() {
			return true
		}
	}
	return false
}

// A dependent is a user that one of the rules says still needs the resource being deleted.
type dependent struct {
	rule  deleteRule
	by    *unstructured.Unstructured
	field string
}

// dependents returns, for of being deleted, every rule that one of users (the resources that exist
// in AWS) makes apply, by user, in a stable order. skip leaves out a field of a user (a promoted
// replica no longer replicates its source whatever its spec says).
func dependents(of *unstructured.Unstructured, users, objs []*unstructured.Unstructured, skip func(u *unstructured.Unstructured, field string) bool) []dependent {
	gk := groupKind(of)
	var rules []deleteRule
	byKinds := map[string]bool{}
	for _, r := range deleteRules {
		if r.of == gk {
			rules = append(rules, r)
			byKinds[r.by] = true
		}
	}
	if len(rules) == 0 {
		return nil
	}
	var out []dependent
	seen := map[string]bool{}
	for _, u := range users {
		if u.GetUID() == of.GetUID() || !byKinds[groupKind(u)] {
			continue
		}
		for _, l := range links(u, objs) {
			if l.target.GetUID() != of.GetUID() || (skip != nil && skip(u, l.field)) {
				continue
			}
			for _, r := range rules {
				k := r.api + "/" + string(u.GetUID()) + "/" + l.field
				if r.by == groupKind(u) && hasString(r.fields, l.field) && !seen[k] {
					seen[k] = true
					out = append(out, dependent{rule: r, by: u, field: l.field})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].by.GetName() != out[j].by.GetName() {
			return out[i].by.GetName() < out[j].by.GetName()
		}
		return out[i].field < out[j].field
	})
	return out
}

// TestDeleteRules checks that the stand-in finds the users AWS would: through a *Ref, a *Selector
// (nested too), a written-out id or ARN, and an instance's subnets through its DB subnet group;
// and not a security group's own rules, a promoted replica or a user that is gone from AWS.
func TestDeleteRules(t *testing.T) {
	ctl := "xr-uid"
	mk := func(apiVersion, kind, name, id string, labels map[string]string, fp map[string]any, atp map[string]any) *unstructured.Unstructured {
		o := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": apiVersion, "kind": kind,
			"metadata": map[string]any{"name": name, "uid": name + "-uid", "annotations": map[string]any{annExternal: id},
				"ownerReferences": []any{map[string]any{"apiVersion": "pgdr.io/v1alpha1", "kind": "XPostgresDR", "name": "xr", "uid": ctl, "controller": true}}},
			"spec": map[string]any{"forProvider": fp},
		}}
		o.SetLabels(labels)
		if atp != nil {
			_ = unstructured.SetNestedMap(o.Object, atp, "status", "atProvider")
		}
		return o
	}
	sel := func(labels map[string]any) map[string]any {
		return map[string]any{"matchLabels": labels, "matchControllerRef": true}
	}
	keyARN := "arn:aws:kms:us-east-1:123456789012:key/mrk-1"
	dbARN := "arn:aws:rds:us-east-1:123456789012:db:primary"
	vpc := mk("ec2.aws.upbound.io/v1beta1", "VPC", "vpc", "vpc-1", map[string]string{"r": "vpc"}, map[string]any{}, nil)
	subnet := mk("ec2.aws.upbound.io/v1beta1", "Subnet", "subnet", "subnet-1", map[string]string{"tier": "database"},
		map[string]any{"vpcIdSelector": sel(map[string]any{"r": "vpc"})}, nil)
	group := mk("rds.aws.upbound.io/v1beta1", "SubnetGroup", "subnet-group", "subnet-group", map[string]string{"r": "subnet-group"},
		map[string]any{"subnetIdSelector": sel(map[string]any{"tier": "database"})}, nil)
	sg := mk("ec2.aws.upbound.io/v1beta1", "SecurityGroup", "sg", "sg-1", map[string]string{"r": "sg"},
		map[string]any{"vpcIdSelector": sel(map[string]any{"r": "vpc"})}, nil)
	sgRule := mk("ec2.aws.upbound.io/v1beta1", "SecurityGroupIngressRule", "sg-rule", "sgr-1", nil,
		map[string]any{"securityGroupIdSelector": sel(map[string]any{"r": "sg"})}, nil)
	key := mk("kms.aws.upbound.io/v1beta1", "Key", "key", "mrk-1", nil, map[string]any{}, map[string]any{"arn": keyARN})
	primary := mk("rds.aws.upbound.io/v1beta3", "Instance", "primary", "primary", nil, map[string]any{
		"dbSubnetGroupNameSelector": sel(map[string]any{"r": "subnet-group"}), "kmsKeyId": keyARN,
		"vpcSecurityGroupIds": []any{"sg-1"},
	}, map[string]any{"arn": dbARN})
	replica := mk("rds.aws.upbound.io/v1beta3", "Instance", "replica", "replica", nil, map[string]any{"replicateSourceDb": dbARN}, nil)
	role := mk("iam.aws.upbound.io/v1beta1", "Role", "role", "role", map[string]string{"r": "role"}, map[string]any{}, nil)
	attachment := mk("iam.aws.upbound.io/v1beta1", "RolePolicyAttachment", "attachment", "attachment", nil,
		map[string]any{"roleRef": map[string]any{"name": "role"}}, nil)
	fn := mk("lambda.aws.upbound.io/v1beta1", "Function", "fn", "fn", nil, map[string]any{
		"roleSelector": sel(map[string]any{"r": "role"}),
		"vpcConfig": map[string]any{"subnetIdSelector": sel(map[string]any{"tier": "database"}),
			"securityGroupIdSelector": sel(map[string]any{"r": "sg"})},
	}, nil)
	all := []*unstructured.Unstructured{vpc, subnet, group, sg, sgRule, key, primary, replica, role, attachment, fn}
	without := func(gone ...*unstructured.Unstructured) []*unstructured.Unstructured {
		var out []*unstructured.Unstructured
		for _, o := range all {
			if !containsObj(gone, o) {
				out = append(out, o)
			}
		}
		return out
	}
	promoted := func(u *unstructured.Unstructured, field string) bool {
		return u.GetName() == "replica" && field == "replicateSourceDb"
	}

	cases := map[string]struct {
		of    *unstructured.Unstructured
		users []*unstructured.Unstructured
		skip  func(*unstructured.Unstructured, string) bool
		want  []string // api outcome by field
	}{
		// API_DeleteDBSubnetGroup: InvalidDBSubnetGroupStateFault while an instance uses it.
		"SubnetGroupOfAnInstance": {of: group, users: all, want: []string{"DeleteDBSubnetGroup refused primary dbSubnetGroupName"}},
		// API_DeleteSubnet: the instance's (through its subnet group) and the Lambda's interfaces.
		"SubnetOfAnInstanceAndALambda": {of: subnet, users: all, want: []string{
			"DeleteSubnet refused fn vpcConfig.subnetId", "DeleteSubnet refused primary dbSubnetGroupName.subnetId"}},
		// API_DeleteVpc: its subnets and security groups.
		"VPCWithSubnetsAndSecurityGroups": {of: vpc, users: all, want: []string{"DeleteVpc refused sg vpcId", "DeleteVpc refused subnet vpcId"}},
		// API_DeleteSecurityGroup: the instance's and the Lambda's interfaces; its own rule is part of it.
		"SecurityGroupOfAnInstanceAndALambda": {of: sg, users: all, want: []string{
			"DeleteSecurityGroup refused fn vpcConfig.securityGroupId", "DeleteSecurityGroup refused primary vpcSecurityGroupId"}},
		// USER_ReadRepl.XRgn: deleting the source terminates a PostgreSQL cross-Region replica.
		"SourceOfAReplica":         {of: primary, users: all, want: []string{"DeleteDBInstance broken replica replicateSourceDb"}},
		"SourceOfAPromotedReplica": {of: primary, users: all, skip: promoted},
		"SourceWithoutItsReplica":  {of: primary, users: without(replica)},
		// API_ScheduleKeyDeletion, Overview.Encryption.Keys: the instance encrypted with the key is lost.
		"KeyOfAnInstance": {of: key, users: all, want: []string{"ScheduleKeyDeletion broken primary kmsKeyId"}},
		"KeyOfNoInstance": {of: key, users: without(primary, replica)},
		// API_DeleteRole: DeleteConflict while a policy is attached; lambda-intro-execution-role: the Lambda breaks.
		"RoleWithAPolicyAndALambda": {of: role, users: all, want: []string{"DeleteRole broken fn role", "DeleteRole refused attachment role"}},
		"NothingUsesIt":             {of: attachment, users: all},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, d := range dependents(tc.of, tc.users, all, tc.skip) {
				got = append(got, fmt.Sprintf("%s %s %s %s", d.rule.api, d.rule.outcome, d.by.GetName(), d.field))
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("dependents of %s: -want, +got:\n%s", tc.of.GetName(), diff)
			}
		})
	}
}

// TestDeleteRulesSourced checks that every rule names its AWS documentation and what AWS does.
func TestDeleteRulesSourced(t *testing.T) {
	for _, r := range deleteRules {
		for _, src := range strings.Split(r.source, ", ") {
			if !strings.HasPrefix(src, "https://docs.aws.amazon.com/") {
				t.Errorf("%s of %s by %s: source %q is no AWS documentation page", r.api, r.of, r.by, src)
			}
		}
		if r.aws == "" || len(r.fields) == 0 || (r.outcome != refused && r.outcome != broken) {
			t.Errorf("%s of %s by %s: incomplete rule %+v", r.api, r.of, r.by, r)
		}
	}
}
