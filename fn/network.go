package fn

import (
	"fmt"

	"github.com/crossplane/function-sdk-go/resource"

	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
	ec2v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta2"
)

// PostgresPort is the port both databases listen on.
const PostgresPort = 5432

// anyIPv4 is the default route's destination.
const anyIPv4 = "0.0.0.0/0"

// endpointServices are the interface VPC endpoints each region gets, so that the Lambdas reach
// these AWS APIs without leaving the VPC.
var endpointServices = []string{"secretsmanager", "logs", "sns", "monitoring"} //nolint:gochecknoglobals // A constant list.

// Composition-resource names of the network layer, one function each so builders of other
// layers select these resources without spelling the names again.

// VPCName is the VPC's resource name.
func VPCName(r Role) resource.Name { return ResourceName(r, "vpc") }

// VPCID returns the observed id of a role's VPC, or "".
func VPCID(o Observed, r Role) string {
	return deref(observedAs[ec2v1beta1.VPC](o, VPCName(r)).Status.AtProvider.ID)
}

// SubnetID returns the observed id of a subnet, or "".
func SubnetID(o Observed, name resource.Name) string {
	return deref(observedAs[ec2v1beta1.Subnet](o, name).Status.AtProvider.ID)
}

// SubnetName is the resource name of a tier's subnet in an AZ.
func SubnetName(r Role, t Tier, az string) resource.Name {
	return ResourceName(r, "subnet", string(t), AZLetter(az))
}

// SecurityGroupName is the resource name of a security group.
func SecurityGroupName(r Role, purpose string) resource.Name {
	return ResourceName(r, "sg", purpose)
}

// PeeringName is the resource name of the VPC peering connection (requested from the primary).
func PeeringName() resource.Name { return ResourceName(RolePrimary, "peering") }

// PeeringAccepterName is the resource name of the peering accepter in the DR region.
func PeeringAccepterName() resource.Name { return ResourceName(RoleDR, "peering-accepter") }

// Security group purposes.
const (
	SGDatabase  = "database"
	SGLambda    = "lambda"
	SGEndpoints = "endpoints"
)

// BuildNetwork adds both regions' networks and the peering between them.
func BuildNetwork(p *Plan, o Observed, d *Desired) {
	for _, role := range Roles {
		buildRegionNetwork(p, p.Regions[role], d)
	}
	buildPeering(p, o, d)
}

