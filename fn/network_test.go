package fn

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
	ec2v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta2"
)

// selectorTarget is the composition-resource name a selector selects, or "" for none.
func selectorTarget(s *xpv1.Selector) string {
	if s == nil {
		return ""
	}
	return s.MatchLabels[labelResource]
}

func networkBuild(p *xrPlan) func(observedState, *desiredState) {
	return func(o observedState, d *desiredState) { buildNetwork(p, o, d) }
}

// Summaries of what the network builder desires, by composition-resource name.
type (
	netVPC struct {
		Region, CIDR             string
		DNSSupport, DNSHostnames bool
	}
	netSubnet struct {
		Region, AZ, CIDR, VPC, Tier string
		PublicIPs                   bool
	}
	// netInVPC is a resource of a region's VPC: a route table or an internet gateway.
	netInVPC struct{ Region, VPC string }
	netEIP   struct{ Region, Domain string }
	netNAT   struct{ Region, Subnet, EIP string }
	// netRoute is a route: through a NAT or internet gateway (Via), or a peering.
	netRoute struct{ Region, RouteTable, Destination, Via string }
)

type networkSummary struct {
	VPCs             map[resource.Name]netVPC
	Subnets          map[resource.Name]netSubnet
	RouteTables      map[resource.Name]netInVPC
	InternetGateways map[resource.Name]netInVPC
	EIPs             map[resource.Name]netEIP
	NATs             map[resource.Name]netNAT
	Routes           map[resource.Name]netRoute
	// Associations maps a subnet to its route table.
	Associations map[resource.Name]string
}

func newNetworkSummary() networkSummary {
	return networkSummary{
		VPCs: map[resource.Name]netVPC{}, Subnets: map[resource.Name]netSubnet{},
		RouteTables: map[resource.Name]netInVPC{}, InternetGateways: map[resource.Name]netInVPC{},
		EIPs: map[resource.Name]netEIP{}, NATs: map[resource.Name]netNAT{},
		Routes: map[resource.Name]netRoute{}, Associations: map[resource.Name]string{},
	}
}

func summarizeNetwork(t *testing.T, d *desiredState) networkSummary {
	t.Helper()
	s := newNetworkSummary()
	for name, mr := range d.Resources {
		switch r := mr.(type) {
		case *ec2v1beta1.VPC:
			fp := r.Spec.ForProvider
			s.VPCs[name] = netVPC{deref(fp.Region), deref(fp.CidrBlock), deref(fp.EnableDNSSupport), deref(fp.EnableDNSHostnames)}
		case *ec2v1beta1.Subnet:
			fp := r.Spec.ForProvider
			s.Subnets[name] = netSubnet{deref(fp.Region), deref(fp.AvailabilityZone), deref(fp.CidrBlock), selectorTarget(fp.VPCIDSelector), r.GetLabels()[labelTier], deref(fp.MapPublicIPOnLaunch)}
		case *ec2v1beta1.RouteTable:
			fp := r.Spec.ForProvider
			s.RouteTables[name] = netInVPC{deref(fp.Region), selectorTarget(fp.VPCIDSelector)}
		case *ec2v1beta1.InternetGateway:
			fp := r.Spec.ForProvider
			s.InternetGateways[name] = netInVPC{deref(fp.Region), selectorTarget(fp.VPCIDSelector)}
		case *ec2v1beta1.EIP:
			fp := r.Spec.ForProvider
			s.EIPs[name] = netEIP{deref(fp.Region), deref(fp.Domain)}
		case *ec2v1beta1.NATGateway:
			fp := r.Spec.ForProvider
			s.NATs[name] = netNAT{deref(fp.Region), selectorTarget(fp.SubnetIDSelector), selectorTarget(fp.AllocationIDSelector)}
		case *ec2v1beta2.Route:
			fp := r.Spec.ForProvider
			via := selectorTarget(fp.NATGatewayIDSelector) + selectorTarget(fp.GatewayIDSelector) + selectorTarget(fp.VPCPeeringConnectionIDSelector) + deref(fp.VPCPeeringConnectionID)
			s.Routes[name] = netRoute{deref(fp.Region), selectorTarget(fp.RouteTableIDSelector), deref(fp.DestinationCidrBlock), via}
		case *ec2v1beta1.RouteTableAssociation:
			fp := r.Spec.ForProvider
			subnet := resource.Name(selectorTarget(fp.SubnetIDSelector))
			if want := string(subnet) + "-rta"; string(name) != want {
				t.Errorf("route table association %s is not named after its subnet (%s)", name, want)
			}
			s.Associations[subnet] = selectorTarget(fp.RouteTableIDSelector)
		}
	}
	return s
}

