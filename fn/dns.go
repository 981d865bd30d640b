package fn

import (
	"fmt"
	"strings"

	"github.com/crossplane/function-sdk-go/resource"

	route53v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta1"
	route53v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta2"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// recordTTL is the TTL of the failover records, short so that clients follow a failover within
// half a minute. The failover Lambda writes the PRIMARY record with the same TTL.
const recordTTL = contract.DefaultRecordTTL

// Set identifiers of the failover record pair. The PRIMARY record keeps its identifier when it
// is repointed, so that the failover Lambda and the function name the same record.
const (
	setIDPrimary   = "primary"
	setIDSecondary = "secondary"
)

// Route53 record failover types.
const (
	failoverPrimary   = "PRIMARY"
	failoverSecondary = "SECONDARY"
)

// Health check purposes.
const (
	// healthCheckPrimaryReachable is healthy while the replication-lag monitor reaches the primary.
	healthCheckPrimaryReachable = "primary-reachable"
	// healthCheckMonitorBlind is healthy while the monitor cannot vouch for the replica (it does
	// not reach it, or does not report): then an unreachable primary is no evidence of a dead one.
	healthCheckMonitorBlind = "monitor-blind"
	// healthCheckPrimary is the PRIMARY record's health: healthy when either child is.
	healthCheckPrimary = "primary"
)

// zoneName is the resource name of the private hosted zone the function creates when the spec
// names no existing zone. Route53 is global; the zone is associated with both VPCs.
func zoneName() resource.Name { return resourceName(RolePrimary, "dns-zone") }

// zoneAssociationName is the resource name of a region's VPC association with an existing zone.
func zoneAssociationName(r Role) resource.Name { return resourceName(r, "dns-zone-association") }

// dnsRecordName is the resource name of a failover record: the primary role's is the PRIMARY
// record, the DR role's the SECONDARY record. The PRIMARY record points at whichever instance
// takes writes, so after a failover it names the DR instance.
func dnsRecordName(r Role) resource.Name { return resourceName(r, "dns-record") }

// healthCheckName is the resource name of a Route53 health check. Health checks are global;
// they watch alarms in the region of the failover path.
func healthCheckName(p *xrPlan, purpose string) resource.Name {
	return resourceName(p.LambdaRole, "healthcheck", purpose)
}

// hostedZoneID returns the id of the zone that holds the records: the spec's existing zone, or
// the observed id of the zone the function created, or "".
func hostedZoneID(p *xrPlan, o observedState) string {
	if p.Spec.Failover.ZoneID != "" {
		return p.Spec.Failover.ZoneID
	}
	return deref(observedAs[route53v1beta1.Zone](o, zoneName()).Status.AtProvider.ZoneID)
}

// recordFQDN returns the fully qualified name of the failover records, lowercase and without
// the final dot, or "" while it is unknown: in an existing zone the zone's name is only known
// from the observed record.
func recordFQDN(p *xrPlan, o observedState) string {
	f := p.Spec.Failover
	if f.ZoneID == "" {
		return strings.ToLower(f.RecordName + "." + f.ZoneName)
	}
	return strings.ToLower(strings.TrimSuffix(deref(observedAs[route53v1beta2.Record](o, dnsRecordName(RolePrimary)).Status.AtProvider.Fqdn), "."))
}

// buildDNS adds the private hosted zone, associated with both VPCs (or, when the spec names an
// existing zone, both VPCs' associations with it), and the failover record pair: PRIMARY → the
// writer's endpoint, SECONDARY → the replica's. While the DR instance replicates, the PRIMARY
// record's health comes from the DR region's reachability alarms, through Route53 health checks
// on CloudWatch alarms (Route53's checkers cannot reach private endpoints). Once the DR instance
// takes writes there is no replica to fail over to: the PRIMARY record names the DR instance
// without a health check, as the failover Lambda leaves it, and the SECONDARY record goes.
func buildDNS(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	buildZone(p, d)
	healthCheckID := ""
	if st.Armed(p) {
		healthCheckID = buildHealthChecks(p, o, d)
	}
	addRecord(p, o, d, dnsRecordName(RolePrimary), st.Current(p, st.Writer), setIDPrimary, failoverPrimary, healthCheckID)
	if st.Armed(p) {
		addRecord(p, o, d, dnsRecordName(RoleDR), st.Current(p, st.Standby()), setIDSecondary, failoverSecondary, "")
	}
}

func buildZone(p *xrPlan, d *desiredState) {
	vpcs := zoneVPCs(p, d)
	if id := p.Spec.Failover.ZoneID; id != "" {
		for _, v := range vpcs {
			d.Add(v.name, &route53v1beta1.ZoneAssociation{
				Spec: route53v1beta1.ZoneAssociationSpec{ForProvider: route53v1beta1.ZoneAssociationParameters{
					ZoneID:        new(id),
					VPCID:         v.params.VPCID,
					VPCIDSelector: v.params.VPCIDSelector,
					VPCRegion:     v.params.VPCRegion,
				}},
			})
		}
		return
	}
	// Every VPC in the zone itself: a separate association of a zone that lists VPCs inline
	// would be removed again by the zone's next reconcile.
	inline := make([]route53v1beta1.VPCParameters, 0, len(vpcs))
	for _, v := range vpcs {
		inline = append(inline, v.params)
	}
	d.Add(zoneName(), &route53v1beta1.Zone{
		Spec: route53v1beta1.ZoneSpec{ForProvider: route53v1beta1.ZoneParameters{
			Name:         new(p.Spec.Failover.ZoneName),
			Comment:      new("PostgreSQL DR pair " + p.Names.Base + ": the failover record of the writer"),
			VPC:          inline,
			ForceDestroy: new(false),
			Tags:         p.Tags(RolePrimary, p.Names.Resource(RolePrimary, "zone")),
		}},
	})
}

// zoneVPC is a VPC the private zone is associated with, and the resource name of its
// association when the zone is not ours.
type zoneVPC struct {
	name   resource.Name
	params route53v1beta1.VPCParameters
}

// zoneVPCs are the VPCs the writer's name resolves in: both regions' database VPCs, then the
// application VPCs of spec.access, each once (Route53 refuses to associate a VPC twice).
func zoneVPCs(p *xrPlan, d *desiredState) []zoneVPC {
	var out []zoneVPC
	seen := map[string]bool{}
	for _, role := range roles {
		region := p.Regions[role].Region
		id, sel := vpcRef(p, d, role)
		if id != nil {
			seen[*id] = true
		}
		out = append(out, zoneVPC{name: zoneAssociationName(role), params: route53v1beta1.VPCParameters{VPCID: id, VPCIDSelector: sel, VPCRegion: new(region)}})
	}
	for _, role := range roles {
		region := p.Regions[role].Region
		for _, id := range p.regionAccess(role).ZoneVPCIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, zoneVPC{name: resource.Name(string(zoneAssociationName(role)) + "-" + id), params: route53v1beta1.VPCParameters{VPCID: new(id), VPCRegion: new(region)}})
		}
	}
	return out
}

