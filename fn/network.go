package fn

import (
	"fmt"
	"strings"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
	ec2v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta2"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// postgresPort is the port both databases listen on.
const postgresPort = 5432

// anyIPv4 is the default route's destination.
const anyIPv4 = "0.0.0.0/0"

// endpointServices are the interface VPC endpoints each region gets, so that the Lambdas reach
// these AWS APIs without leaving the VPC.
var endpointServices = []string{"secretsmanager", "logs", "sns", "monitoring"} //nolint:gochecknoglobals // A constant list.

// Composition-resource names of the network layer, one function each so builders of other
// layers select these resources without spelling the names again.

// vpcName is the VPC's resource name.
func vpcName(r Role) resource.Name { return resourceName(r, "vpc") }

// vpcID returns the observed id of a role's VPC, or "".
func vpcID(o observedState, r Role) string {
	return deref(observedAs[ec2v1beta1.VPC](o, vpcName(r)).Status.AtProvider.ID)
}

// subnetID returns the observed id of a subnet, or "".
func subnetID(o observedState, name resource.Name) string {
	return deref(observedAs[ec2v1beta1.Subnet](o, name).Status.AtProvider.ID)
}

// subnetName is the resource name of a tier's subnet in an AZ.
func subnetName(r Role, t subnetTier, az string) resource.Name {
	return resourceName(r, "subnet", string(t), azLetter(az))
}

// securityGroupName is the resource name of a security group.
func securityGroupName(r Role, purpose string) resource.Name {
	return resourceName(r, "sg", purpose)
}

// peeringName is the resource name of the VPC peering connection (requested from the primary).
func peeringName() resource.Name { return resourceName(RolePrimary, "peering") }

// peeringAccepterName is the resource name of the peering accepter in the DR region.
func peeringAccepterName() resource.Name { return resourceName(RoleDR, "peering-accepter") }

// Security group purposes.
const (
	sgDatabase  = "database"
	sgLambda    = "lambda"
	sgEndpoints = "endpoints"
	// sgFenced closes a fenced old writer to clients: no ingress at all.
	sgFenced = "fenced"
)

// addFencedSecurityGroup adds a region's security group for fenced old writers, once: no
// ingress rule, so no client reaches the instance. Established connections outlive a security
// group change; the fenced parameter group makes their transactions read-only.
func addFencedSecurityGroup(p *xrPlan, d *desiredState, role Role) {
	name := securityGroupName(role, sgFenced)
	if _, ok := d.Resources[name]; ok {
		return
	}
	rp := p.Regions[role]
	vpcID, vpcSel := vpcRef(p, d, role)
	d.Add(name, &ec2v1beta1.SecurityGroup{
		Spec: ec2v1beta1.SecurityGroupSpec{ForProvider: ec2v1beta1.SecurityGroupParameters_2{
			Region:              &rp.Region,
			Name:                new(p.Names.Resource(role, sgFenced)),
			Description:         new("Fenced old writer of the PostgreSQL DR pair: no ingress"),
			VPCID:               vpcID,
			VPCIDSelector:       vpcSel,
			RevokeRulesOnDelete: new(true),
			Tags:                p.Tags(role, p.Names.Resource(role, sgFenced)),
		}},
	})
}

// vpcRef is how a resource names its region's VPC: the composed VPC's selector, or the
// existing VPC's id.
func vpcRef(p *xrPlan, d *desiredState, role Role) (*string, *xpv1.Selector) {
	if e := p.Regions[role].Existing; e != nil {
		return new(e.VPCID), nil
	}
	return nil, d.Select(vpcName(role))
}

// subnetsRef is how a resource names a region's subnets of a tier: a selector of the composed
// ones, or the existing ones' ids or labels.
func subnetsRef(p *xrPlan, d *desiredState, role Role, tier subnetTier) ([]*string, *xpv1.Selector) {
	e := p.Regions[role].Existing
	if e == nil {
		return nil, d.SelectAll(tierLabels(role, tier))
	}
	s := e.DatabaseSubnets
	if tier == tierLambda {
		s = e.LambdaSubnets
	}
	if len(s.IDs) > 0 {
		return toPtrs(s.IDs), nil
	}
	return nil, d.flavour.LabelSelector(s.MatchLabels)
}

// existingSubnetIDs are the ids of a region's existing subnets of a tier, if given by id.
func existingSubnetIDs(rp regionPlan, tier subnetTier) []string {
	if rp.Existing == nil {
		return nil
	}
	if tier == tierLambda {
		return rp.Existing.LambdaSubnets.IDs
	}
	if tier == tierDatabase {
		return rp.Existing.DatabaseSubnets.IDs
	}
	return nil
}

// buildNetwork adds both regions' networks and the peering between them. In Existing mode the
// networks are the team's: only the security groups, the endpoints asked for and the peering
// asked for are composed.
func buildNetwork(p *xrPlan, o observedState, d *desiredState) {
	if p.Existing() {
		e := p.Spec.Network.Existing
		for _, role := range roles {
			rp := p.Regions[role]
			buildSecurityGroups(p, rp, d)
			if p.hostsLambdas(role) && e.InterfaceEndpoints == v1alpha1.EndpointsCreate {
				buildEndpoints(p, rp, d)
			}
		}
		if e.Connectivity == v1alpha1.ConnectivityPeer {
			buildPeering(p, o, d)
		}
		return
	}
	for _, role := range roles {
		buildRegionNetwork(p, p.Regions[role], d)
	}
	buildPeering(p, o, d)
}

// hostsLambdas reports whether a region runs the Lambdas: only that region needs what they
// need (their subnets, NAT to the AWS APIs without an interface endpoint, the endpoints). The
// other region's network holds its database: database subnets and a route table to the peer.
func (p *xrPlan) hostsLambdas(role Role) bool { return p.PathArmed && role == p.LambdaRole }

// regionTiers are the subnet tiers a region has.
func (p *xrPlan) regionTiers(role Role) []subnetTier {
	if p.hostsLambdas(role) {
		return tiers
	}
	return []subnetTier{tierDatabase}
}

func buildRegionNetwork(p *xrPlan, rp regionPlan, d *desiredState) {
	role, region := rp.Role, &rp.Region
	vpc := vpcName(role)
	d.Add(vpc, &ec2v1beta1.VPC{
		Spec: ec2v1beta1.VPCSpec{ForProvider: ec2v1beta1.VPCParameters_2{
			Region:             region,
			CidrBlock:          new(rp.Net.VPC.String()),
			EnableDNSSupport:   new(true),
			EnableDNSHostnames: new(true),
			Tags:               p.Tags(role, p.Names.Resource(role, "vpc")),
		}},
	})

	for _, tier := range p.regionTiers(role) {
		for i, az := range rp.AZs {
			d.AddLabelled(subnetName(role, tier, az), &ec2v1beta1.Subnet{
				Spec: ec2v1beta1.SubnetSpec{ForProvider: ec2v1beta1.SubnetParameters_2{
					Region:              region,
					VPCIDSelector:       d.Select(vpc),
					AvailabilityZone:    new(az),
					CidrBlock:           new(rp.Net.Subnets[tier][i].String()),
					MapPublicIPOnLaunch: new(false),
					Tags:                p.Tags(role, p.Names.Resource(role, fmt.Sprintf("%s-%s", tier, azLetter(az)))),
				}},
			}, tierLabels(role, tier))
		}
	}

	if !p.hostsLambdas(role) {
		rt := privateRouteTables(p, role)[0]
		d.Add(rt, routeTable(p, d, rp, vpc, "private"))
		for _, az := range rp.AZs {
			associate(d, rp, subnetName(role, tierDatabase, az), rt)
		}
		buildSecurityGroups(p, rp, d)
		return
	}

	igw := resourceName(role, "igw")
	d.Add(igw, &ec2v1beta1.InternetGateway{
		Spec: ec2v1beta1.InternetGatewaySpec{ForProvider: ec2v1beta1.InternetGatewayParameters_2{
			Region:        region,
			VPCIDSelector: d.Select(vpc),
			Tags:          p.Tags(role, p.Names.Resource(role, "igw")),
		}},
	})

	publicRT := resourceName(role, "rt", "public")
	d.Add(publicRT, routeTable(p, d, rp, vpc, "public"))
	d.Add(resourceName(role, "route", "public", "default"), &ec2v1beta2.Route{
		Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
			Region:               region,
			RouteTableIDSelector: d.Select(publicRT),
			DestinationCidrBlock: new(anyIPv4),
			GatewayIDSelector:    d.Select(igw),
		}},
	})
	for _, az := range rp.AZs {
		associate(d, rp, subnetName(role, tierPublic, az), publicRT)
	}

	// NAT gateways sit in the public subnets of the first NATGateways AZs; the private subnets
	// of AZ i route through NAT i mod NATGateways, one private route table per NAT.
	nats := p.Spec.Network.NATGateways
	for n := range nats {
		az := rp.AZs[n]
		l := azLetter(az)
		eip := resourceName(role, "eip", l)
		nat := resourceName(role, "nat", l)
		rt := privateRouteTable(role, az)
		d.Add(eip, &ec2v1beta1.EIP{
			Spec: ec2v1beta1.EIPSpec{ForProvider: ec2v1beta1.EIPParameters{
				Region: region,
				Domain: new("vpc"),
				Tags:   p.Tags(role, p.Names.Resource(role, "nat-"+l)),
			}},
		})
		d.Add(nat, &ec2v1beta1.NATGateway{
			Spec: ec2v1beta1.NATGatewaySpec{ForProvider: ec2v1beta1.NATGatewayParameters_2{
				Region:               region,
				AllocationIDSelector: d.Select(eip),
				SubnetIDSelector:     d.Select(subnetName(role, tierPublic, az)),
				ConnectivityType:     new("public"),
				Tags:                 p.Tags(role, p.Names.Resource(role, "nat-"+l)),
			}},
		})
		d.Add(rt, routeTable(p, d, rp, vpc, "private-"+l))
		d.Add(resourceName(role, "route", "private", l, "default"), &ec2v1beta2.Route{
			Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
				Region:               region,
				RouteTableIDSelector: d.Select(rt),
				DestinationCidrBlock: new(anyIPv4),
				NATGatewayIDSelector: d.Select(nat),
			}},
		})
	}
	for i, az := range rp.AZs {
		rt := privateRouteTable(role, rp.AZs[i%nats])
		associate(d, rp, subnetName(role, tierDatabase, az), rt)
		associate(d, rp, subnetName(role, tierLambda, az), rt)
	}

	buildSecurityGroups(p, rp, d)
	buildEndpoints(p, rp, d)
}