func buildRegionNetwork(p *Plan, rp RegionPlan, d *Desired) {
	role, region := rp.Role, &rp.Region
	vpc := VPCName(role)
	d.Add(vpc, &ec2v1beta1.VPC{
		Spec: ec2v1beta1.VPCSpec{ForProvider: ec2v1beta1.VPCParameters_2{
			Region:             region,
			CidrBlock:          ptr(rp.Net.VPC.String()),
			EnableDNSSupport:   ptr(true),
			EnableDNSHostnames: ptr(true),
			Tags:               p.Tags(role, p.Names.Resource(role, "vpc")),
		}},
	})

	for _, tier := range Tiers {
		for i, az := range rp.AZs {
			d.AddLabelled(SubnetName(role, tier, az), &ec2v1beta1.Subnet{
				Spec: ec2v1beta1.SubnetSpec{ForProvider: ec2v1beta1.SubnetParameters_2{
					Region:              region,
					VPCIDSelector:       d.Select(vpc),
					AvailabilityZone:    ptr(az),
					CidrBlock:           ptr(rp.Net.Subnets[tier][i].String()),
					MapPublicIPOnLaunch: ptr(false),
					Tags:                p.Tags(role, p.Names.Resource(role, fmt.Sprintf("%s-%s", tier, AZLetter(az)))),
				}},
			}, TierLabels(role, tier))
		}
	}

	igw := ResourceName(role, "igw")
	d.Add(igw, &ec2v1beta1.InternetGateway{
		Spec: ec2v1beta1.InternetGatewaySpec{ForProvider: ec2v1beta1.InternetGatewayParameters_2{
			Region:        region,
			VPCIDSelector: d.Select(vpc),
			Tags:          p.Tags(role, p.Names.Resource(role, "igw")),
		}},
	})

	publicRT := ResourceName(role, "rt", "public")
	d.Add(publicRT, routeTable(p, d, rp, vpc, "public"))
	d.Add(ResourceName(role, "route", "public", "default"), &ec2v1beta2.Route{
		Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
			Region:               region,
			RouteTableIDSelector: d.Select(publicRT),
			DestinationCidrBlock: ptr(anyIPv4),
			GatewayIDSelector:    d.Select(igw),
		}},
	})
	for _, az := range rp.AZs {
		associate(d, rp, SubnetName(role, TierPublic, az), publicRT)
	}

	// NAT gateways sit in the public subnets of the first NATGateways AZs; the private subnets
	// of AZ i route through NAT i mod NATGateways, one private route table per NAT.
	nats := p.Spec.Network.NATGateways
	for n := range nats {
		az := rp.AZs[n]
		l := AZLetter(az)
		eip := ResourceName(role, "eip", l)
		nat := ResourceName(role, "nat", l)
		rt := privateRouteTable(role, az)
		d.Add(eip, &ec2v1beta1.EIP{
			Spec: ec2v1beta1.EIPSpec{ForProvider: ec2v1beta1.EIPParameters{
				Region: region,
				Domain: ptr("vpc"),
				Tags:   p.Tags(role, p.Names.Resource(role, "nat-"+l)),
			}},
		})
		d.Add(nat, &ec2v1beta1.NATGateway{
			Spec: ec2v1beta1.NATGatewaySpec{ForProvider: ec2v1beta1.NATGatewayParameters_2{
				Region:               region,
				AllocationIDSelector: d.Select(eip),
				SubnetIDSelector:     d.Select(SubnetName(role, TierPublic, az)),
				ConnectivityType:     ptr("public"),
				Tags:                 p.Tags(role, p.Names.Resource(role, "nat-"+l)),
			}},
		})
		d.Add(rt, routeTable(p, d, rp, vpc, "private-"+l))
		d.Add(ResourceName(role, "route", "private", l, "default"), &ec2v1beta2.Route{
			Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
				Region:               region,
				RouteTableIDSelector: d.Select(rt),
				DestinationCidrBlock: ptr(anyIPv4),
				NATGatewayIDSelector: d.Select(nat),
			}},
		})
	}
	for i, az := range rp.AZs {
		rt := privateRouteTable(role, rp.AZs[i%nats])
		associate(d, rp, SubnetName(role, TierDatabase, az), rt)
		associate(d, rp, SubnetName(role, TierLambda, az), rt)
	}

	buildSecurityGroups(p, rp, d)
	buildEndpoints(p, rp, d)
}

// TierLabels are the labels of a region's subnets of a tier.
func TierLabels(role Role, tier Tier) map[string]string {
	return map[string]string{LabelRole: string(role), LabelTier: string(tier)}
}

// PrivateRouteTables returns the resource names of a region's private route tables.
func PrivateRouteTables(p *Plan, role Role) []resource.Name {
	rp := p.Regions[role]
	out := make([]resource.Name, 0, p.Spec.Network.NATGateways)
	for n := range p.Spec.Network.NATGateways {
		out = append(out, privateRouteTable(role, rp.AZs[n]))
	}
	return out
}

func privateRouteTable(role Role, natAZ string) resource.Name {
	return ResourceName(role, "rt", "private", AZLetter(natAZ))
}

func routeTable(p *Plan, d *Desired, rp RegionPlan, vpc resource.Name, purpose string) *ec2v1beta1.RouteTable {
	return &ec2v1beta1.RouteTable{
		Spec: ec2v1beta1.RouteTableSpec{ForProvider: ec2v1beta1.RouteTableParameters_2{
			Region:        &rp.Region,
			VPCIDSelector: d.Select(vpc),
			Tags:          p.Tags(rp.Role, p.Names.Resource(rp.Role, "rt-"+purpose)),
		}},
	}
}

func associate(d *Desired, rp RegionPlan, subnet, rt resource.Name) {
	d.Add(resource.Name(string(subnet)+"-rta"), &ec2v1beta1.RouteTableAssociation{
		Spec: ec2v1beta1.RouteTableAssociationSpec{ForProvider: ec2v1beta1.RouteTableAssociationParameters{
			Region:               &rp.Region,
			SubnetIDSelector:     d.Select(subnet),
			RouteTableIDSelector: d.Select(rt),
		}},
	})
}