// buildHealthChecks adds the health checks on the DR reachability alarms and the calculated
// health check of the PRIMARY record, and returns the latter's observed id, or "". The
// calculated check is healthy when the primary is reachable or the monitor is blind, so it fails
// exactly when the composite alarm "primary unhealthy" fires.
func buildHealthChecks(p *xrPlan, o observedState, d *desiredState) string {
	lr := p.LambdaRole
	dr := p.Regions[lr].Region
	var alarms, checks []string
	children := make([]*string, 0, 2)
	for _, hc := range []struct {
		purpose, alarm string
		invert         bool
	}{
		{healthCheckPrimaryReachable, alarmPrimaryUnreachable, false},
		{healthCheckMonitorBlind, alarmReplicaUnreachable, true},
	} {
		if alarmARN(o, lr, hc.alarm) == "" {
			// Route53 refuses a health check on an alarm that does not exist yet.
			alarms = append(alarms, string(alarmName(lr, hc.alarm)))
			continue
		}
		name := healthCheckName(p, hc.purpose)
		d.Add(name, &route53v1beta1.HealthCheck{
			Spec: route53v1beta1.HealthCheckSpec{ForProvider: route53v1beta1.HealthCheckParameters{
				Type:                         new("CLOUDWATCH_METRIC"),
				CloudwatchAlarmName:          new(alarmAWSName(p, lr, hc.alarm)),
				CloudwatchAlarmRegion:        new(dr),
				InvertHealthcheck:            new(hc.invert),
				InsufficientDataHealthStatus: new("LastKnownStatus"),
				Tags:                         p.Tags(lr, p.Names.Resource(lr, "hc-"+hc.purpose)),
			}},
		})
		if id := healthCheckID(o, name); id != "" {
			children = append(children, new(id))
		} else {
			checks = append(checks, string(name))
		}
	}
	if len(alarms) > 0 {
		d.Wait(fmt.Sprintf("the ARNs of %s, for the Route53 health checks on them", strings.Join(alarms, ", ")))
	}
	if len(checks) > 0 {
		d.Wait(fmt.Sprintf("the ids of %s, for the Route53 health check %s of the PRIMARY record", strings.Join(checks, ", "), healthCheckName(p, healthCheckPrimary)))
	}
	if len(alarms)+len(checks) > 0 {
		return ""
	}
	// The children by id, not by selector: a selector resolved while only one child existed
	// would stay resolved to that one.
	name := healthCheckName(p, healthCheckPrimary)
	d.Add(name, &route53v1beta1.HealthCheck{
		Spec: route53v1beta1.HealthCheckSpec{ForProvider: route53v1beta1.HealthCheckParameters{
			Type:                 new("CALCULATED"),
			ChildHealthchecks:    children,
			ChildHealthThreshold: new(float64(1)),
			Tags:                 p.Tags(lr, p.Names.Resource(lr, "hc-"+healthCheckPrimary)),
		}},
	})
	id := healthCheckID(o, name)
	if id == "" {
		d.Wait(fmt.Sprintf("the Route53 health check's id (%s), to attach it to the PRIMARY record", name))
	}
	return id
}