// tierLabels are the labels of a region's subnets of a tier.
func tierLabels(role Role, tier subnetTier) map[string]string {
	return map[string]string{labelRole: string(role), labelTier: string(tier)}
}

// privateRouteTables returns the resource names of a region's private route tables: one per NAT
// gateway where the Lambdas run, one without NAT elsewhere.
func privateRouteTables(p *xrPlan, role Role) []resource.Name {
	if !p.hostsLambdas(role) {
		return []resource.Name{resourceName(role, "rt", "private")}
	}
	rp := p.Regions[role]
	out := make([]resource.Name, 0, p.Spec.Network.NATGateways)
	for n := range p.Spec.Network.NATGateways {
		out = append(out, privateRouteTable(role, rp.AZs[n]))
	}
	return out
}

func privateRouteTable(role Role, natAZ string) resource.Name {
	return resourceName(role, "rt", "private", azLetter(natAZ))
}

func routeTable(p *xrPlan, d *desiredState, rp regionPlan, vpc resource.Name, purpose string) *ec2v1beta1.RouteTable {
	return &ec2v1beta1.RouteTable{
		Spec: ec2v1beta1.RouteTableSpec{ForProvider: ec2v1beta1.RouteTableParameters_2{
			Region:        &rp.Region,
			VPCIDSelector: d.Select(vpc),
			Tags:          p.Tags(rp.Role, p.Names.Resource(rp.Role, "rt-"+purpose)),
		}},
	}
}