func buildSecurityGroups(p *Plan, rp RegionPlan, d *Desired) {
	role := rp.Role
	own := rp.Net.VPC.String()
	for _, sg := range []struct{ purpose, description string }{
		{SGDatabase, "PostgreSQL: 5432 from this VPC and the peer VPC only"},
		{SGLambda, "Lambda functions of the PostgreSQL DR pair: no ingress"},
		{SGEndpoints, "Interface VPC endpoints: 443 from this VPC only"},
	} {
		d.Add(SecurityGroupName(role, sg.purpose), &ec2v1beta1.SecurityGroup{
			Spec: ec2v1beta1.SecurityGroupSpec{ForProvider: ec2v1beta1.SecurityGroupParameters_2{
				Region:              &rp.Region,
				Name:                ptr(p.Names.Resource(role, sg.purpose)),
				Description:         ptr(sg.description),
				VPCIDSelector:       d.Select(VPCName(role)),
				RevokeRulesOnDelete: ptr(true),
				Tags:                p.Tags(role, p.Names.Resource(role, sg.purpose)),
			}},
		})
	}
	// rule adds one TCP rule on a port; ingress and egress rules take the same parameters.
	rule := func(ingress bool, name, sg, cidr string, port int, desc string) {
		params := ec2v1beta1.SecurityGroupIngressRuleParameters{
			Region:                  &rp.Region,
			SecurityGroupIDSelector: d.Select(SecurityGroupName(role, sg)),
			CidrIPv4:                ptr(cidr),
			IPProtocol:              ptr("tcp"),
			FromPort:                ptr(float64(port)),
			ToPort:                  ptr(float64(port)),
			Description:             ptr(desc),
			Tags:                    p.Tags(role, p.Names.Resource(role, sg+"-"+name)),
		}
		n := ResourceName(role, "sgr", sg, name)
		if ingress {
			d.Add(n, &ec2v1beta1.SecurityGroupIngressRule{Spec: ec2v1beta1.SecurityGroupIngressRuleSpec{ForProvider: params}})
			return
		}
		d.Add(n, &ec2v1beta1.SecurityGroupEgressRule{Spec: ec2v1beta1.SecurityGroupEgressRuleSpec{ForProvider: ec2v1beta1.SecurityGroupEgressRuleParameters(params)}})
	}
	ingress := func(name, sg, cidr string, port int, desc string) { rule(true, name, sg, cidr, port, desc) }
	egress := func(name, sg, cidr string, port int, desc string) { rule(false, name, sg, cidr, port, desc) }
	ingress("pg-vpc", SGDatabase, own, PostgresPort, "PostgreSQL from this VPC")
	ingress("pg-peer", SGDatabase, rp.PeerCIDR, PostgresPort, "PostgreSQL from the peer VPC")
	ingress("https-vpc", SGEndpoints, own, 443, "HTTPS to the endpoints from this VPC")
	egress("pg-vpc", SGLambda, own, PostgresPort, "PostgreSQL in this VPC")
	egress("pg-peer", SGLambda, rp.PeerCIDR, PostgresPort, "PostgreSQL in the peer VPC")
	// AWS APIs without an interface endpoint here (RDS, Route53) are reached through NAT.
	egress("https", SGLambda, anyIPv4, 443, "HTTPS to AWS APIs")
}

