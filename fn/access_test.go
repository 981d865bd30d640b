package fn

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation"
)

// existingNetwork is spec.network in Existing mode: the primary's subnets by id, the DR's
// database subnets by labels, peered by the function.
const existingNetwork = `{"mode":"Existing","existing":{"connectivity":"Peer","interfaceEndpoints":"Create",
"primary":{"vpcID":"vpc-0a1b2c3d4e5f60718","cidrBlock":"10.20.0.0/16","databaseSubnets":{"ids":["subnet-0a1b2c3d4e5f60001","subnet-0a1b2c3d4e5f60002"]},
  "lambdaSubnets":{"ids":["subnet-0a1b2c3d4e5f60011","subnet-0a1b2c3d4e5f60012"]},"routeTableIDs":["rtb-0a1b2c3d4e5f60021"]},
"dr":{"vpcID":"vpc-0f1e2d3c4b5a69788","cidrBlock":"10.21.0.0/16","databaseSubnets":{"matchLabels":{"net.example.org/tier":"database"}},
  "lambdaSubnets":{"ids":["subnet-0f1e2d3c4b5a60011","subnet-0f1e2d3c4b5a60012"]},"routeTableIDs":["rtb-0f1e2d3c4b5a60021"]}}}`

func existingSpec(access string) string {
	s := `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":` + existingNetwork
	if access != "" {
		s += `,"access":` + access
	}
	return s + `}`
}

// TestClientCIDR checks what a client range may be. The security group rule's cidr_ipv4 must be
// a network address (fwvalidators.IPv4CIDRNetworkAddress on cidr_ipv4,
// internal/service/ec2/vpc_security_group_ingress_rule.go in the Terraform fork).
func TestClientCIDR(t *testing.T) {
	cases := map[string]struct {
		reason string
		cidr   string
		want   string // a substring of the error; "" for none
	}{
		"VPC":       {reason: "An application VPC's range.", cidr: "10.50.0.0/16"},
		"Host":      {reason: "One host.", cidr: "10.50.3.4/32"},
		"Anywhere":  {reason: "0.0.0.0/0 is anywhere.", cidr: "0.0.0.0/0", want: "is anywhere"},
		"AnyIPv6":   {reason: "::/0 is anywhere too.", cidr: "::/0", want: "is anywhere"},
		"IPv6":      {reason: "The databases have no IPv6 address.", cidr: "2001:db8::/32", want: "IPv4"},
		"HostBits":  {reason: "Host bits set: AWS wants the network address.", cidr: "10.50.1.0/16", want: "use the network address 10.50.0.0/16"},
		"Garbage":   {reason: "Not a CIDR.", cidr: "office", want: "IPv4 CIDR such as"},
		"NoPrefix":  {reason: "An address without a prefix.", cidr: "10.50.0.0", want: "IPv4 CIDR such as"},
		"OutOfByte": {reason: "An octet over 255.", cidr: "10.500.0.0/16", want: "IPv4 CIDR such as"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := clientCIDR(tc.cidr)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("\n%s\nclientCIDR(%q): got error %q, want one containing %q", tc.reason, tc.cidr, got, tc.want)
			}
		})
	}
}

