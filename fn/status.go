package fn

import (
	"strconv"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// buildStatus reports what the observed resources say: per region the VPC and subnet ids, the
// active region, the phase and what the XR waits for.
func buildStatus(p *xrPlan, o observedState, st failoverState, d *desiredState) v1alpha1.XPostgresDRStatus {
	return v1alpha1.XPostgresDRStatus{
		ActiveRegion: p.Regions[st.Writer].Region,
		Primary:      regionStatus(p, o, RolePrimary),
		DR:           regionStatus(p, o, RoleDR),
		WaitingFor:   d.Waiting,
		Phase:        st.Phase(allReady(o, d)),
	}
}

// Connection secret keys.
const (
	connEndpoint       = "endpoint"
	connReaderEndpoint = "readerEndpoint"
	connPort           = "port"
	connUsername       = "username"
	connPassword       = "password"
	connDatabase       = "database"
)

// connectionDetails are the claim's connection secret: the writer's endpoint, the other
// instance's as the reader endpoint, and how to log in.
func connectionDetails(p *xrPlan, o observedState, st failoverState) resource.ConnectionDetails {
	cd := resource.ConnectionDetails{}
	set := func(k, v string) {
		if v != "" {
			cd[k] = []byte(v)
		}
	}
	set(connEndpoint, dbEndpoint(o, st.Writer))
	set(connReaderEndpoint, dbEndpoint(o, st.Writer.Peer()))
	if dbEndpoint(o, st.Writer) != "" {
		set(connPort, strconv.Itoa(postgresPort))
		set(connUsername, p.Spec.Postgres.Username)
		set(connDatabase, p.Spec.Postgres.DatabaseName)
		if pw := o.ConnectionDetail(DBInstanceName(RolePrimary), connPassword); len(pw) > 0 {
			cd[connPassword] = pw
		}
	}
	return cd
}

func regionStatus(p *xrPlan, o observedState, role Role) v1alpha1.RegionStatus {
	rp := p.Regions[role]
	rs := v1alpha1.RegionStatus{
		Region:      rp.Region,
		VPCID:       vpcID(o, role),
		Endpoint:    dbEndpoint(o, role),
		InstanceARN: dbInstanceARN(o, role),
		TopicARN:    topicARN(o, role),
	}
	if o.Exists(bucketName(role)) {
		rs.Bucket = p.Names.Bucket(rp.Region)
	}
	for _, tier := range tiers {
		var ids []string
		for _, az := range rp.AZs {
			if id := subnetID(o, subnetName(role, tier, az)); id != "" {
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
