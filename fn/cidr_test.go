package fn

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanCIDRs(t *testing.T) {
	type args struct {
		vpc          string
		subnetPrefix int
		azCount      int
	}
	type want struct {
		subnets map[subnetTier][]string
		err     string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"Default": {
			reason: "A /16 split into /24s puts each tier in its own block of eight slots.",
			args:   args{vpc: "10.0.0.0/16", subnetPrefix: 24, azCount: 3},
			want: want{subnets: map[subnetTier][]string{
				tierPublic:   {"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"},
				tierDatabase: {"10.0.8.0/24", "10.0.9.0/24", "10.0.10.0/24"},
				tierLambda:   {"10.0.16.0/24", "10.0.17.0/24", "10.0.18.0/24"},
			}},
		},
		"SmallVPC": {
			reason: "A /22 split into /27s still fits three tiers of two AZs.",
			args:   args{vpc: "192.168.4.0/22", subnetPrefix: 27, azCount: 2},
			want: want{subnets: map[subnetTier][]string{
				tierPublic:   {"192.168.4.0/27", "192.168.4.32/27"},
				tierDatabase: {"192.168.5.0/27", "192.168.5.32/27"},
				tierLambda:   {"192.168.6.0/27", "192.168.6.32/27"},
			}},
		},
		"DoesNotFit": {
			reason: "Nineteen /20 subnets do not fit a /16.",
			args:   args{vpc: "10.0.0.0/16", subnetPrefix: 20, azCount: 3},
			want:   want{err: "19 subnets of /20 do not fit in 10.0.0.0/16"},
		},
		"HostBits": {
			reason: "A CIDR with host bits set is refused with the masked form as the fix.",
			args:   args{vpc: "10.0.0.1/16", subnetPrefix: 24, azCount: 3},
			want:   want{err: "use 10.0.0.0/16"},
		},
		"NotACIDR": {
			reason: "Garbage is refused.",
			args:   args{vpc: "ten.zero", subnetPrefix: 24, azCount: 3},
			want:   want{err: "cannot parse"},
		},
		"IPv6": {
			reason: "IPv6 VPC CIDRs are refused.",
			args:   args{vpc: "fd00::/48", subnetPrefix: 24, azCount: 3},
			want:   want{err: "not an IPv4 CIDR"},
		},
		"VPCTooLarge": {
			reason: "AWS VPCs are at most /16.",
			args:   args{vpc: "10.0.0.0/8", subnetPrefix: 24, azCount: 3},
			want:   want{err: "AWS VPCs take /16 to /28"},
		},
		"SubnetPrefixOutOfRange": {
			reason: "AWS subnets are at most /28.",
			args:   args{vpc: "10.0.0.0/16", subnetPrefix: 29, azCount: 3},
			want:   want{err: "out of range"},
		},
		"SubnetNotSmaller": {
			reason: "A subnet prefix no longer than the VPC's is refused.",
			args:   args{vpc: "10.0.0.0/24", subnetPrefix: 24, azCount: 3},
			want:   want{err: "not longer than the VPC's"},
		},
		"TooManyAZs": {
			reason: "More than six AZs is refused.",
			args:   args{vpc: "10.0.0.0/16", subnetPrefix: 24, azCount: 7},
			want:   want{err: "out of range"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := planCIDRs(tc.args.vpc, tc.args.subnetPrefix, tc.args.azCount)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("\n%s\nPlanCIDRs(...): want error containing %q, got %v", tc.reason, tc.want.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nPlanCIDRs(...): %v", tc.reason, err)
			}
			gotS := map[subnetTier][]string{}
			for tier, ps := range got.Subnets {
				for _, p := range ps {
					gotS[tier] = append(gotS[tier], p.String())
				}
			}
			if diff := cmp.Diff(tc.want.subnets, gotS); diff != "" {
				t.Errorf("\n%s\nPlanCIDRs(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestPlanCIDRsProperties checks, for every VPC size, subnet prefix and AZ count the planner
// accepts, that subnets are disjoint, inside their VPC, deterministic, and stable when the AZ
// count grows.
func TestPlanCIDRsProperties(t *testing.T) {
	for vpcBits := 16; vpcBits <= 28; vpcBits++ {
		vpc := fmt.Sprintf("10.%d.0.0/%d", 0, vpcBits)
		for sp := 16; sp <= 28; sp++ {
			var prev networkPlan
			for az := 1; az <= maxAZs; az++ {
				p, err := planCIDRs(vpc, sp, az)
				if err != nil {
					continue
				}
				var all []netip.Prefix
				for _, tier := range tiers {
					if len(p.Subnets[tier]) != az {
						t.Fatalf("%s /%d %d AZs: tier %s has %d subnets", vpc, sp, az, tier, len(p.Subnets[tier]))
					}
					all = append(all, p.Subnets[tier]...)
				}
				for i, a := range all {
					if !p.VPC.Contains(a.Addr()) || a.Bits() != sp || !p.VPC.Contains(lastAddr(a)) {
						t.Fatalf("%s /%d %d AZs: subnet %s is not a /%d inside the VPC", vpc, sp, az, a, sp)
					}
					for _, b := range all[i+1:] {
						if a.Overlaps(b) {
							t.Fatalf("%s /%d %d AZs: subnets %s and %s overlap", vpc, sp, az, a, b)
						}
					}
				}
				again, _ := planCIDRs(vpc, sp, az)
				if diff := cmp.Diff(p, again, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
					t.Fatalf("%s /%d %d AZs: not deterministic:\n%s", vpc, sp, az, diff)
				}
				if prev.Subnets != nil {
					for _, tier := range tiers {
						for i, s := range prev.Subnets[tier] {
							if p.Subnets[tier][i] != s {
								t.Fatalf("%s /%d: growing to %d AZs moved %s subnet %d from %s to %s", vpc, sp, az, tier, i, s, p.Subnets[tier][i])
							}
						}
					}
				}
				prev = p
			}
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	return uintToIPv4(ipv4ToUint(p.Addr()) + (uint32(1) << uint(32-p.Bits())) - 1)
}