// TestBadNetworkInput feeds bad Existing networks and bad access to RunFunction: each is a
// Fatal result naming the field, the value and the fix, with nothing desired. Overlapping VPCs
// cannot be peered (Amazon VPC Peering guide, create-vpc-peering-connection.html: "If they
// overlap, the status of the VPC peering connection immediately goes to failed"); a DB subnet
// group must cover two zones (RDS API, DBSubnetGroupDoesNotCoverEnoughAZs).
func TestBadNetworkInput(t *testing.T) {
	withNetwork := func(from, to string) string {
		return testXR(strings.Replace(existingSpec(""), from, to, 1))
	}
	access := func(a string) string { return testXR(existingSpec(a)) }
	managedAccess := func(a string) string {
		return testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"access":` + a + `}`)
	}
	type want struct{ path, value, fix string }
	cases := map[string]struct {
		reason string
		xr     string
		want   want
	}{
		"NoExisting":        {"Existing mode without the networks.", testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"mode":"Existing"}}`), want{"spec.network.existing", "Required", "vpcID, cidrBlock, databaseSubnets and lambdaSubnets"}},
		"Mode":              {"An unknown mode.", testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"mode":"Shared"}}`), want{"spec.network.mode", `"Shared"`, `"Existing"`}},
		"Connectivity":      {"An unknown connectivity.", withNetwork(`"Peer"`, `"TransitGateway"`), want{"spec.network.existing.connectivity", `"TransitGateway"`, `"Connected"`}},
		"Endpoints":         {"An unknown endpoints choice.", withNetwork(`"Create"`, `"Maybe"`), want{"spec.network.existing.interfaceEndpoints", `"Maybe"`, `"Existing"`}},
		"VPCID":             {"A VPC id that is not one.", withNetwork(`vpc-0a1b2c3d4e5f60718`, `vpc-xyz`), want{"spec.network.existing.primary.vpcID", `"vpc-xyz"`, "vpc-0123456789abcdef0"}},
		"SameVPC":           {"The same VPC in both regions.", withNetwork(`vpc-0f1e2d3c4b5a69788`, `vpc-0a1b2c3d4e5f60718`), want{"spec.network.existing.dr.vpcID", `"vpc-0a1b2c3d4e5f60718"`, "a VPC lives in one region"}},
		"CIDRAnywhere":      {"A VPC CIDR of anywhere.", withNetwork(`10.20.0.0/16`, `0.0.0.0/0`), want{"spec.network.existing.primary.cidrBlock", `"0.0.0.0/0"`, "primary IPv4 CIDR"}},
		"CIDROverlap":       {"Overlapping VPCs.", withNetwork(`10.21.0.0/16`, `10.20.128.0/17`), want{"spec.network.existing.dr.cidrBlock", `"10.20.128.0/17"`, "AWS refuses to peer overlapping VPCs"}},
		"OneSubnet":         {"One database subnet: one zone.", withNetwork(`"ids":["subnet-0a1b2c3d4e5f60001","subnet-0a1b2c3d4e5f60002"]`, `"ids":["subnet-0a1b2c3d4e5f60001"]`), want{"spec.network.existing.primary.databaseSubnets.ids", "subnet-0a1b2c3d4e5f60001", "at least two subnets"}},
		"SubnetID":          {"A subnet id that is not one.", withNetwork(`subnet-0a1b2c3d4e5f60002`, `subnet-2`), want{"spec.network.existing.primary.databaseSubnets.ids[1]", `"subnet-2"`, "subnet-0123456789abcdef0"}},
		"SubnetDuplicate":   {"A subnet twice.", withNetwork(`subnet-0a1b2c3d4e5f60002`, `subnet-0a1b2c3d4e5f60001`), want{"spec.network.existing.primary.databaseSubnets.ids[1]", "subnet-0a1b2c3d4e5f60001", "Duplicate"}},
		"NoSubnets":         {"No Lambda subnets.", withNetwork(`"lambdaSubnets":{"ids":["subnet-0a1b2c3d4e5f60011","subnet-0a1b2c3d4e5f60012"]}`, `"lambdaSubnets":{}`), want{"spec.network.existing.primary.lambdaSubnets", "Required", "matchLabels of their Subnet managed resources"}},
		"IDsAndLabels":      {"Both ids and labels.", withNetwork(`"ids":["subnet-0f1e2d3c4b5a60011"`, `"matchLabels":{"a":"b"},"ids":["subnet-0f1e2d3c4b5a60011"`), want{"spec.network.existing.dr.lambdaSubnets", "ids and matchLabels", "not both"}},
		"BadLabel":          {"A label key with a space.", withNetwork(`net.example.org/tier`, `net tier`), want{"spec.network.existing.dr.databaseSubnets.matchLabels", `"net tier"`, "must be a label key"}},
		"EndpointsByLabels": {"Create endpoints with Lambda subnets by labels: each association takes one subnet.", withNetwork(`"lambdaSubnets":{"ids":["subnet-0f1e2d3c4b5a60011","subnet-0f1e2d3c4b5a60012"]}`, `"lambdaSubnets":{"matchLabels":{"tier":"lambda"}}`), want{"spec.network.existing.dr.lambdaSubnets.matchLabels", "tier", "give lambdaSubnets.ids"}},
		"PeerNoRoutes":      {"Peer without route tables.", withNetwork(`,"routeTableIDs":["rtb-0a1b2c3d4e5f60021"]`, ``), want{"spec.network.existing.primary.routeTableIDs", "Required", "name the route tables"}},
		"RouteTableID":      {"A route table id that is not one.", withNetwork(`rtb-0a1b2c3d4e5f60021`, `main`), want{"spec.network.existing.primary.routeTableIDs[0]", `"main"`, "rtb-0123456789abcdef0"}},
		"ClientAnywhere":    {"Clients from anywhere.", access(`{"clientCIDRs":["0.0.0.0/0"]}`), want{"spec.access.clientCIDRs[0]", `"0.0.0.0/0"`, "name the clients' own ranges"}},
		"ClientAnyIPv6":     {"Clients from anywhere over IPv6.", managedAccess(`{"clientCIDRs":["::/0"]}`), want{"spec.access.clientCIDRs[0]", `"::/0"`, "name the clients' own ranges"}},
		"ClientGarbage":     {"A client range that is no CIDR.", managedAccess(`{"clientCIDRs":["office"]}`), want{"spec.access.clientCIDRs[0]", `"office"`, "10.20.0.0/16"}},
		"ClientHostBits":    {"A client range with host bits.", managedAccess(`{"clientCIDRs":["10.50.7.0/16"]}`), want{"spec.access.clientCIDRs[0]", `"10.50.7.0/16"`, "use the network address 10.50.0.0/16"}},
		"ClientDuplicate":   {"A client range twice.", managedAccess(`{"clientCIDRs":["10.50.0.0/16","10.50.0.0/16"]}`), want{"spec.access.clientCIDRs[1]", "10.50.0.0/16", "Duplicate"}},
		"ClientTooMany":     {"More client ranges than a security group holds rules.", managedAccess(`{"clientCIDRs":[` + manyCIDRs(41) + `]}`), want{"spec.access.clientCIDRs", "41", "40"}},
		"GroupID":           {"A security group id that is not one.", managedAccess(`{"dr":{"securityGroupIDs":["eks-nodes"]}}`), want{"spec.access.dr.securityGroupIDs[0]", `"eks-nodes"`, "sg-0123456789abcdef0"}},
		"ZoneVPCID":         {"A zone VPC id that is not one.", managedAccess(`{"primary":{"zoneVPCIDs":["vpc-1"]}}`), want{"spec.access.primary.zoneVPCIDs[0]", `"vpc-1"`, "vpc-0123456789abcdef0"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, tc.xr, nil))
			wantFatal(t, rsp, tc.reason, tc.want.path, tc.want.value, tc.want.fix)
		})
	}
}

func manyCIDRs(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = `"10.` + itoa(i) + `.0.0/16"`
	}
	return strings.Join(out, ",")
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestAccessRules checks the rules spec.access adds to each region's database security group, in
// both network modes. A security group ingress rule takes exactly one of cidr_ipv4, cidr_ipv6,
// prefix_list_id and referenced_security_group_id (resourcevalidator.ExactlyOneOf in
// ConfigValidators, internal/service/ec2/vpc_security_group_ingress_rule.go in the Terraform
// fork); a security group of another region cannot be referenced over an inter-region peering
// (Amazon VPC Peering guide, vpc-peering-security-groups.html: "You can't reference the security
// group of a peer VPC that's in a different Region. Instead, use the CIDR block of the peer VPC.").
func TestAccessRules(t *testing.T) {
	access := `{"clientCIDRs":["10.50.0.0/16"],"primary":{"securityGroupIDs":["sg-0a1b2c3d4e5f60031"]},"dr":{"securityGroupIDs":["sg-0f1e2d3c4b5a60031"]}}`
	type rule struct{ CIDR, Group, GroupSel string }
	cases := map[string]struct {
		reason string
		spec   string
		want   map[string]rule
	}{
		"Managed": {
			reason: "Managed mode: both VPCs, then the clients.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"access":` + access + `}`,
			want: map[string]rule{
				"primary-sgr-database-pg-vpc": {CIDR: "10.0.0.0/16"}, "primary-sgr-database-pg-peer": {CIDR: "10.1.0.0/16"},
				"primary-sgr-database-pg-cidr-10-50-0-0-16": {CIDR: "10.50.0.0/16"}, "primary-sgr-database-pg-sg-0a1b2c3d4e5f60031": {Group: "sg-0a1b2c3d4e5f60031"},
				"dr-sgr-database-pg-vpc": {CIDR: "10.1.0.0/16"}, "dr-sgr-database-pg-peer": {CIDR: "10.0.0.0/16"},
				"dr-sgr-database-pg-cidr-10-50-0-0-16": {CIDR: "10.50.0.0/16"}, "dr-sgr-database-pg-sg-0f1e2d3c4b5a60031": {Group: "sg-0f1e2d3c4b5a60031"},
				"dr-sgr-endpoints-https-vpc": {CIDR: "10.1.0.0/16"},
			},
		},
		"Existing": {
			reason: "Existing mode: the team's VPCs hold other workloads, so only the failover path gets in (its security group here, the peer VPC's CIDR from the other region), then the clients.",
			spec:   existingSpec(access),
			want: map[string]rule{
				"primary-sgr-database-pg-peer":              {CIDR: "10.21.0.0/16"},
				"primary-sgr-database-pg-cidr-10-50-0-0-16": {CIDR: "10.50.0.0/16"}, "primary-sgr-database-pg-sg-0a1b2c3d4e5f60031": {Group: "sg-0a1b2c3d4e5f60031"},
				"dr-sgr-database-pg-lambda":            {GroupSel: "dr-sg-lambda"},
				"dr-sgr-database-pg-cidr-10-50-0-0-16": {CIDR: "10.50.0.0/16"}, "dr-sgr-database-pg-sg-0f1e2d3c4b5a60031": {Group: "sg-0f1e2d3c4b5a60031"},
				"dr-sgr-endpoints-https-vpc": {CIDR: "10.21.0.0/16"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := converge(t, testInput, testXR(tc.spec), 0)
			got := map[string]rule{}
			for n, j := range observed {
				var o map[string]any
				_ = json.Unmarshal([]byte(j), &o)
				if o["kind"] != "SecurityGroupIngressRule" {
					continue
				}
				fp, _ := get(o, "spec.forProvider").(map[string]any)
				r := rule{}
				r.CIDR, _ = fp["cidrIpv4"].(string)
				r.Group, _ = fp["referencedSecurityGroupId"].(string)
				if ml, ok := get(o, "spec.forProvider.referencedSecurityGroupIdSelector.matchLabels").(map[string]any); ok {
					r.GroupSel, _ = ml[labelResource].(string)
				}
				if set := btoi(r.CIDR != "") + btoi(r.Group != "") + btoi(r.GroupSel != ""); set != 1 {
					t.Errorf("%s sets %d sources, want exactly one (ExactlyOneOf cidr_ipv4, referenced_security_group_id)", n, set)
				}
				got[n] = r
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\ningress rules: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAccessNamesFit checks that the resource names spec.access makes, at their longest, are
// label values (the function labels each resource with its name).
func TestAccessNamesFit(t *testing.T) {
	p := testPlan(t, existingSpec(`{"clientCIDRs":["255.255.255.255/32"],"primary":{"securityGroupIDs":["sg-0123456789abcdef0"],"zoneVPCIDs":["vpc-0123456789abcdef0"]}}`))
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildNetwork(p, observedState{}, d)
	buildZone(p, d)
	if len(d.Order) == 0 {
		t.Fatal("nothing built")
	}
	for _, n := range d.Order {
		if msgs := validation.IsValidLabelValue(string(n)); len(msgs) > 0 {
			t.Errorf("resource name %q is no label value: %v", n, msgs)
		}
	}
}
