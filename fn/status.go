package fn

import (
	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// BuildStatus reports what the observed resources say: per region the VPC and subnet ids, the
// active region, the phase and what the XR waits for.
func BuildStatus(p *Plan, o Observed, d *Desired) v1alpha1.XPostgresDRStatus {
	s := v1alpha1.XPostgresDRStatus{
		ActiveRegion: p.Spec.ActiveRegion,
		Primary:      regionStatus(p, o, RolePrimary),
		DR:           regionStatus(p, o, RoleDR),
		WaitingFor:   d.Waiting,
		Phase:        v1alpha1.PhaseProvisioning,
	}
	if AllReady(o, d) {
		s.Phase = v1alpha1.PhaseReplicating
	}
	return s
}

func regionStatus(p *Plan, o Observed, role Role) v1alpha1.RegionStatus {
	rp := p.Regions[role]
	rs := v1alpha1.RegionStatus{Region: rp.Region, VPCID: o.AtProvider(VPCName(role), "id")}
	for _, tier := range Tiers {
		var ids []string
		for _, az := range rp.AZs {
			if id := o.AtProvider(SubnetName(role, tier, az), "id"); id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			if rs.SubnetIDs == nil {
				rs.SubnetIDs = map[string][]string{}
			}
			rs.SubnetIDs[string(tier)] = ids
		}
	}
	return rs
}