func associate(d *desiredState, rp regionPlan, subnet, rt resource.Name) {
	d.Add(resource.Name(string(subnet)+"-rta"), &ec2v1beta1.RouteTableAssociation{
		Spec: ec2v1beta1.RouteTableAssociationSpec{ForProvider: ec2v1beta1.RouteTableAssociationParameters{
			Region:               &rp.Region,
			SubnetIDSelector:     d.Select(subnet),
			RouteTableIDSelector: d.Select(rt),
		}},
	})
}

// peer is where a security group rule's traffic comes from or goes to: a CIDR or another
// security group (of the same region: AWS cannot reference one across an inter-region peering).
type peer struct {
	cidr  string
	sg    string
	sgSel *xpv1.Selector
}

func buildSecurityGroups(p *xrPlan, rp regionPlan, d *desiredState) {
	role := rp.Role
	own := rp.Net.VPC.String()
	lambdas := p.hostsLambdas(role)
	endpoints := lambdas && (rp.Existing == nil || p.Spec.Network.Existing.InterfaceEndpoints == v1alpha1.EndpointsCreate)
	dbDescription := "PostgreSQL: 5432 from this VPC and the peer VPC only"
	if rp.Existing != nil {
		dbDescription = "PostgreSQL: 5432 from the failover path and the clients of spec.access only"
	}
	groups := []struct {
		purpose, description string
		want                 bool
	}{
		{sgDatabase, dbDescription, true},
		{sgLambda, "Lambda functions of the PostgreSQL DR pair: no ingress", lambdas},
		{sgEndpoints, "Interface VPC endpoints: 443 from this VPC only", endpoints},
	}
	vpcID, vpcSel := vpcRef(p, d, role)
	for _, sg := range groups {
		if !sg.want {
			continue
		}
		d.Add(securityGroupName(role, sg.purpose), &ec2v1beta1.SecurityGroup{
			Spec: ec2v1beta1.SecurityGroupSpec{ForProvider: ec2v1beta1.SecurityGroupParameters_2{
				Region:              &rp.Region,
				Name:                new(p.Names.Resource(role, sg.purpose)),
				Description:         new(sg.description),
				VPCID:               vpcID,
				VPCIDSelector:       vpcSel,
				RevokeRulesOnDelete: new(true),
				Tags:                p.Tags(role, p.Names.Resource(role, sg.purpose)),
			}},
		})
	}
	// rule adds one TCP rule on a port; ingress and egress rules take the same parameters.
	rule := func(ingress bool, name, sg string, to peer, port int, desc string) {
		params := ec2v1beta1.SecurityGroupIngressRuleParameters{
			Region:                            &rp.Region,
			SecurityGroupIDSelector:           d.Select(securityGroupName(role, sg)),
			IPProtocol:                        new("tcp"),
			FromPort:                          new(float64(port)),
			ToPort:                            new(float64(port)),
			Description:                       new(desc),
			ReferencedSecurityGroupIDSelector: to.sgSel,
			Tags:                              p.Tags(role, p.Names.Resource(role, sg+"-"+name)),
		}
		if to.cidr != "" {
			params.CidrIPv4 = new(to.cidr)
		}
		if to.sg != "" {
			params.ReferencedSecurityGroupID = new(to.sg)
		}
		n := resourceName(role, "sgr", sg, name)
		if ingress {
			d.Add(n, &ec2v1beta1.SecurityGroupIngressRule{Spec: ec2v1beta1.SecurityGroupIngressRuleSpec{ForProvider: params}})
			return
		}
		d.Add(n, &ec2v1beta1.SecurityGroupEgressRule{Spec: ec2v1beta1.SecurityGroupEgressRuleSpec{ForProvider: ec2v1beta1.SecurityGroupEgressRuleParameters(params)}})
	}
	ingress := func(name, sg string, from peer, port int, desc string) { rule(true, name, sg, from, port, desc) }
	egress := func(name string, to peer, port int, desc string) { rule(false, name, sgLambda, to, port, desc) }

	if rp.Existing == nil {
		ingress("pg-vpc", sgDatabase, peer{cidr: own}, postgresPort, "PostgreSQL from this VPC")
		ingress("pg-peer", sgDatabase, peer{cidr: rp.PeerCIDR}, postgresPort, "PostgreSQL from the peer VPC")
	} else {
		// The team's VPC holds other workloads: only the failover path gets in, from this
		// region by its security group, from the other region by the other VPC's CIDR.
		if lambdas {
			ingress("pg-lambda", sgDatabase, peer{sgSel: d.Select(securityGroupName(role, sgLambda))}, postgresPort, "PostgreSQL from the failover path's Lambdas")
		}
		if p.hostsLambdas(role.Peer()) {
			ingress("pg-peer", sgDatabase, peer{cidr: rp.PeerCIDR}, postgresPort, "PostgreSQL from the failover path in the peer VPC")
		}
	}
	for _, c := range p.Spec.Access.ClientCIDRs {
		ingress("pg-cidr-"+ruleSuffix(c), sgDatabase, peer{cidr: c}, postgresPort, "PostgreSQL from clients "+c)
	}
	for _, sg := range p.regionAccess(role).SecurityGroupIDs {
		ingress("pg-"+sg, sgDatabase, peer{sg: sg}, postgresPort, "PostgreSQL from members of "+sg)
	}
	if !lambdas {
		return
	}
	if endpoints {
		// Private DNS makes the endpoints answer for the whole VPC, so the whole VPC reaches them.
		ingress("https-vpc", sgEndpoints, peer{cidr: own}, 443, "HTTPS to the endpoints from this VPC")
	}
	if rp.Existing == nil {
		egress("pg-vpc", peer{cidr: own}, postgresPort, "PostgreSQL in this VPC")
	} else {
		egress("pg-db", peer{sgSel: d.Select(securityGroupName(role, sgDatabase))}, postgresPort, "PostgreSQL of this region's database")
	}
	egress("pg-peer", peer{cidr: rp.PeerCIDR}, postgresPort, "PostgreSQL in the peer VPC")
	// AWS APIs without an interface endpoint here (RDS, Route53) are reached through NAT.
	egress("https", peer{cidr: anyIPv4}, 443, "HTTPS to AWS APIs")
}

