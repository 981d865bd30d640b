package fn

import (
	"strconv"
	"time"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// buildStatus reports what the observed resources say: per region the VPC and subnet ids, the
// active region, the phase and what the XR waits for.
func buildStatus(p *xrPlan, o observedState, st failoverState, d *desiredState, last *v1alpha1.SwitchoverStatus) v1alpha1.XPostgresDRStatus {
	return v1alpha1.XPostgresDRStatus{
		ActiveRegion: p.Regions[st.Writer].Region,
		Primary:      regionStatus(p, o, st, RolePrimary),
		DR:           regionStatus(p, o, st, RoleDR),
		WaitingFor:   d.Waiting,
		Phase:        st.Phase(p, allReady(o, d)),
		Switchover:   switchoverStatus(p, o, st, last),
	}
}

// switchoverStatus is the running switchover's, from its result once there is one. Once it is
// over the last one the XR reported stays: completed from the Invocation's result if that is
// still observed, or from which instance writes if the promotion was seen before the result.
func switchoverStatus(p *xrPlan, o observedState, st failoverState, last *v1alpha1.SwitchoverStatus) *v1alpha1.SwitchoverStatus {
	if !st.Switching {
		if last == nil || (last.State != switchoverRunning && !st.AwaitResult) {
			return last
		}
		done := last.DeepCopy()
		to := p.RoleOf(last.To)
		if r := switchoverResult(p, o, to); r != nil && r.ID == last.ID {
			fillSwitchover(done, r)
			return done
		}
		done.State = contract.SwitchoverPromoted
		if st.Writer != to {
			done.State, done.Reason = switchoverCancelled, "spec.activeRegion was set back before the switchover reported"
		}
		return done
	}
	to := p.RoleOf(p.Spec.ActiveRegion)
	s := &v1alpha1.SwitchoverStatus{ID: switchoverID(p, to), From: p.Regions[to.Peer()].Region, To: p.Regions[to].Region, State: switchoverRunning}
	switch {
	case st.Result != nil:
		fillSwitchover(s, st.Result)
	case st.Writer == to:
		// Observed promoted before the Invocation's result was: the result is read later.
		s.State = contract.SwitchoverPromoted
	}
	return s
}

// awaitingResult reports whether a switchover promoted the writer and the XR's status does not
// hold its result yet: the Invocation then stays desired until it does. Reading the result is not
// enough: the next reconcile may see the XR as it was before this one's status was written, and
// without the Invocation the result would be gone for good.
func awaitingResult(p *xrPlan, st failoverState, last *v1alpha1.SwitchoverStatus) bool {
	recorded := last != nil && last.ID == switchoverID(p, st.Writer) && last.FencedLSN != ""
	if st.Switching {
		return st.Writer == p.RoleOf(p.Spec.ActiveRegion) && !recorded
	}
	return last != nil && last.ID == switchoverID(p, st.Writer) && !recorded &&
		(last.State == contract.SwitchoverPromoted || last.State == switchoverRunning)
}

// States of status.switchover besides the runner's outcomes.
const (
	switchoverRunning   = "Running"
	switchoverCancelled = "Cancelled"
)

func fillSwitchover(s *v1alpha1.SwitchoverStatus, r *contract.SwitchoverResult) {
	s.State, s.Reason = r.Outcome, r.Reason
	s.FencedLSN, s.ReplicaLSN = r.FencedLSN, r.ReplicaLSN
	s.WriteUnavailableMillis, s.CatchUpMillis = r.WriteUnavailableMs, r.CatchUpMs
	s.Steps = nil
	for _, step := range r.Steps {
		s.Steps = append(s.Steps, v1alpha1.SwitchoverStep{Step: step.Step, At: step.At.UTC().Format(time.RFC3339Nano), Detail: step.Detail})
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
	writer := st.Current(p, st.Writer).Name()
	if ep := dbEndpoint(o, writer); ep != "" {
		set(connInstanceEndpoint, ep)
		set(connInstanceEndpointSSLMode, sslModeInstance)
	}
	if st.Armed(p) {
		set(connReaderEndpoint, dbEndpoint(o, st.Current(p, st.Standby()).Name()))
	}
	if dbEndpoint(o, writer) != "" {
		set(connPort, strconv.Itoa(postgresPort))
		set(connUsername, p.Spec.Postgres.Username)
		set(connDatabase, p.Spec.Postgres.DatabaseName)
		if pw := firstBytes(o.ConnectionDetail(writer, connPassword), o.ConnectionDetail(DBInstanceName(RolePrimary), connPassword)); len(pw) > 0 {
			cd[connPassword] = pw
		}
	}
	return cd
}

// firstBytes returns the first value that is not empty.
func firstBytes(values ...[]byte) []byte {
	for _, v := range values {
		if len(v) > 0 {
			return v
		}
	}
	return nil
}

// instanceRoles are how the status names what an instance is desired as.
var instanceRoles = map[instanceAs]string{asWriter: "Writer", asReplica: "Replica", asPromoted: "Promoted", asFenced: "Fenced"} //nolint:gochecknoglobals // A constant map.

func regionStatus(p *xrPlan, o observedState, st failoverState, role Role) v1alpha1.RegionStatus {
	rp := p.Regions[role]
	cur := st.Current(p, role)
	rs := v1alpha1.RegionStatus{
		Region:       rp.Region,
		VPCID:        vpcID(o, role),
		Endpoint:     dbEndpoint(o, cur.Name()),
		InstanceARN:  dbInstanceARN(o, cur.Name()),
		Instance:     p.InstanceID(role),
		Generation:   cur.Gen,
		InstanceRole: instanceRoles[cur.As],
		TopicARN:     topicARN(o, role),
	}
	if old, ok := st.Retained(p, role); ok {
		rs.RetainedInstance = p.Names.DBInstance(role, old.Gen)
	}
	if o.Exists(bucketName(role)) {
		rs.Bucket = bucketAWSName(p, o, role)
	}
	if rp.Existing != nil {
		rs.VPCID = rp.Existing.VPCID
	}
	for _, tier := range tiers {
		ids := existingSubnetIDs(rp, tier)
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