// addRecord adds a failover record pointing at an instance once its endpoint is observed.
func addRecord(p *xrPlan, o observedState, d *desiredState, name resource.Name, target dbInstance, setID, failover, healthCheckID string) {
	endpoint := dbEndpoint(o, target.Name())
	if endpoint == "" {
		d.Wait(fmt.Sprintf("the %s database's endpoint (%s), for the %s DNS record", roleTitle(target.Role), target.Name(), failover))
		return
	}
	f := p.Spec.Failover
	fp := route53v1beta2.RecordParameters{
		Type:                  new("CNAME"),
		TTL:                   new(float64(recordTTL)),
		SetIdentifier:         new(setID),
		FailoverRoutingPolicy: &route53v1beta2.FailoverRoutingPolicyParameters{Type: new(failover)},
		Records:               []*string{new(endpoint)},
	}
	if f.ZoneID != "" {
		// In an existing zone the provider appends the zone's name to a relative name.
		fp.Name, fp.ZoneID = new(f.RecordName), new(f.ZoneID)
	} else {
		fp.Name, fp.ZoneIDSelector = new(recordFQDN(p, o)), d.Select(zoneName())
	}
	if healthCheckID != "" {
		fp.HealthCheckID = new(healthCheckID)
	}
	d.Add(name, &route53v1beta2.Record{Spec: route53v1beta2.RecordSpec{ForProvider: fp}})
}

func healthCheckID(o observedState, name resource.Name) string {
	return deref(observedAs[route53v1beta1.HealthCheck](o, name).Status.AtProvider.ID)
}