func buildEndpoints(p *Plan, rp RegionPlan, d *Desired) {
	role := rp.Role
	for _, svc := range endpointServices {
		ep := ResourceName(role, "vpce", svc)
		d.Add(ep, &ec2v1beta2.VPCEndpoint{
			Spec: ec2v1beta2.VPCEndpointSpec{ForProvider: ec2v1beta2.VPCEndpointParameters{
				Region:            &rp.Region,
				VPCIDSelector:     d.Select(VPCName(role)),
				ServiceName:       ptr(fmt.Sprintf("com.amazonaws.%s.%s", rp.Region, svc)),
				VPCEndpointType:   ptr("Interface"),
				PrivateDNSEnabled: ptr(true),
				Tags:              p.Tags(role, p.Names.Resource(role, "vpce-"+svc)),
			}},
		})
		d.Add(ResourceName(role, "vpce", svc, "sg"), &ec2v1beta1.VPCEndpointSecurityGroupAssociation{
			Spec: ec2v1beta1.VPCEndpointSecurityGroupAssociationSpec{ForProvider: ec2v1beta1.VPCEndpointSecurityGroupAssociationParameters{
				Region:                    &rp.Region,
				VPCEndpointIDSelector:     d.Select(ep),
				SecurityGroupIDSelector:   d.Select(SecurityGroupName(role, SGEndpoints)),
				ReplaceDefaultAssociation: ptr(true),
			}},
		})
		for _, az := range rp.AZs {
			d.Add(ResourceName(role, "vpce", svc, AZLetter(az)), &ec2v1beta1.VPCEndpointSubnetAssociation{
				Spec: ec2v1beta1.VPCEndpointSubnetAssociationSpec{ForProvider: ec2v1beta1.VPCEndpointSubnetAssociationParameters{
					Region:                &rp.Region,
					VPCEndpointIDSelector: d.Select(ep),
					SubnetIDSelector:      d.Select(SubnetName(role, TierLambda, az)),
				}},
			})
		}
	}
}

// buildPeering requests a peering from the primary VPC to the DR VPC, accepts it in the DR
// region and routes each side's private subnets to the other. The requester needs the DR VPC's
// id and the accepter and DR routes the connection's id: cross-region values, read from
// observed status, so each waits until its value is observed.
func buildPeering(p *Plan, o Observed, d *Desired) {
	pr, dr := p.Regions[RolePrimary], p.Regions[RoleDR]
	drVPCID := VPCID(o, RoleDR)
	if drVPCID == "" {
		d.Wait(fmt.Sprintf("the DR VPC's id (%s), to request the VPC peering", VPCName(RoleDR)))
		return
	}
	d.Add(PeeringName(), &ec2v1beta2.VPCPeeringConnection{
		Spec: ec2v1beta2.VPCPeeringConnectionSpec{ForProvider: ec2v1beta2.VPCPeeringConnectionParameters{
			Region:        &pr.Region,
			VPCIDSelector: d.Select(VPCName(RolePrimary)),
			PeerVPCID:     ptr(drVPCID),
			PeerRegion:    ptr(dr.Region),
			Tags:          p.Tags(RolePrimary, p.Names.Resource(RolePrimary, "peering")),
		}},
	})
	for _, rt := range PrivateRouteTables(p, RolePrimary) {
		d.Add(resource.Name(string(rt)+"-peer"), &ec2v1beta2.Route{
			Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
				Region:                         &pr.Region,
				RouteTableIDSelector:           d.Select(rt),
				DestinationCidrBlock:           ptr(pr.PeerCIDR),
				VPCPeeringConnectionIDSelector: d.Select(PeeringName()),
			}},
		})
	}

	pcxID := deref(observedAs[ec2v1beta2.VPCPeeringConnection](o, PeeringName()).Status.AtProvider.ID)
	if pcxID == "" {
		d.Wait(fmt.Sprintf("the VPC peering connection's id (%s), to accept it in %s", PeeringName(), dr.Region))
		return
	}
	d.Add(PeeringAccepterName(), &ec2v1beta2.VPCPeeringConnectionAccepter{
		Spec: ec2v1beta2.VPCPeeringConnectionAccepterSpec{ForProvider: ec2v1beta2.VPCPeeringConnectionAccepterParameters{
			Region:                 &dr.Region,
			VPCPeeringConnectionID: ptr(pcxID),
			AutoAccept:             ptr(true),
			Tags:                   p.Tags(RoleDR, p.Names.Resource(RoleDR, "peering")),
		}},
	})
	for _, rt := range PrivateRouteTables(p, RoleDR) {
		d.Add(resource.Name(string(rt)+"-peer"), &ec2v1beta2.Route{
			Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
				Region:                 &dr.Region,
				RouteTableIDSelector:   d.Select(rt),
				DestinationCidrBlock:   ptr(dr.PeerCIDR),
				VPCPeeringConnectionID: ptr(pcxID),
			}},
		})
	}
}
