package fn

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	route53v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta1"
	route53v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta2"
)

// dnsBuild runs the builders DNS depends on (the alarms its health checks watch) and DNS.
func dnsBuild(p *xrPlan, st failoverState) func(observedState, *desiredState) {
	return func(o observedState, d *desiredState) {
		buildMonitoring(p, o, st, d)
		buildDNS(p, o, st, d)
	}
}

func selectorOf(name resource.Name) *xpv1.Selector {
	return &xpv1.Selector{MatchControllerRef: new(true), MatchLabels: map[string]string{labelResource: string(name)}}
}

func TestBuildDNS(t *testing.T) {
	p := testPlan(t, builderSpec)
	existing := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneID":"Z0EXISTING1","recordName":"orders"}}`)
	replicating := dataLayer(t, p, false)
	promoted := dataLayer(t, p, true)
	primaryEP, drEP := dbEndpoint(replicating, DBInstanceName(RolePrimary)), dbEndpoint(replicating, DBInstanceName(RoleDR))

	type want struct {
		resources []string
		records   map[resource.Name]route53v1beta2.RecordParameters // without the health check id
		healthy   bool                                              // the PRIMARY record has a health check
	}
	record := func(target, setID, failover string) route53v1beta2.RecordParameters {
		return route53v1beta2.RecordParameters{
			Name: new("db.pgdr.internal"), Type: new("CNAME"), TTL: new(float64(30)), SetIdentifier: new(setID),
			FailoverRoutingPolicy: &route53v1beta2.FailoverRoutingPolicyParameters{Type: new(failover)},
			Records:               []*string{new(target)}, ZoneIDSelector: selectorOf(zoneName()),
		}
	}
	hcs := []string{string(healthCheckName(p, healthCheckMonitorBlind)), string(healthCheckName(p, healthCheckPrimary)), string(healthCheckName(p, healthCheckPrimaryReachable))}
	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		observed observedState
		st       failoverState
		settle   bool
		want     want
	}{
		"NothingObserved": {
			reason:   "The zone needs nothing observed; the records wait for the endpoints and the health checks for the alarms.",
			plan:     p,
			observed: observedState{},
			st:       stReplicating,
			want:     want{resources: []string{string(zoneName())}},
		},
		"Replicating": {
			reason:   "PRIMARY names the primary, with the calculated health check; SECONDARY names the replica.",
			plan:     p,
			observed: replicating,
			st:       detectFailover(p, replicating),
			settle:   true,
			want: want{
				resources: append([]string{string(dnsRecordName(RoleDR)), string(dnsRecordName(RolePrimary)), string(zoneName())}, hcs...),
				records: map[resource.Name]route53v1beta2.RecordParameters{
					dnsRecordName(RolePrimary): record(primaryEP, setIDPrimary, "PRIMARY"),
					dnsRecordName(RoleDR):      record(drEP, setIDSecondary, "SECONDARY"),
				},
				healthy: true,
			},
		},
		"PromotedOutOfBand": {
			reason:   "After an out-of-band promotion PRIMARY names the DR instance without a health check, as the failover Lambda left it; no SECONDARY.",
			plan:     p,
			observed: promoted,
			st:       detectFailover(p, promoted),
			settle:   true,
			want: want{
				resources: []string{string(dnsRecordName(RolePrimary)), string(zoneName())},
				records:   map[resource.Name]route53v1beta2.RecordParameters{dnsRecordName(RolePrimary): record(drEP, setIDPrimary, "PRIMARY")},
			},
		},
		"Switchover": {
			reason:   "A planned switchover points PRIMARY at the DR instance like a failover.",
			plan:     p,
			observed: replicating,
			st:       stSwitchedOver,
			settle:   true,
			want: want{
				resources: []string{string(dnsRecordName(RolePrimary)), string(zoneName())},
				records:   map[resource.Name]route53v1beta2.RecordParameters{dnsRecordName(RolePrimary): record(drEP, setIDPrimary, "PRIMARY")},
			},
		},
		"ExistingZone": {
			reason:   "An existing zone is associated with both VPCs; the records go into it by id, with the relative name.",
			plan:     existing,
			observed: dataLayer(t, existing, false),
			st:       stReplicating,
			settle:   true,
			want: want{
				resources: append([]string{string(dnsRecordName(RoleDR)), string(zoneAssociationName(RoleDR)), string(dnsRecordName(RolePrimary)), string(zoneAssociationName(RolePrimary))}, hcs...),
				healthy:   true,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, tc.plan.ProviderConfig)
			o := tc.observed
			if tc.settle {
				d, o = settle(t, tc.plan, tc.observed, dnsBuild(tc.plan, tc.st))
			} else {
				buildDNS(tc.plan, tc.observed, tc.st, d)
			}
			got := names(d, string(zoneName()), "primary-dns", "dr-dns", "dr-healthcheck")
			want := append([]string(nil), tc.want.resources...)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("\n%s\nDNS resources: -want, +got:\n%s", tc.reason, diff)
			}
			for rn, wantRec := range tc.want.records {
				r, ok := d.Resources[rn].(*route53v1beta2.Record)
				if !ok {
					t.Errorf("\n%s\n%s is not a desired Record", tc.reason, rn)
					continue
				}
				gotRec := r.Spec.ForProvider
				gotRec.HealthCheckID = nil
				if diff := cmp.Diff(wantRec, gotRec); diff != "" {
					t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, rn, diff)
				}
			}
			if r, ok := d.Resources[dnsRecordName(RolePrimary)].(*route53v1beta2.Record); ok && tc.settle {
				hc := r.Spec.ForProvider.HealthCheckID
				switch {
				case tc.want.healthy && (hc == nil || *hc != healthCheckID(o, healthCheckName(p, healthCheckPrimary))):
					t.Errorf("\n%s\nthe PRIMARY record's health check is %v, want the calculated health check's id", tc.reason, hc)
				case !tc.want.healthy && hc != nil:
					t.Errorf("\n%s\nthe PRIMARY record has health check %s, want none", tc.reason, *hc)
				}
			}
			if tc.settle && len(d.Waiting) > 0 {
				t.Errorf("\n%s\nstill waiting after everything is observed:\n%s", tc.reason, strings.Join(d.Waiting, "\n"))
			}
		})
	}
}