// regionNetwork is what one region's network should be, from the spec.
type regionNetwork struct {
	region string
	vpc    string
	azs    []string
	// lambdas is whether the Lambdas run in the region. Only then does it have public and lambda
	// subnets, an internet gateway, NATs with their EIPs and private route tables, the Lambda and
	// endpoints security groups and the interface endpoints; otherwise it has its database
	// subnets, one private route table without a default route and the database security group.
	lambdas bool
	// cidrs are the planned subnets of each tier the region has, in the order of azs.
	cidrs map[subnetTier][]string
	// nats are the AZ letters with a NAT gateway.
	nats []string
	// natOf is, per AZ in the order of azs, the letter of the NAT its private subnets route through.
	natOf []string
}

// expect is the summary a region's network should have.
func (w regionNetwork) expect(role Role, s *networkSummary) {
	vpc := string(vpcName(role))
	s.VPCs[vpcName(role)] = netVPC{Region: w.region, CIDR: w.vpc, DNSSupport: true, DNSHostnames: true}
	for tier, cidrs := range w.cidrs {
		for i, az := range w.azs {
			s.Subnets[subnetName(role, tier, az)] = netSubnet{Region: w.region, AZ: az, CIDR: cidrs[i], VPC: vpc, Tier: string(tier)}
		}
	}
	if !w.lambdas {
		rt := resourceName(role, "rt", "private")
		s.RouteTables[rt] = netInVPC{w.region, vpc}
		for _, az := range w.azs {
			s.Associations[subnetName(role, tierDatabase, az)] = string(rt)
		}
		return
	}
	s.InternetGateways[resourceName(role, "igw")] = netInVPC{w.region, vpc}
	s.RouteTables[resourceName(role, "rt", "public")] = netInVPC{w.region, vpc}
	s.Routes[resourceName(role, "route", "public", "default")] = netRoute{w.region, string(resourceName(role, "rt", "public")), "0.0.0.0/0", string(resourceName(role, "igw"))}
	for _, l := range w.nats {
		s.EIPs[resourceName(role, "eip", l)] = netEIP{w.region, "vpc"}
		s.NATs[resourceName(role, "nat", l)] = netNAT{w.region, string(resourceName(role, "subnet", "public", l)), string(resourceName(role, "eip", l))}
		s.RouteTables[resourceName(role, "rt", "private", l)] = netInVPC{w.region, vpc}
		s.Routes[resourceName(role, "route", "private", l, "default")] = netRoute{w.region, string(resourceName(role, "rt", "private", l)), "0.0.0.0/0", string(resourceName(role, "nat", l))}
	}
	for i, az := range w.azs {
		s.Associations[subnetName(role, tierPublic, az)] = string(resourceName(role, "rt", "public"))
		s.Associations[subnetName(role, tierDatabase, az)] = string(resourceName(role, "rt", "private", w.natOf[i]))
		s.Associations[subnetName(role, tierLambda, az)] = string(resourceName(role, "rt", "private", w.natOf[i]))
	}
}

// databaseOnly is every network resource, by name, of a region without the Lambdas before the
// peering: nothing but these.
func (w regionNetwork) databaseOnly(role Role) []string {
	r := string(role)
	out := []string{r + "-vpc", r + "-rt-private", r + "-sg-database", r + "-sgr-database-pg-vpc", r + "-sgr-database-pg-peer"}
	for _, az := range w.azs {
		subnet := r + "-subnet-database-" + az[len(az)-1:]
		out = append(out, subnet, subnet+"-rta")
	}
	slices.Sort(out)
	return out
}

