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
func dnsBuild(p *Plan, st FailoverState) func(Observed, *Desired) {
	return func(o Observed, d *Desired) {
		BuildMonitoring(p, o, st, d)
		BuildDNS(p, o, st, d)
	}
}

func selectorOf(name resource.Name) *xpv1.Selector {
	return &xpv1.Selector{MatchControllerRef: ptr(true), MatchLabels: map[string]string{LabelResource: string(name)}}
}

func TestBuildDNS(t *testing.T) {
	p := testPlan(t, builderSpec)
	existing := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneID":"Z0EXISTING1","recordName":"orders"}}`)
	replicating := dataLayer(t, p, false)
	promoted := dataLayer(t, p, true)
	primaryEP, drEP := DBEndpoint(replicating, RolePrimary), DBEndpoint(replicating, RoleDR)

	type want struct {
		resources []string
		records   map[resource.Name]route53v1beta2.RecordParameters // without the health check id
		healthy   bool                                              // the PRIMARY record has a health check
	}
	record := func(target, setID, failover string) route53v1beta2.RecordParameters {
		return route53v1beta2.RecordParameters{
			Name: ptr("db.pgdr.internal"), Type: ptr("CNAME"), TTL: ptr(float64(30)), SetIdentifier: ptr(setID),
			FailoverRoutingPolicy: &route53v1beta2.FailoverRoutingPolicyParameters{Type: ptr(failover)},
			Records:               []*string{ptr(target)}, ZoneIDSelector: selectorOf(ZoneName()),
		}
	}
	hcs := []string{string(HealthCheckName(HealthCheckMonitorBlind)), string(HealthCheckName(HealthCheckPrimary)), string(HealthCheckName(HealthCheckPrimaryReachable))}
	cases := map[string]struct {
		reason   string
		plan     *Plan
		observed Observed
		st       FailoverState
		settle   bool
		want     want
	}{
		"NothingObserved": {
			reason:   "The zone needs nothing observed; the records wait for the endpoints and the health checks for the alarms.",
			plan:     p,
			observed: Observed{},
			st:       FailoverState{Writer: RolePrimary},
			want:     want{resources: []string{string(ZoneName())}},
		},
		"Replicating": {
			reason:   "PRIMARY names the primary, with the calculated health check; SECONDARY names the replica.",
			plan:     p,
			observed: replicating,
			st:       DetectFailover(p, replicating),
			settle:   true,
			want: want{
				resources: append([]string{string(DNSRecordName(RoleDR)), string(DNSRecordName(RolePrimary)), string(ZoneName())}, hcs...),
				records: map[resource.Name]route53v1beta2.RecordParameters{
					DNSRecordName(RolePrimary): record(primaryEP, SetIDPrimary, "PRIMARY"),
					DNSRecordName(RoleDR):      record(drEP, SetIDSecondary, "SECONDARY"),
				},
				healthy: true,
			},
		},
		"PromotedOutOfBand": {
			reason:   "After an out-of-band promotion PRIMARY names the DR instance without a health check, as the failover Lambda left it; no SECONDARY.",
			plan:     p,
			observed: promoted,
			st:       DetectFailover(p, promoted),
			settle:   true,
			want: want{
				resources: []string{string(DNSRecordName(RolePrimary)), string(ZoneName())},
				records:   map[resource.Name]route53v1beta2.RecordParameters{DNSRecordName(RolePrimary): record(drEP, SetIDPrimary, "PRIMARY")},
			},
		},
		"Switchover": {
			reason:   "A planned switchover points PRIMARY at the DR instance like a failover.",
			plan:     p,
			observed: replicating,
			st:       FailoverState{Writer: RoleDR, Switchover: true},
			settle:   true,
			want: want{
				resources: []string{string(DNSRecordName(RolePrimary)), string(ZoneName())},
				records:   map[resource.Name]route53v1beta2.RecordParameters{DNSRecordName(RolePrimary): record(drEP, SetIDPrimary, "PRIMARY")},
			},
		},
		"ExistingZone": {
			reason:   "An existing zone is associated with both VPCs; the records go into it by id, with the relative name.",
			plan:     existing,
			observed: dataLayer(t, existing, false),
			st:       FailoverState{Writer: RolePrimary},
			settle:   true,
			want: want{
				resources: append([]string{string(DNSRecordName(RoleDR)), string(ZoneAssociationName(RoleDR)), string(DNSRecordName(RolePrimary)), string(ZoneAssociationName(RolePrimary))}, hcs...),
				healthy:   true,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := NewDesired(ClusterFlavour{}, tc.plan.ProviderConfig)
			o := tc.observed
			if tc.settle {
				d, o = settle(t, tc.plan, tc.observed, dnsBuild(tc.plan, tc.st))
			} else {
				BuildDNS(tc.plan, tc.observed, tc.st, d)
			}
			got := names(d, string(ZoneName()), "primary-dns", "dr-dns", "dr-healthcheck")
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
			if r, ok := d.Resources[DNSRecordName(RolePrimary)].(*route53v1beta2.Record); ok && tc.settle {
				hc := r.Spec.ForProvider.HealthCheckID
				switch {
				case tc.want.healthy && (hc == nil || *hc != healthCheckID(o, HealthCheckName(HealthCheckPrimary))):
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
	d := NewDesired(ClusterFlavour{}, p.ProviderConfig)
	BuildDNS(p, Observed{}, FailoverState{Writer: RolePrimary}, d)
	z, ok := d.Resources[ZoneName()].(*route53v1beta1.Zone)
	if !ok {
		t.Fatalf("%s is not a desired Zone", ZoneName())
	}
	want := []route53v1beta1.VPCParameters{
		{VPCIDSelector: selectorOf(VPCName(RolePrimary)), VPCRegion: ptr("eu-west-1")},
		{VPCIDSelector: selectorOf(VPCName(RoleDR)), VPCRegion: ptr("eu-central-1")},
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
	d, o := settle(t, p, observed, dnsBuild(p, DetectFailover(p, observed)))
	hc := func(purpose string) route53v1beta1.HealthCheckParameters {
		h, ok := d.Resources[HealthCheckName(purpose)].(*route53v1beta1.HealthCheck)
		if !ok {
			t.Fatalf("%s is not a desired HealthCheck", HealthCheckName(purpose))
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
			purpose: HealthCheckPrimaryReachable,
			want: route53v1beta1.HealthCheckParameters{
				Type: ptr("CLOUDWATCH_METRIC"), CloudwatchAlarmName: ptr(AlarmAWSName(p, RoleDR, AlarmPrimaryUnreachable)),
				CloudwatchAlarmRegion: ptr("us-east-2"), InvertHealthcheck: ptr(false), InsufficientDataHealthStatus: ptr("LastKnownStatus"),
			},
		},
		"MonitorBlind": {
			reason:  "Inverted: healthy while the monitor cannot vouch for the replica.",
			purpose: HealthCheckMonitorBlind,
			want: route53v1beta1.HealthCheckParameters{
				Type: ptr("CLOUDWATCH_METRIC"), CloudwatchAlarmName: ptr(AlarmAWSName(p, RoleDR, AlarmReplicaUnreachable)),
				CloudwatchAlarmRegion: ptr("us-east-2"), InvertHealthcheck: ptr(true), InsufficientDataHealthStatus: ptr("LastKnownStatus"),
			},
		},
		"Primary": {
			reason:  "Healthy when either child is: unhealthy exactly when the composite alarm primary-unhealthy fires.",
			purpose: HealthCheckPrimary,
			want: route53v1beta1.HealthCheckParameters{
				Type: ptr("CALCULATED"), ChildHealthThreshold: ptr(float64(1)),
				ChildHealthchecks: []*string{
					ptr(healthCheckID(o, HealthCheckName(HealthCheckPrimaryReachable))),
					ptr(healthCheckID(o, HealthCheckName(HealthCheckMonitorBlind))),
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, hc(tc.purpose)); diff != "" {
				t.Errorf("\n%s\n%s: -want, +got:\n%s", tc.reason, HealthCheckName(tc.purpose), diff)
			}
		})
	}
}

func TestRecordFQDN(t *testing.T) {
	own := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneName":"pgdr.internal","recordName":"orders"}}`)
	existing := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneID":"Z0EXISTING1","recordName":"orders"}}`)
	withFQDN := func(fqdn string) Observed {
		d := NewDesired(ClusterFlavour{}, existing.ProviderConfig)
		addRecord(existing, dataLayer(t, existing, false), d, DNSRecordName(RolePrimary), RolePrimary, SetIDPrimary, "PRIMARY", "")
		return Observed{DNSRecordName(RolePrimary): observedFixture(t, DNSRecordName(RolePrimary), d.Resources[DNSRecordName(RolePrimary)], map[string]any{"fqdn": fqdn})}
	}
	cases := map[string]struct {
		reason   string
		plan     *Plan
		observed Observed
		want     string
		wantZone string
	}{
		"OwnZone":            {"The record's name in the function's zone is known from the spec.", own, Observed{}, "orders.pgdr.internal", ""},
		"ExistingZone":       {"In an existing zone the name is unknown until the record is observed.", existing, Observed{}, "", "Z0EXISTING1"},
		"ExistingZoneLoaded": {"Once observed, the record's FQDN, lowercase, without the final dot.", existing, withFQDN("Orders.Corp.Example."), "orders.corp.example", "Z0EXISTING1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := RecordFQDN(tc.plan, tc.observed); got != tc.want {
				t.Errorf("\n%s\nRecordFQDN: got %q, want %q", tc.reason, got, tc.want)
			}
			if got := HostedZoneID(tc.plan, tc.observed); got != tc.wantZone {
				t.Errorf("\n%s\nHostedZoneID: got %q, want %q", tc.reason, got, tc.wantZone)
			}
		})
	}
}
