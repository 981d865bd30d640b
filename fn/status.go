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
	// connEndpoint is the writer's name that survives a failover: the Route53 failover record.
	connEndpoint = "endpoint"
	// connEndpointSSLMode is the strictest libpq sslmode that works with connEndpoint.
	connEndpointSSLMode = "endpointSSLMode"
	// connInstanceEndpoint is the writer instance's own address, which a failover changes.
	connInstanceEndpoint = "instanceEndpoint"
	// connInstanceEndpointSSLMode is the strictest libpq sslmode that works with
	// connInstanceEndpoint.
	connInstanceEndpointSSLMode = "instanceEndpointSSLMode"
	connReaderEndpoint          = "readerEndpoint"
	connPort                    = "port"
	connUsername                = "username"
	connPassword                = "password"
	connDatabase                = "database"
)

// The sslmodes of the endpoints. The RDS server certificate names the instance, not our record:
// verify-full checks the name the client dialled against the certificate, so it fails with the
// record's name; require still encrypts, without checking whom it talks to.
const (
	sslModeRecord   = "require"
	sslModeInstance = "verify-full"
)

// connectionDetails are the claim's connection secret: the failover record's name as the
// writer's endpoint once the record is observed, the writer instance's address, the other
// instance's as the reader endpoint, and how to log in.
func connectionDetails(p *xrPlan, o observedState, st failoverState) resource.ConnectionDetails {
	cd := resource.ConnectionDetails{}
	set := func(k, v string) {
		if v != "" {
			cd[k] = []byte(v)
		}
	}
	// The record exists only once a writer's address was observed to point it at; until then
	// a name that does not resolve is no endpoint.
	if o.Exists(dnsRecordName(RolePrimary)) {
		if fqdn := recordFQDN(p, o); fqdn != "" {
			set(connEndpoint, fqdn)
			set(connEndpointSSLMode, sslModeRecord)
		}
	}
	if ep := dbEndpoint(o, st.Writer); ep != "" {
		set(connInstanceEndpoint, ep)
		set(connInstanceEndpointSSLMode, sslModeInstance)
	}
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
		rs.Bucket = bucketAWSName(p, o, role)
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