// regionAccess is the spec's access in a region.
func (p *xrPlan) regionAccess(role Role) v1alpha1.RegionAccess {
	if role == RoleDR {
		return p.Spec.Access.DR
	}
	return p.Spec.Access.Primary
}

// ruleSuffix turns a CIDR into a part of a resource name: 10.50.0.0/16 is 10-50-0-0-16.
func ruleSuffix(cidr string) string {
	return strings.NewReplacer(".", "-", "/", "-").Replace(cidr)
}

func buildEndpoints(p *xrPlan, rp regionPlan, d *desiredState) {
	role := rp.Role
	for _, svc := range endpointServices {
		ep := resourceName(role, "vpce", svc)
		vpcID, vpcSel := vpcRef(p, d, role)
		d.Add(ep, &ec2v1beta2.VPCEndpoint{
			Spec: ec2v1beta2.VPCEndpointSpec{ForProvider: ec2v1beta2.VPCEndpointParameters{
				Region:            &rp.Region,
				VPCID:             vpcID,
				VPCIDSelector:     vpcSel,
				ServiceName:       new(fmt.Sprintf("com.amazonaws.%s.%s", rp.Region, svc)),
				VPCEndpointType:   new("Interface"),
				PrivateDNSEnabled: new(true),
				Tags:              p.Tags(role, p.Names.Resource(role, "vpce-"+svc)),
			}},
		})
		d.Add(resourceName(role, "vpce", svc, "sg"), &ec2v1beta1.VPCEndpointSecurityGroupAssociation{
			Spec: ec2v1beta1.VPCEndpointSecurityGroupAssociationSpec{ForProvider: ec2v1beta1.VPCEndpointSecurityGroupAssociationParameters{
				Region:                    &rp.Region,
				VPCEndpointIDSelector:     d.Select(ep),
				SecurityGroupIDSelector:   d.Select(securityGroupName(role, sgEndpoints)),
				ReplaceDefaultAssociation: new(true),
			}},
		})
		for _, az := range rp.AZs {
			d.Add(resourceName(role, "vpce", svc, azLetter(az)), &ec2v1beta1.VPCEndpointSubnetAssociation{
				Spec: ec2v1beta1.VPCEndpointSubnetAssociationSpec{ForProvider: ec2v1beta1.VPCEndpointSubnetAssociationParameters{
					Region:                &rp.Region,
					VPCEndpointIDSelector: d.Select(ep),
					SubnetIDSelector:      d.Select(subnetName(role, tierLambda, az)),
				}},
			})
		}
		for _, id := range existingSubnetIDs(rp, tierLambda) {
			d.Add(resourceName(role, "vpce", svc, id), &ec2v1beta1.VPCEndpointSubnetAssociation{
				Spec: ec2v1beta1.VPCEndpointSubnetAssociationSpec{ForProvider: ec2v1beta1.VPCEndpointSubnetAssociationParameters{
					Region:                &rp.Region,
					VPCEndpointIDSelector: d.Select(ep),
					SubnetID:              new(id),
				}},
			})
		}
	}
}

