package fn

import (
	"strconv"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// BuildStatus reports what the observed resources say: per region the VPC and subnet ids, the
// active region, the phase and what the XR waits for.
func BuildStatus(p *Plan, o Observed, st FailoverState, d *Desired) v1alpha1.XPostgresDRStatus {
	return v1alpha1.XPostgresDRStatus{
		ActiveRegion: p.Regions[st.Writer].Region,
		Primary:      regionStatus(p, o, RolePrimary),
		DR:           regionStatus(p, o, RoleDR),
		WaitingFor:   d.Waiting,
		Phase:        st.Phase(AllReady(o, d)),
	}
}

// Connection secret keys.
const (
	ConnEndpoint       = "endpoint"
	ConnReaderEndpoint = "readerEndpoint"
	ConnPort           = "port"
	ConnUsername       = "username"
	ConnPassword       = "password"
	ConnDatabase       = "database"
)

// ConnectionDetails are the claim's connection secret: the writer's endpoint, the other
// instance's as the reader endpoint, and how to log in.
func ConnectionDetails(p *Plan, o Observed, st FailoverState) resource.ConnectionDetails {
	cd := resource.ConnectionDetails{}
	set := func(k, v string) {
		if v != "" {
			cd[k] = []byte(v)
		}
	}
	set(ConnEndpoint, DBEndpoint(o, st.Writer))
	set(ConnReaderEndpoint, DBEndpoint(o, st.Writer.Peer()))
	if DBEndpoint(o, st.Writer) != "" {
		set(ConnPort, strconv.Itoa(PostgresPort))
		set(ConnUsername, p.Spec.Postgres.Username)
		set(ConnDatabase, p.Spec.Postgres.DatabaseName)
		if pw := o.ConnectionDetail(DBInstanceName(RolePrimary), ConnPassword); len(pw) > 0 {
			cd[ConnPassword] = pw
		}
	}
	return cd
}

func regionStatus(p *Plan, o Observed, role Role) v1alpha1.RegionStatus {
	rp := p.Regions[role]
	rs := v1alpha1.RegionStatus{
		Region:      rp.Region,
		VPCID:       VPCID(o, role),
		Endpoint:    DBEndpoint(o, role),
		InstanceARN: DBInstanceARN(o, role),
		TopicARN:    TopicARN(o, role),
	}
	if o.Exists(BucketName(role)) {
		rs.Bucket = p.Names.Bucket(rp.Region)
	}
	for _, tier := range Tiers {
		var ids []string
		for _, az := range rp.AZs {
			if id := SubnetID(o, SubnetName(role, tier, az)); id != "" {
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
