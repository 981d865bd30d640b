package fn

import (
	"fmt"
	"net/netip"
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// AWS resource ids: a prefix, then 8 or 17 hex digits.
var (
	reVPCID        = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reSubnetID     = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reRouteTableID = regexp.MustCompile(`^rtb-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reSGID         = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// Limits of spec.access: a security group holds at most 60 inbound rules, and the database's
// has two of its own besides the clients'.
const (
	maxClientCIDRs        = 40
	maxClientGroups       = 15
	maxZoneVPCs           = 20
	maxRouteTables        = 20
	maxSubnetsOfSelection = 16
)

// validateExisting checks the team's networks of Existing mode.
func validateExisting(ep *field.Path, e *v1alpha1.ExistingNetwork) field.ErrorList {
	if e == nil {
		return field.ErrorList{field.Required(ep, "spec.network.mode is Existing: give each region's vpcID, cidrBlock, databaseSubnets and lambdaSubnets, and the connectivity and interfaceEndpoints")}
	}
	var errs field.ErrorList
	if e.Connectivity != v1alpha1.ConnectivityConnected && e.Connectivity != v1alpha1.ConnectivityPeer {
		errs = append(errs, field.NotSupported(ep.Child("connectivity"), e.Connectivity, []string{string(v1alpha1.ConnectivityConnected), string(v1alpha1.ConnectivityPeer)}))
	}
	if e.InterfaceEndpoints != v1alpha1.EndpointsExisting && e.InterfaceEndpoints != v1alpha1.EndpointsCreate {
		errs = append(errs, field.NotSupported(ep.Child("interfaceEndpoints"), e.InterfaceEndpoints, []string{string(v1alpha1.EndpointsExisting), string(v1alpha1.EndpointsCreate)}))
	}
	cidrs := map[string]netip.Prefix{}
	for _, r := range []struct {
		name string
		net  v1alpha1.ExistingRegionNetwork
	}{{"primary", e.Primary}, {"dr", e.DR}} {
		rp := ep.Child(r.name)
		if !reVPCID.MatchString(r.net.VPCID) {
			errs = append(errs, field.Invalid(rp.Child("vpcID"), r.net.VPCID, "must be a VPC id such as vpc-0123456789abcdef0"))
		}
		if c, err := clientCIDR(r.net.CIDRBlock); err != nil {
			errs = append(errs, field.Invalid(rp.Child("cidrBlock"), r.net.CIDRBlock, err.Error()+": give the VPC's primary IPv4 CIDR"))
		} else {
			cidrs[r.name] = c
		}
		errs = append(errs, validateSubnets(rp.Child("databaseSubnets"), r.net.DatabaseSubnets)...)
		errs = append(errs, validateSubnets(rp.Child("lambdaSubnets"), r.net.LambdaSubnets)...)
		if e.InterfaceEndpoints == v1alpha1.EndpointsCreate && len(r.net.LambdaSubnets.IDs) == 0 && len(r.net.LambdaSubnets.MatchLabels) > 0 {
			errs = append(errs, field.Invalid(rp.Child("lambdaSubnets", "matchLabels"), r.net.LambdaSubnets.MatchLabels,
				"interfaceEndpoints Create needs the Lambda subnets by ids: each subnet of an endpoint is its own association, which takes one subnet; give lambdaSubnets.ids"))
		}
		errs = append(errs, validateIDs(rp.Child("routeTableIDs"), r.net.RouteTableIDs, reRouteTableID, maxRouteTables, "a route table id such as rtb-0123456789abcdef0")...)
		if e.Connectivity == v1alpha1.ConnectivityPeer && len(r.net.RouteTableIDs) == 0 {
			errs = append(errs, field.Required(rp.Child("routeTableIDs"), "connectivity Peer routes the other VPC through these: name the route tables of the database and Lambda subnets"))
		}
	}
	if e.Primary.VPCID != "" && e.Primary.VPCID == e.DR.VPCID {
		errs = append(errs, field.Invalid(ep.Child("dr", "vpcID"), e.DR.VPCID, "must differ from spec.network.existing.primary.vpcID: a VPC lives in one region"))
	}
	if p, ok := cidrs["primary"]; ok {
		if d, ok := cidrs["dr"]; ok && p.Overlaps(d) {
			errs = append(errs, field.Invalid(ep.Child("dr", "cidrBlock"), e.DR.CIDRBlock,
				fmt.Sprintf("overlaps spec.network.existing.primary.cidrBlock (%s): the Lambdas route to the other region's VPC by its CIDR, and AWS refuses to peer overlapping VPCs", p)))
		}
	}
	return errs
}

// validateSubnets checks a selection of subnets: ids or labels, not both.
func validateSubnets(path *field.Path, s v1alpha1.SubnetSelection) field.ErrorList {
	switch {
	case len(s.IDs) > 0 && len(s.MatchLabels) > 0:
		return field.ErrorList{field.Invalid(path, "ids and matchLabels", "give either ids or matchLabels, not both")}
	case len(s.IDs) == 0 && len(s.MatchLabels) == 0:
		return field.ErrorList{field.Required(path, "give the subnets' ids, at least two in different availability zones, or matchLabels of their Subnet managed resources")}
	case len(s.MatchLabels) > 0:
		var errs field.ErrorList
		for k, v := range s.MatchLabels {
			if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
				errs = append(errs, field.Invalid(path.Child("matchLabels"), k, "must be a label key: "+msgs[0]))
			}
			if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
				errs = append(errs, field.Invalid(path.Child("matchLabels").Key(k), v, "must be a label value: "+msgs[0]))
			}
		}
		return errs
	}
	if len(s.IDs) < 2 {
		return field.ErrorList{field.Invalid(path.Child("ids"), s.IDs, "must name at least two subnets, in different availability zones: RDS refuses a DB subnet group that covers one zone")}
	}
	return validateIDs(path.Child("ids"), s.IDs, reSubnetID, maxSubnetsOfSelection, "a subnet id such as subnet-0123456789abcdef0")
}

// validateIDs checks a list of AWS ids: their form, no duplicates, at most limit.
func validateIDs(path *field.Path, ids []string, re *regexp.Regexp, limit int, what string) field.ErrorList {
	var errs field.ErrorList
	if len(ids) > limit {
		errs = append(errs, field.TooMany(path, len(ids), limit))
	}
	seen := map[string]bool{}
	for i, id := range ids {
		switch {
		case !re.MatchString(id):
			errs = append(errs, field.Invalid(path.Index(i), id, "must be "+what))
		case seen[id]:
			errs = append(errs, field.Duplicate(path.Index(i), id))
		}
		seen[id] = true
	}
	return errs
}

// validateAccess checks the clients allowed to the databases and the VPCs their name resolves in.
func validateAccess(ap *field.Path, a v1alpha1.Access) field.ErrorList {
	var errs field.ErrorList
	cp := ap.Child("clientCIDRs")
	if len(a.ClientCIDRs) > maxClientCIDRs {
		errs = append(errs, field.TooMany(cp, len(a.ClientCIDRs), maxClientCIDRs))
	}
	seen := map[netip.Prefix]bool{}
	for i, c := range a.ClientCIDRs {
		p, err := clientCIDR(c)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(cp.Index(i), c, err.Error()))
		case seen[p]:
			errs = append(errs, field.Duplicate(cp.Index(i), c))
		}
		seen[p] = true
	}
	for _, r := range []struct {
		name string
		ra   v1alpha1.RegionAccess
	}{{"primary", a.Primary}, {"dr", a.DR}} {
		rp := ap.Child(r.name)
		errs = append(errs, validateIDs(rp.Child("securityGroupIDs"), r.ra.SecurityGroupIDs, reSGID, maxClientGroups, "a security group id of this region such as sg-0123456789abcdef0")...)
		errs = append(errs, validateIDs(rp.Child("zoneVPCIDs"), r.ra.ZoneVPCIDs, reVPCID, maxZoneVPCs, "a VPC id of this region such as vpc-0123456789abcdef0")...)
	}
	return errs
}

// clientCIDR parses a CIDR clients connect from: IPv4 (the databases have no IPv6 address), a
// network address (as the security group rule requires), narrower than anywhere.
func clientCIDR(c string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(c)
	switch {
	case err != nil:
		return p, fmt.Errorf("must be an IPv4 CIDR such as 10.20.0.0/16")
	case p.Bits() == 0:
		return p, fmt.Errorf("is anywhere: name the clients' own ranges, such as their VPC's CIDR")
	case !p.Addr().Is4():
		return p, fmt.Errorf("must be an IPv4 CIDR: the databases have no IPv6 address")
	case p.Masked() != p:
		return p, fmt.Errorf("has host bits set: use the network address %s", p.Masked())
	}
	return p, nil
}