func TestDNSZone(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"eu-west-1","dr":"eu-central-1"},"failover":{"zoneName":"db.example.internal"}}`)
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildDNS(p, observedState{}, stReplicating, d)
	z, ok := d.Resources[zoneName()].(*route53v1beta1.Zone)
	if !ok {
		t.Fatalf("%s is not a desired Zone", zoneName())
	}
	want := []route53v1beta1.VPCParameters{
		{VPCIDSelector: selectorOf(vpcName(RolePrimary)), VPCRegion: new("eu-west-1")},
		{VPCIDSelector: selectorOf(vpcName(RoleDR)), VPCRegion: new("eu-central-1")},
	}
	if diff := cmp.Diff(want, z.Spec.ForProvider.VPC); diff != "" {
		t.Errorf("the private zone is associated with both VPCs inline (a separate association would be undone by the zone): -want, +got:\n%s", diff)
	}
	if got := *z.Spec.ForProvider.Name; got != "db.example.internal" {
		t.Errorf("zone name %q, want the spec's db.example.internal", got)
	}
}

func TestDNSHealthChecks(t *testing.T) {
	p := testPlan(t, builderSpec)
	observed := dataLayer(t, p, false)
	d, o := settle(t, p, observed, dnsBuild(p, detectFailover(p, observed)))
	hc := func(purpose string) route53v1beta1.HealthCheckParameters {
		h, ok := d.Resources[healthCheckName(p, purpose)].(*route53v1beta1.HealthCheck)
		if !ok {
			t.Fatalf("%s is not a desired HealthCheck", healthCheckName(p, purpose))
		}
		fp := h.Spec.ForProvider
		fp.Tags = nil
		return fp
	}
	cases := map[string]struct {
		reason  string
		purpose string
		want    route53v1beta1.HealthCheckParameters
	}{
		"PrimaryReachable": {
			reason:  "Healthy while the DR monitor's primary-unreachable alarm is OK.",
			purpose: healthCheckPrimaryReachable,
			want: route53v1beta1.HealthCheckParameters{
				Type: new("CLOUDWATCH_METRIC"), CloudwatchAlarmName: new(alarmAWSName(p, RoleDR, alarmPrimaryUnreachable)),
				CloudwatchAlarmRegion: new("us-east-2"), InvertHealthcheck: new(false), InsufficientDataHealthStatus: new("LastKnownStatus"),
			},
		},
		"MonitorBlind": {
			reason:  "Inverted: healthy while the monitor cannot vouch for the replica.",
			purpose: healthCheckMonitorBlind,
			want: route53v1beta1.HealthCheckParameters{
				Type: new("CLOUDWATCH_METRIC"), CloudwatchAlarmName: new(alarmAWSName(p, RoleDR, alarmReplicaUnreachable)),
				CloudwatchAlarmRegion: new("us-east-2"), InvertHealthcheck: new(true), InsufficientDataHealthStatus: new("LastKnownStatus"),
			},
		},
		"Primary": {
			reason:  "Healthy when either child is: unhealthy exactly when the composite alarm primary-unhealthy fires.",
			purpose: healthCheckPrimary,
			want: route53v1beta1.HealthCheckParameters{
				Type: new("CALCULATED"), ChildHealthThreshold: new(float64(1)),
				ChildHealthchecks: []*string{
					new(healthCheckID(o, healthCheckName(p, healthCheckPrimaryReachable))),
					new(healthCheckID(o, healthCheckName(p, healthCheckMonitorBlind))),
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, hc(tc.purpose)); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, healthCheckName(p, tc.purpose), diff)
			}
		})
	}
}

func TestRecordFQDN(t *testing.T) {
	own := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneName":"pgdr.internal","recordName":"orders"}}`)
	existing := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneID":"Z0EXISTING1","recordName":"orders"}}`)
	withFQDN := func(fqdn string) observedState {
		d := newDesired(clusterFlavour{}, existing.ProviderConfig)
		addRecord(existing, dataLayer(t, existing, false), d, dnsRecordName(RolePrimary), dbInstance{Role: RolePrimary, Gen: 1, As: asWriter}, setIDPrimary, "PRIMARY", "")
		return observedState{dnsRecordName(RolePrimary): observedFixture(t, dnsRecordName(RolePrimary), d.Resources[dnsRecordName(RolePrimary)], map[string]any{"fqdn": fqdn})}
	}
	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		observed observedState
		want     string
		wantZone string
	}{
		"OwnZone":            {"The record's name in the function's zone is known from the spec.", own, observedState{}, "orders.pgdr.internal", ""},
		"ExistingZone":       {"In an existing zone the name is unknown until the record is observed.", existing, observedState{}, "", "Z0EXISTING1"},
		"ExistingZoneLoaded": {"Once observed, the record's FQDN, lowercase, without the final dot.", existing, withFQDN("Orders.Corp.Example."), "orders.corp.example", "Z0EXISTING1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := recordFQDN(tc.plan, tc.observed); got != tc.want {
				t.Errorf("\n%s\nRecordFQDN: got %q, want %q", tc.reason, got, tc.want)
			}
			if got := hostedZoneID(tc.plan, tc.observed); got != tc.wantZone {
				t.Errorf("\n%s\nHostedZoneID: got %q, want %q", tc.reason, got, tc.wantZone)
			}
		})
	}
}