func TestBuildNetwork(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   string
		want   map[Role]regionNetwork
	}{
		"DefaultsThreeAZsTwoNATs": {
			reason: "The default plan: /16 VPCs, /24 subnets in slots 0, 8 and 16 of each tier over the region's first three AZs. The DR region, where the Lambdas run, has all three tiers, NATs in the first two AZs and the third AZ routed through the first NAT; the primary has only its database subnets (slot 8) and one private route table.",
			spec:   builderSpec,
			want: map[Role]regionNetwork{
				// The Lambdas run in the DR region (p.LambdaRole), so nothing in the primary
				// region needs public or lambda subnets, an internet gateway, NAT (to reach AWS
				// APIs), interface endpoints or the Lambda and endpoints security groups: the
				// primary's network is its database's, and its one private route table has no
				// default route, only the route to the peer VPC (TestNetworkPeering). The
				// database subnets keep their slots of the plan.
				RolePrimary: {
					region: "us-east-1", vpc: "10.0.0.0/16", azs: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
					cidrs: map[subnetTier][]string{
						tierDatabase: {"10.0.8.0/24", "10.0.9.0/24", "10.0.10.0/24"},
					},
				},
				RoleDR: {
					region: "us-east-2", vpc: "10.1.0.0/16", azs: []string{"us-east-2a", "us-east-2b", "us-east-2c"}, lambdas: true,
					cidrs: map[subnetTier][]string{
						tierPublic:   {"10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"},
						tierDatabase: {"10.1.8.0/24", "10.1.9.0/24", "10.1.10.0/24"},
						tierLambda:   {"10.1.16.0/24", "10.1.17.0/24", "10.1.18.0/24"},
					},
					nats: []string{"a", "b"}, natOf: []string{"a", "b", "a"},
				},
			},
		},
		"TwoAZsOneNAT": {
			reason: "azCount 2 and one NAT: two subnets per tier of the spec's prefix in the spec's CIDRs; in the DR region one NAT and one private route table for every private subnet, in the primary two database subnets on its one private route table.",
			spec: `{"regions":{"primary":"eu-west-1","dr":"eu-central-1"},
"network":{"primaryCIDR":"10.20.0.0/20","drCIDR":"172.16.0.0/16","subnetPrefix":25,"azCount":2,"natGateways":1}}`,
			want: map[Role]regionNetwork{
				// No Lambdas in the primary region (p.LambdaRole is the DR's): database subnets and
				// one private route table only, as in DefaultsThreeAZsTwoNATs.
				RolePrimary: {
					region: "eu-west-1", vpc: "10.20.0.0/20", azs: []string{"eu-west-1a", "eu-west-1b"},
					cidrs: map[subnetTier][]string{
						tierDatabase: {"10.20.4.0/25", "10.20.4.128/25"},
					},
				},
				RoleDR: {
					region: "eu-central-1", vpc: "172.16.0.0/16", azs: []string{"eu-central-1a", "eu-central-1b"}, lambdas: true,
					cidrs: map[subnetTier][]string{
						tierPublic:   {"172.16.0.0/25", "172.16.0.128/25"},
						tierDatabase: {"172.16.4.0/25", "172.16.4.128/25"},
						tierLambda:   {"172.16.8.0/25", "172.16.8.128/25"},
					},
					nats: []string{"a"}, natOf: []string{"a", "a"},
				},
			},
		},
		"ExplicitAZsNATPerAZ": {
			reason: "Explicit AZs are used in the spec's order (not sorted) for the subnet slots and the NATs; in the DR region one NAT per AZ routes each AZ through its own NAT, the primary still gets no NAT and one private route table whatever natGateways says.",
			spec: `{"regions":{"primary":"us-east-1","dr":"us-west-2"},
"network":{"azCount":3,"natGateways":3,"primaryAZs":["us-east-1f","us-east-1d","us-east-1a"],"drAZs":["us-west-2d","us-west-2b","us-west-2c"]}}`,
			want: map[Role]regionNetwork{
				// No Lambdas in the primary region (p.LambdaRole is the DR's): natGateways is the
				// DR region's alone.
				RolePrimary: {
					region: "us-east-1", vpc: "10.0.0.0/16", azs: []string{"us-east-1f", "us-east-1d", "us-east-1a"},
					cidrs: map[subnetTier][]string{
						tierDatabase: {"10.0.8.0/24", "10.0.9.0/24", "10.0.10.0/24"},
					},
				},
				RoleDR: {
					region: "us-west-2", vpc: "10.1.0.0/16", azs: []string{"us-west-2d", "us-west-2b", "us-west-2c"}, lambdas: true,
					cidrs: map[subnetTier][]string{
						tierPublic:   {"10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"},
						tierDatabase: {"10.1.8.0/24", "10.1.9.0/24", "10.1.10.0/24"},
						tierLambda:   {"10.1.16.0/24", "10.1.17.0/24", "10.1.18.0/24"},
					},
					nats: []string{"d", "b", "c"}, natOf: []string{"d", "b", "c"},
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPlan(t, tc.spec)
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildNetwork(p, observedState{}, d)
			if err := d.Err(); err != nil {
				t.Fatalf("\n%s\nbuildNetwork: %v", tc.reason, err)
			}
			got := summarizeNetwork(t, d)
			want := newNetworkSummary()
			for role, w := range tc.want {
				w.expect(role, &want)
			}
			for _, c := range []struct {
				what      string
				want, got any
			}{
				{"VPCs", want.VPCs, got.VPCs},
				{"subnets", want.Subnets, got.Subnets},
				{"route tables", want.RouteTables, got.RouteTables},
				{"internet gateways", want.InternetGateways, got.InternetGateways},
				{"EIPs", want.EIPs, got.EIPs},
				{"NAT gateways", want.NATs, got.NATs},
				{"routes (before the peering)", want.Routes, got.Routes},
				{"route table associations", want.Associations, got.Associations},
			} {
				if diff := cmp.Diff(c.want, c.got); diff != "" {
					t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, c.what, diff)
				}
			}
			for role, w := range tc.want {
				if w.lambdas {
					continue
				}
				if diff := cmp.Diff(w.databaseOnly(role), names(d, string(role)+"-")); diff != "" {
					t.Errorf("\n%s\nthe %s region's network resources, nothing for Lambdas (no public or lambda subnets, internet gateway, NAT, EIP, endpoints, Lambda or endpoints security groups): -want, +got:\n%s", tc.reason, role, diff)
				}
				for n, r := range got.Routes {
					if r.Region == w.region && r.Destination == anyIPv4 {
						t.Errorf("\n%s\n%s: a default route in the %s region (%s), which has no NAT or internet gateway", tc.reason, n, role, w.region)
					}
				}
			}
		})
	}
}

