package fn

import (
	"fmt"
	"net/netip"
)

// subnetTier is a layer of subnets with one subnet per availability zone.
type subnetTier string

// Subnet tiers.
const (
	tierPublic   subnetTier = "public"
	tierDatabase subnetTier = "database"
	tierLambda   subnetTier = "lambda"
)

// tiers in the order their subnets are carved out of the VPC.
var tiers = []subnetTier{tierPublic, tierDatabase, tierLambda} //nolint:gochecknoglobals // A constant list.

// tierStride is how many subnet slots each tier reserves: one per AZ up to the most AZs any
// region has, so that changing the AZ count never moves an existing subnet.
const tierStride = 8

// maxAZs is the most availability zones a network may span.
const maxAZs = 6

// networkPlan is the address plan of one region's VPC.
type networkPlan struct {
	VPC     netip.Prefix
	Subnets map[subnetTier][]netip.Prefix // per tier, one per AZ in AZ order
}

// planCIDRs computes every subnet of a VPC: tier t in AZ a gets slot t*tierStride+a of the VPC
// split into subnets of the given prefix length. It is the one place CIDRs are computed.
func planCIDRs(vpc string, subnetPrefix, azCount int) (networkPlan, error) {
	p, err := netip.ParsePrefix(vpc)
	if err != nil {
		return networkPlan{}, fmt.Errorf("cannot parse %q as an IPv4 CIDR such as 10.0.0.0/16", vpc)
	}
	if !p.Addr().Is4() {
		return networkPlan{}, fmt.Errorf("%q is not an IPv4 CIDR: use one such as 10.0.0.0/16", vpc)
	}
	if p.Masked() != p {
		return networkPlan{}, fmt.Errorf("%q has host bits set: use %s", vpc, p.Masked())
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return networkPlan{}, fmt.Errorf("%q has prefix /%d: AWS VPCs take /16 to /28 (e.g. 10.0.0.0/16)", vpc, p.Bits())
	}
	if subnetPrefix < 16 || subnetPrefix > 28 {
		return networkPlan{}, fmt.Errorf("subnet prefix /%d is out of range: AWS subnets take /16 to /28", subnetPrefix)
	}
	if subnetPrefix <= p.Bits() {
		return networkPlan{}, fmt.Errorf("subnet prefix /%d is not longer than the VPC's /%d: use a subnet prefix of at least /%d", subnetPrefix, p.Bits(), p.Bits()+5)
	}
	if azCount < 1 || azCount > maxAZs {
		return networkPlan{}, fmt.Errorf("%d availability zones is out of range: use 1 to %d", azCount, maxAZs)
	}
	slots := uint64(1) << uint(subnetPrefix-p.Bits())
	need := uint64((len(tiers)-1)*tierStride + azCount) //nolint:gosec // A handful of tiers and at most maxAZs zones: small and positive.
	if need > slots {
		return networkPlan{}, fmt.Errorf("%d subnets of /%d do not fit in %s, which holds %d: use a larger VPC or a longer subnet prefix (e.g. /%d)",
			need, subnetPrefix, vpc, slots, minPrefixFor(p.Bits(), need))
	}
	plan := networkPlan{VPC: p, Subnets: make(map[subnetTier][]netip.Prefix, len(tiers))}
	base := ipv4ToUint(p.Addr())
	size := uint32(1) << uint(32-subnetPrefix)
	for t, tier := range tiers {
		for a := range azCount {
			slot := uint32(t*tierStride + a)
			plan.Subnets[tier] = append(plan.Subnets[tier], netip.PrefixFrom(uintToIPv4(base+slot*size), subnetPrefix))
		}
	}
	return plan, nil
}

func minPrefixFor(vpcBits int, need uint64) int {
	bits := vpcBits
	for (uint64(1) << uint(bits-vpcBits)) < need {
		bits++
	}
	return bits
}

func ipv4ToUint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func uintToIPv4(u uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}) //nolint:gosec // Truncating to each octet is the point.
}