// buildPeering requests a peering from the primary VPC to the DR VPC, accepts it in the DR
// region and routes each side's private subnets to the other. The requester needs the DR VPC's
// id and the accepter and DR routes the connection's id: cross-region values, read from
// observed status, so each waits until its value is observed.
func buildPeering(p *xrPlan, o observedState, d *desiredState) {
	pr, dr := p.Regions[RolePrimary], p.Regions[RoleDR]
	drVPCID := vpcID(o, RoleDR)
	if dr.Existing != nil {
		drVPCID = dr.Existing.VPCID
	}
	if drVPCID == "" {
		d.Wait(fmt.Sprintf("the DR VPC's id (%s), to request the VPC peering", vpcName(RoleDR)))
		return
	}
	prVPCID, prVPCSel := vpcRef(p, d, RolePrimary)
	d.Add(peeringName(), &ec2v1beta2.VPCPeeringConnection{
		Spec: ec2v1beta2.VPCPeeringConnectionSpec{ForProvider: ec2v1beta2.VPCPeeringConnectionParameters{
			Region:        &pr.Region,
			VPCID:         prVPCID,
			VPCIDSelector: prVPCSel,
			PeerVPCID:     new(drVPCID),
			PeerRegion:    new(dr.Region),
			Tags:          p.Tags(RolePrimary, p.Names.Resource(RolePrimary, "peering")),
		}},
	})
	for _, rt := range peerRouteTables(p, d, RolePrimary) {
		d.Add(rt.name, &ec2v1beta2.Route{
			Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
				Region:                         &pr.Region,
				RouteTableID:                   rt.id,
				RouteTableIDSelector:           rt.sel,
				DestinationCidrBlock:           new(pr.PeerCIDR),
				VPCPeeringConnectionIDSelector: d.Select(peeringName()),
			}},
		})
	}

	pcxID := deref(observedAs[ec2v1beta2.VPCPeeringConnection](o, peeringName()).Status.AtProvider.ID)
	if pcxID == "" {
		d.Wait(fmt.Sprintf("the VPC peering connection's id (%s), to accept it in %s", peeringName(), dr.Region))
		return
	}
	d.Add(peeringAccepterName(), &ec2v1beta2.VPCPeeringConnectionAccepter{
		Spec: ec2v1beta2.VPCPeeringConnectionAccepterSpec{ForProvider: ec2v1beta2.VPCPeeringConnectionAccepterParameters{
			Region:                 &dr.Region,
			VPCPeeringConnectionID: new(pcxID),
			AutoAccept:             new(true),
			Tags:                   p.Tags(RoleDR, p.Names.Resource(RoleDR, "peering")),
		}},
	})
	for _, rt := range peerRouteTables(p, d, RoleDR) {
		d.Add(rt.name, &ec2v1beta2.Route{
			Spec: ec2v1beta2.RouteSpec{ForProvider: ec2v1beta2.RouteParameters{
				Region:                 &dr.Region,
				RouteTableID:           rt.id,
				RouteTableIDSelector:   rt.sel,
				DestinationCidrBlock:   new(dr.PeerCIDR),
				VPCPeeringConnectionID: new(pcxID),
			}},
		})
	}
}

// peerRoute is a route table that gets a route to the peer VPC, and its route's resource name.
type peerRoute struct {
	name resource.Name
	id   *string
	sel  *xpv1.Selector
}

// peerRouteTables are a region's route tables that route to the peer: the composed private
// ones, or the team's given ones.
func peerRouteTables(p *xrPlan, d *desiredState, role Role) []peerRoute {
	if e := p.Regions[role].Existing; e != nil {
		out := make([]peerRoute, 0, len(e.RouteTableIDs))
		for _, id := range e.RouteTableIDs {
			out = append(out, peerRoute{name: resourceName(role, "route", id, "peer"), id: new(id)})
		}
		return out
	}
	tables := privateRouteTables(p, role)
	out := make([]peerRoute, 0, len(tables))
	for _, rt := range tables {
		out = append(out, peerRoute{name: resource.Name(string(rt) + "-peer"), sel: d.Select(rt)})
	}
	return out
}