func TestNetworkSecurityGroups(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"primaryCIDR":"10.20.0.0/16","drCIDR":"10.30.0.0/16"}}`)
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildNetwork(p, observedState{}, d)

	type rule struct {
		Ingress             bool
		Region, Group, CIDR string
		Protocol            string
		FromPort, ToPort    float64
	}
	got := map[resource.Name]rule{}
	for name, mr := range d.Resources {
		switch r := mr.(type) {
		case *ec2v1beta1.SecurityGroupIngressRule:
			fp := r.Spec.ForProvider
			got[name] = rule{true, deref(fp.Region), selectorTarget(fp.SecurityGroupIDSelector), deref(fp.CidrIPv4), deref(fp.IPProtocol), deref(fp.FromPort), deref(fp.ToPort)}
		case *ec2v1beta1.SecurityGroupEgressRule:
			fp := r.Spec.ForProvider
			got[name] = rule{false, deref(fp.Region), selectorTarget(fp.SecurityGroupIDSelector), deref(fp.CidrIPv4), deref(fp.IPProtocol), deref(fp.FromPort), deref(fp.ToPort)}
		}
	}
	sg := func(role Role, purpose string) string { return string(securityGroupName(role, purpose)) }

	// The Lambdas run in the DR region (p.LambdaRole): the primary region has no Lambda or
	// endpoints security group, so none of their rules; its database takes 5432 as the DR's does.
	noLambdas := "No Lambdas and no endpoints in the primary region (they run in the DR region, p.LambdaRole): "
	cases := map[string]struct {
		reason string
		name   resource.Name
		// want is the rule, nil if it must not be desired.
		want *rule
	}{
		"PrimaryPostgresFromOwnVPC":   {"The primary database takes 5432 from its own VPC.", "primary-sgr-database-pg-vpc", &rule{true, "us-east-1", sg(RolePrimary, sgDatabase), "10.20.0.0/16", "tcp", 5432, 5432}},
		"PrimaryPostgresFromPeer":     {"The primary database takes 5432 from the DR VPC (the replica, the DR Lambdas).", "primary-sgr-database-pg-peer", &rule{true, "us-east-1", sg(RolePrimary, sgDatabase), "10.30.0.0/16", "tcp", 5432, 5432}},
		"PrimaryNoEndpointsHTTPS":     {noLambdas + "no 443 to endpoints.", "primary-sgr-endpoints-https-vpc", nil},
		"PrimaryNoLambdaPostgresOwn":  {noLambdas + "no Lambda egress to PostgreSQL in the VPC.", "primary-sgr-lambda-pg-vpc", nil},
		"PrimaryNoLambdaPostgresPeer": {noLambdas + "no Lambda egress to PostgreSQL in the DR VPC.", "primary-sgr-lambda-pg-peer", nil},
		"PrimaryNoLambdaHTTPS":        {noLambdas + "no Lambda egress to 0.0.0.0/0.", "primary-sgr-lambda-https", nil},
		"DRPostgresFromOwnVPC":        {"The replica takes 5432 from the DR VPC.", "dr-sgr-database-pg-vpc", &rule{true, "us-east-2", sg(RoleDR, sgDatabase), "10.30.0.0/16", "tcp", 5432, 5432}},
		"DRPostgresFromPeer":          {"The replica takes 5432 from the primary VPC.", "dr-sgr-database-pg-peer", &rule{true, "us-east-2", sg(RoleDR, sgDatabase), "10.20.0.0/16", "tcp", 5432, 5432}},
		"DREndpointsHTTPS":            {"The DR endpoints take 443 from the DR VPC only.", "dr-sgr-endpoints-https-vpc", &rule{true, "us-east-2", sg(RoleDR, sgEndpoints), "10.30.0.0/16", "tcp", 443, 443}},
		"DRLambdaPostgresOwn":         {"DR Lambdas reach the replica.", "dr-sgr-lambda-pg-vpc", &rule{false, "us-east-2", sg(RoleDR, sgLambda), "10.30.0.0/16", "tcp", 5432, 5432}},
		"DRLambdaPostgresPeer":        {"DR Lambdas reach the primary across the peering.", "dr-sgr-lambda-pg-peer", &rule{false, "us-east-2", sg(RoleDR, sgLambda), "10.20.0.0/16", "tcp", 5432, 5432}},
		"DRLambdaHTTPS":               {"DR Lambdas reach AWS APIs on 443 (through the NAT or the endpoints).", "dr-sgr-lambda-https", &rule{false, "us-east-2", sg(RoleDR, sgLambda), "0.0.0.0/0", "tcp", 443, 443}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, ok := got[tc.name]
			switch {
			case tc.want == nil && ok:
				t.Fatalf("\n%s\n%s is desired: %+v", tc.reason, tc.name, r)
			case tc.want == nil:
				return
			case !ok:
				t.Fatalf("\n%s\n%s is not a desired security group rule", tc.reason, tc.name)
			}
			if diff := cmp.Diff(*tc.want, r); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, tc.name, diff)
			}
		})
	}

	t.Run("NoOtherRules", func(t *testing.T) {
		want := make([]string, 0, len(cases))
		for _, tc := range cases {
			if tc.want != nil {
				want = append(want, string(tc.name))
			}
		}
		slices.Sort(want)
		if diff := cmp.Diff(want, names(d, "primary-sgr-", "dr-sgr-")); diff != "" {
			t.Errorf("the security group rules are exactly the ones above (no 0.0.0.0/0 ingress, no ingress to the Lambdas, nothing for Lambdas in the primary region): -want, +got:\n%s", diff)
		}
		for n, r := range got {
			if r.Ingress && r.CIDR == anyIPv4 {
				t.Errorf("%s lets anyone in: ingress from %s", n, r.CIDR)
			}
			if r.Ingress && strings.HasSuffix(r.Group, "-"+sgLambda) {
				t.Errorf("%s: the Lambdas' security group takes no ingress", n)
			}
			if r.Region == "us-east-1" && r.CIDR == anyIPv4 {
				t.Errorf("%s: a rule to or from %s in the primary region, which has no Lambdas", n, r.CIDR)
			}
		}
	})

	t.Run("Groups", func(t *testing.T) {
		type group struct {
			Region, VPC    string
			RevokeOnDelete bool
		}
		gotGroups := map[resource.Name]group{}
		for name, mr := range d.Resources {
			if g, ok := mr.(*ec2v1beta1.SecurityGroup); ok {
				fp := g.Spec.ForProvider
				gotGroups[name] = group{deref(fp.Region), selectorTarget(fp.VPCIDSelector), deref(fp.RevokeRulesOnDelete)}
			}
		}
		want := map[resource.Name]group{}
		for role, r := range map[Role]struct {
			region   string
			purposes []string
		}{
			// The primary region holds only its database: no Lambda or endpoints group.
			RolePrimary: {"us-east-1", []string{sgDatabase}},
			RoleDR:      {"us-east-2", []string{sgDatabase, sgLambda, sgEndpoints}},
		} {
			for _, purpose := range r.purposes {
				want[securityGroupName(role, purpose)] = group{r.region, string(vpcName(role)), true}
			}
		}
		if diff := cmp.Diff(want, gotGroups); diff != "" {
			t.Errorf("the database group in the primary region, three groups in the DR region where the Lambdas run, each in its region's VPC, their rules revoked on delete: -want, +got:\n%s", diff)
		}
	})
}

func TestNetworkEndpoints(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"eu-west-1","dr":"eu-central-1"},"network":{"azCount":2,"natGateways":1}}`)
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildNetwork(p, observedState{}, d)

	type endpoint struct {
		Region, Service, Type, VPC, SecurityGroup string
		PrivateDNS, ReplaceDefaultSG              bool
		Subnets                                   []string
	}
	got := map[resource.Name]*endpoint{}
	at := func(name string) *endpoint {
		if got[resource.Name(name)] == nil {
			got[resource.Name(name)] = &endpoint{}
		}
		return got[resource.Name(name)]
	}
	for name, mr := range d.Resources {
		switch r := mr.(type) {
		case *ec2v1beta2.VPCEndpoint:
			fp := r.Spec.ForProvider
			e := at(string(name))
			e.Region, e.Service, e.Type, e.VPC, e.PrivateDNS = deref(fp.Region), deref(fp.ServiceName), deref(fp.VPCEndpointType), selectorTarget(fp.VPCIDSelector), deref(fp.PrivateDNSEnabled)
		case *ec2v1beta1.VPCEndpointSecurityGroupAssociation:
			fp := r.Spec.ForProvider
			e := at(selectorTarget(fp.VPCEndpointIDSelector))
			e.SecurityGroup, e.ReplaceDefaultSG = selectorTarget(fp.SecurityGroupIDSelector), deref(fp.ReplaceDefaultAssociation)
		case *ec2v1beta1.VPCEndpointSubnetAssociation:
			fp := r.Spec.ForProvider
			e := at(selectorTarget(fp.VPCEndpointIDSelector))
			e.Subnets = append(e.Subnets, selectorTarget(fp.SubnetIDSelector))
			slices.Sort(e.Subnets)
		}
	}

	cases := map[string]struct {
		reason string
		role   Role
		region string
		// services are the endpoints the region has, subnets the lambda subnets they sit in.
		services, subnets []string
	}{
		// The Lambdas run in the DR region (p.LambdaRole): nothing in the primary region calls
		// Secrets Manager, Logs, SNS or CloudWatch, so it has no endpoint and no association.
		"Primary": {"The primary region has no Lambdas, so no interface endpoints (nor their security group and subnet associations).", RolePrimary, "eu-west-1", nil, nil},
		"DR": {
			"The DR region's Lambdas reach Secrets Manager, Logs, SNS and CloudWatch in eu-central-1 without leaving the VPC: endpoints of the DR region's services in the DR VPC and its lambda subnets.",
			RoleDR, "eu-central-1", []string{"secretsmanager", "logs", "sns", "monitoring"}, []string{"dr-subnet-lambda-a", "dr-subnet-lambda-b"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := string(tc.role)
			want := map[resource.Name]*endpoint{}
			for _, svc := range tc.services {
				want[resource.Name(r+"-vpce-"+svc)] = &endpoint{
					Region: tc.region, Service: "com.amazonaws." + tc.region + "." + svc, Type: "Interface", VPC: r + "-vpc",
					SecurityGroup: r + "-sg-endpoints", PrivateDNS: true, ReplaceDefaultSG: true,
					Subnets: tc.subnets,
				}
			}
			mine := map[resource.Name]*endpoint{}
			for n, e := range got {
				if strings.HasPrefix(string(n), r+"-") || e.Region == tc.region {
					mine[n] = e
				}
			}
			if diff := cmp.Diff(want, mine); diff != "" {
				t.Errorf("\n%s\ninterface endpoints: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestNetworkPeering(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-west-2"},
"network":{"primaryCIDR":"10.20.0.0/16","drCIDR":"10.30.0.0/16","azCount":3,"natGateways":3}}`)
	first := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildNetwork(p, observedState{}, first)
	const drVPC, primaryVPC, pcx = "vpc-0d0d0d0d0d0d0d0d0", "vpc-0a0a0a0a0a0a0a0a0", "pcx-0123456789abcdef0"
	drVPCObserved := observedState{vpcName(RoleDR): observedFixture(t, vpcName(RoleDR), first.Resources[vpcName(RoleDR)], map[string]any{"id": drVPC})}
	primaryVPCObserved := observedState{vpcName(RolePrimary): observedFixture(t, vpcName(RolePrimary), first.Resources[vpcName(RolePrimary)], map[string]any{"id": primaryVPC})}
	second := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildNetwork(p, drVPCObserved, second)
	if second.Resources[peeringName()] == nil {
		t.Fatalf("%s is not desired once the DR VPC's id is observed", peeringName())
	}
	peeringObserved := observedState{
		vpcName(RoleDR): drVPCObserved[vpcName(RoleDR)],
		peeringName():   observedFixture(t, peeringName(), second.Resources[peeringName()], map[string]any{"id": pcx}),
	}

	type requester struct{ Region, VPC, PeerVPCID, PeerRegion string }
	type accepter struct {
		Region, ConnectionID string
		AutoAccept           bool
	}
	// The primary region has no NAT whatever natGateways says (the Lambdas run in the DR region,
	// p.LambdaRole): its one private route table, that of its database subnets, routes to the DR
	// VPC; the DR region routes each of its per-NAT private route tables to the primary VPC.
	primaryPeerRoutes := map[resource.Name]netRoute{
		"primary-rt-private-peer": {"us-east-1", "primary-rt-private", "10.30.0.0/16", string(peeringName())},
	}
	drPeerRoutes := map[resource.Name]netRoute{
		"dr-rt-private-a-peer": {"us-west-2", "dr-rt-private-a", "10.20.0.0/16", pcx},
		"dr-rt-private-b-peer": {"us-west-2", "dr-rt-private-b", "10.20.0.0/16", pcx},
		"dr-rt-private-c-peer": {"us-west-2", "dr-rt-private-c", "10.20.0.0/16", pcx},
	}
	both := map[resource.Name]netRoute{}
	maps.Copy(both, primaryPeerRoutes)
	maps.Copy(both, drPeerRoutes)
	waitDRVPC := "the DR VPC's id (dr-vpc), to request the VPC peering"
	waitPeering := "the VPC peering connection's id (primary-peering), to accept it in us-west-2"

	cases := map[string]struct {
		reason        string
		observed      observedState
		wantRequester *requester
		wantAccepter  *accepter
		wantRoutes    map[resource.Name]netRoute
		wantWaiting   []string
	}{
		"NothingObserved": {
			reason:      "The requester names the DR VPC by id, a cross-region value read from its status: nothing of the peering until it is observed.",
			observed:    observedState{},
			wantRoutes:  map[resource.Name]netRoute{},
			wantWaiting: []string{waitDRVPC},
		},
		"PrimaryVPCOnly": {
			reason:      "The primary VPC's id is not what the requester waits for.",
			observed:    primaryVPCObserved,
			wantRoutes:  map[resource.Name]netRoute{},
			wantWaiting: []string{waitDRVPC},
		},
		"DRVPCObserved": {
			reason:        "With the DR VPC's id the primary requests the peering to it in the DR region and routes its database subnets' one private route table to the DR CIDR through it; the accepter waits for the connection's id.",
			observed:      drVPCObserved,
			wantRequester: &requester{"us-east-1", string(vpcName(RolePrimary)), drVPC, "us-west-2"},
			wantRoutes:    primaryPeerRoutes,
			wantWaiting:   []string{waitPeering},
		},
		"PeeringObserved": {
			reason:        "With the connection's id the DR region accepts it and routes its private subnets to the primary CIDR by that id, in each of its three per-NAT route tables.",
			observed:      peeringObserved,
			wantRequester: &requester{"us-east-1", string(vpcName(RolePrimary)), drVPC, "us-west-2"},
			wantAccepter:  &accepter{"us-west-2", pcx, true},
			wantRoutes:    both,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildNetwork(p, tc.observed, d)
			if err := d.Err(); err != nil {
				t.Fatalf("\n%s\nbuildNetwork: %v", tc.reason, err)
			}
			var gotRequester *requester
			if r, ok := d.Resources[peeringName()].(*ec2v1beta2.VPCPeeringConnection); ok {
				fp := r.Spec.ForProvider
				gotRequester = &requester{deref(fp.Region), selectorTarget(fp.VPCIDSelector), deref(fp.PeerVPCID), deref(fp.PeerRegion)}
				if fp.AutoAccept != nil {
					t.Errorf("\n%s\nthe cross-region requester sets autoAccept %v: only the accepter can accept across regions", tc.reason, *fp.AutoAccept)
				}
			}
			if diff := cmp.Diff(tc.wantRequester, gotRequester); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, peeringName(), diff)
			}
			var gotAccepter *accepter
			if r, ok := d.Resources[peeringAccepterName()].(*ec2v1beta2.VPCPeeringConnectionAccepter); ok {
				fp := r.Spec.ForProvider
				gotAccepter = &accepter{deref(fp.Region), deref(fp.VPCPeeringConnectionID), deref(fp.AutoAccept)}
			}
			if diff := cmp.Diff(tc.wantAccepter, gotAccepter); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, peeringAccepterName(), diff)
			}
			gotRoutes := map[resource.Name]netRoute{}
			for n, r := range summarizeNetwork(t, d).Routes {
				if strings.HasSuffix(string(n), "-peer") {
					gotRoutes[n] = r
				}
			}
			if diff := cmp.Diff(tc.wantRoutes, gotRoutes); diff != "" {
				t.Errorf("\n%s\nroutes to the peer VPC: -want, +got:\n%s", tc.reason, diff)
			}
			for n, r := range gotRoutes {
				if _, ok := d.Resources[resource.Name(r.RouteTable)].(*ec2v1beta1.RouteTable); !ok {
					t.Errorf("\n%s\n%s routes in %s, which is not a desired route table", tc.reason, n, r.RouteTable)
				}
			}
			if diff := cmp.Diff(tc.wantWaiting, d.Waiting); diff != "" {
				t.Errorf("\n%s\nwaiting: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	t.Run("Settled", func(t *testing.T) {
		d, o := settle(t, p, observedState{}, networkBuild(p))
		if len(d.Waiting) > 0 {
			t.Errorf("still waiting once everything is observed:\n%s", strings.Join(d.Waiting, "\n"))
		}
		a, ok := d.Resources[peeringAccepterName()].(*ec2v1beta2.VPCPeeringConnectionAccepter)
		if !ok {
			t.Fatalf("%s is not desired once everything is observed", peeringAccepterName())
		}
		observedID := deref(observedAs[ec2v1beta2.VPCPeeringConnection](o, peeringName()).Status.AtProvider.ID)
		if observedID == "" || deref(a.Spec.ForProvider.VPCPeeringConnectionID) != observedID {
			t.Errorf("the accepter accepts connection %q, want the observed requester's id %q", deref(a.Spec.ForProvider.VPCPeeringConnectionID), observedID)
		}
		r, ok := d.Resources[peeringName()].(*ec2v1beta2.VPCPeeringConnection)
		if !ok {
			t.Fatalf("%s is not desired once everything is observed", peeringName())
		}
		if got, want := deref(r.Spec.ForProvider.PeerVPCID), deref(observedAs[ec2v1beta1.VPC](o, vpcName(RoleDR)).Status.AtProvider.ID); want == "" || got != want {
			t.Errorf("the requester peers with VPC %q, want the observed DR VPC's id %q", got, want)
		}
	})
}

func TestNetworkFollowsFailoverPath(t *testing.T) {
	cases := map[string]struct {
		reason string
		role   Role
		armed  bool
		want   map[Role]bool // whether the region has Lambda subnets
	}{
		"DR":        {reason: "The primary writes: the DR region hosts the failover path and its network.", role: RoleDR, armed: true, want: map[Role]bool{RolePrimary: false, RoleDR: true}},
		"Primary":   {reason: "The DR instance writes and the primary region is re-seeded: the path and its network move there.", role: RolePrimary, armed: true, want: map[Role]bool{RolePrimary: true, RoleDR: false}},
		"NoReplica": {reason: "No replica anywhere (switched over, not re-seeded yet): no region pays for the path's network.", role: RolePrimary, armed: false, want: map[Role]bool{RolePrimary: false, RoleDR: false}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPlan(t, builderSpec)
			p.LambdaRole, p.PathArmed = tc.role, tc.armed
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildNetwork(p, observedState{}, d)
			for _, r := range roles {
				az := p.Regions[r].AZs[0]
				if _, got := d.Resources[subnetName(r, tierLambda, az)]; got != tc.want[r] {
					t.Errorf("\n%s\n%s Lambda subnet desired: %v, want %v", tc.reason, r, got, tc.want[r])
				}
			}
		})
	}
}

// TestExistingNetwork checks Existing mode over a whole converged graph: no network of our own
// (no VPC, subnet, NAT gateway, internet gateway, EIP or route table), and everything that sits
// in a network names the team's VPC and subnets, by id or by the labels given.
func TestExistingNetwork(t *testing.T) {
	connected := strings.Replace(strings.Replace(existingSpec(""), `"Peer"`, `"Connected"`, 1), `"Create"`, `"Existing"`, 1)
	cases := map[string]struct {
		reason    string
		spec      string
		wantKinds map[string]int // network kinds composed and how many
	}{
		"Peer": {
			reason:    "Peered by the function, endpoints created: a peering, its accepter, one route per given route table, the endpoints with one subnet association per given Lambda subnet.",
			spec:      existingSpec(""),
			wantKinds: map[string]int{"VPCPeeringConnection": 1, "VPCPeeringConnectionAccepter": 1, "Route": 2, "VPCEndpoint": 4, "VPCEndpointSubnetAssociation": 8, "VPCEndpointSecurityGroupAssociation": 4, "SecurityGroup": 4},
		},
		"Connected": {
			reason:    "Already connected, endpoints existing: security groups only.",
			spec:      connected,
			wantKinds: map[string]int{"SecurityGroup": 3},
		},
	}
	networkKinds := []string{"VPC", "Subnet", "InternetGateway", "EIP", "NATGateway", "RouteTable", "RouteTableAssociation", "Route", "VPCPeeringConnection", "VPCPeeringConnectionAccepter", "VPCEndpoint", "VPCEndpointSubnetAssociation", "VPCEndpointSecurityGroupAssociation", "SecurityGroup"}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := converge(t, testInput, testXR(tc.spec), 0)
			got := map[string]int{}
			objs := map[string]map[string]any{}
			for n, j := range observed {
				o := mustMap(t, j)
				objs[n] = o
				if k, _ := o["kind"].(string); slices.Contains(networkKinds, k) {
					got[k]++
				}
			}
			if diff := cmp.Diff(tc.wantKinds, got); diff != "" {
				t.Errorf("\n%s\nnetwork kinds composed: -want, +got:\n%s", tc.reason, diff)
			}
			checks := []struct {
				resource, path string
				want           any
			}{
				{"primary-db-subnet-group", "spec.forProvider.subnetIds", []any{"subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"}},
				{"dr-db-subnet-group", "spec.forProvider.subnetIdSelector", map[string]any{"matchLabels": map[string]any{"net.example.org/tier": "database"}}},
				{"dr-lambda-failover", "spec.forProvider.vpcConfig.subnetIds", []any{"subnet-0f1e2d3c4b5a60011", "subnet-0f1e2d3c4b5a60012"}},
				{"primary-sg-database", "spec.forProvider.vpcId", "vpc-0a1b2c3d4e5f60718"},
				{"dr-sg-lambda", "spec.forProvider.vpcId", "vpc-0f1e2d3c4b5a69788"},
				{"primary-dns-zone", "spec.forProvider.vpc", []any{
					map[string]any{"vpcId": "vpc-0a1b2c3d4e5f60718", "vpcRegion": "us-east-1"},
					map[string]any{"vpcId": "vpc-0f1e2d3c4b5a69788", "vpcRegion": "us-east-2"},
				}},
			}
			for _, c := range checks {
				o, ok := objs[c.resource]
				if !ok {
					t.Errorf("%s not composed", c.resource)
					continue
				}
				if diff := cmp.Diff(c.want, get(o, c.path)); diff != "" {
					t.Errorf("\n%s\n%s %s: -want, +got:\n%s", tc.reason, c.resource, c.path, diff)
				}
			}
			if name == "Peer" {
				if diff := cmp.Diff("vpc-0f1e2d3c4b5a69788", get(objs["primary-peering"], "spec.forProvider.peerVpcId")); diff != "" {
					t.Errorf("the peering's peer VPC: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff("rtb-0f1e2d3c4b5a60021", get(objs["dr-route-rtb-0f1e2d3c4b5a60021-peer"], "spec.forProvider.routeTableId")); diff != "" {
					t.Errorf("the DR route's table: -want, +got:\n%s", diff)
				}
			}
		})
	}
}
