package fn

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/apis"
	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// TestConnectionDetails checks the claim's connection secret. endpoint is the Route53 failover
// record, the one writer name that survives a failover; the RDS server certificate names the
// instance ("The DB server certificate identifies the DB instance as a trusted server", RDS User
// Guide, Using SSL/TLS to encrypt a connection to a DB instance,
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html), and libpq's
// verify-full matches the host name the client dialled against the certificate ("In verify-full
// mode, the host name is matched against the certificate's Subject Alternative Name
// attribute(s)", https://www.postgresql.org/docs/current/libpq-ssl.html): so require with the
// record's name, verify-full with the instance's.
func TestConnectionDetails(t *testing.T) {
	observed := converge(t, testInput, testXR(testSpec), 0)
	promoted := maps.Clone(observed)
	promoted[string(DBInstanceName(RoleDR))] = promote(t, observed[string(DBInstanceName(RoleDR))])
	noRecord := maps.Clone(observed)
	delete(noRecord, string(dnsRecordName(RolePrimary)))

	const zoneSpec = `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"failover":{"zoneID":"Z0123456789ABCDEFGHIJ"}}`
	inZone := converge(t, testInput, testXR(zoneSpec), 0)
	// In an existing zone the record's name is only known from what Route53 reports.
	inZone[string(dnsRecordName(RolePrimary))] = withFQDN(t, inZone[string(dnsRecordName(RolePrimary))], "db.corp.example.com.")

	// details are the connection details with the writer's and the reader's instances.
	details := func(o map[string]string, record string, writer, reader Role, extra map[string][]byte) map[string][]byte {
		d := map[string][]byte{
			connInstanceEndpoint:        []byte(endpoint(t, o, writer)),
			connInstanceEndpointSSLMode: []byte("verify-full"),
			connPort:                    []byte("5432"),
			connUsername:                []byte("pgadmin"),
			connDatabase:                []byte("app"),
		}
		if reader != "" {
			d[connReaderEndpoint] = []byte(endpoint(t, o, reader))
		}
		if record != "" {
			d[connEndpoint] = []byte(record)
			d[connEndpointSSLMode] = []byte("require")
		}
		maps.Copy(d, extra)
		return d
	}
	cases := map[string]struct {
		reason   string
		observed map[string]string
		password string
		spec     string
		want     map[string][]byte
	}{
		"NothingObserved": {
			reason: "No instance observed: no connection details yet.",
			spec:   testSpec,
			want:   nil,
		},
		"Replicating": {
			reason:   "endpoint is the failover record's name, instanceEndpoint the primary's address, the replica the reader endpoint.",
			observed: observed,
			spec:     testSpec,
			want:     details(observed, "db.pgdr.internal", RolePrimary, RoleDR, nil),
		},
		"Password": {
			reason:   "The password provider-aws generated, from the primary's observed connection details, and nothing else secret.",
			observed: observed,
			password: "pa55-from-provider",
			spec:     testSpec,
			want:     details(observed, "db.pgdr.internal", RolePrimary, RoleDR, map[string][]byte{connPassword: []byte("pa55-from-provider")}),
		},
		"SwitchedOver": {
			reason:   "After a switchover endpoint is the same name; instanceEndpoint is the promoted DR instance; the old primary is fenced, no reader.",
			observed: promoted,
			spec:     `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`,
			want:     details(promoted, "db.pgdr.internal", RoleDR, "", nil),
		},
		"PromotedOutOfBand": {
			reason:   "After the failover Lambda promoted the replica endpoint is the same name; instanceEndpoint is the promoted instance.",
			observed: promoted,
			spec:     testSpec,
			want:     details(promoted, "db.pgdr.internal", RoleDR, "", nil),
		},
		"RecordNotObserved": {
			reason:   "Until the failover record is observed its name resolves to nothing: no endpoint, the instance's address only.",
			observed: noRecord,
			spec:     testSpec,
			want:     details(noRecord, "", RolePrimary, RoleDR, nil),
		},
		"ExistingZone": {
			reason:   "In an existing zone endpoint is the record's name as Route53 reports it, lowercase and without the final dot.",
			observed: inZone,
			spec:     zoneSpec,
			want:     details(inZone, "db.corp.example.com", RolePrimary, RoleDR, nil),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newRequest(testInput, testXR(tc.spec), tc.observed)
			if tc.password != "" {
				req.Observed.Resources[string(DBInstanceName(RolePrimary))].ConnectionDetails = map[string][]byte{connPassword: []byte(tc.password), "username": []byte("pgadmin")}
			}
			rsp := runFn(t, req)
			got := rsp.GetDesired().GetComposite().GetConnectionDetails()
			if diff := cmp.Diff(tc.want, got, protocmp.Transform(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\nconnection details: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// withFQDN returns an observed record (JSON) as Route53 reports it with the name.
func withFQDN(t *testing.T, record, fqdn string) string {
	t.Helper()
	obj := map[string]any{}
	if err := json.Unmarshal([]byte(record), &obj); err != nil {
		t.Fatalf("cannot read the observed record: %v", err)
	}
	set(obj, "status.atProvider.fqdn", fqdn)
	return mustJSON(obj)
}

func endpoint(t *testing.T, observed map[string]string, role Role) string {
	t.Helper()
	return observedField(t, observed, DBInstanceName(role), "status.atProvider.address")
}

func observedField(t *testing.T, observed map[string]string, name resource.Name, path string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(observed[string(name)]), &m); err != nil {
		t.Fatal(err)
	}
	s, _ := get(m, path).(string)
	if s == "" {
		t.Fatalf("%s has no %s", name, path)
	}
	return s
}

// TestConnectionKeysPublished checks that the XRD lists every key the connection secret can
// hold: Crossplane publishes an XR's connection details through
// composite.NewAPIFilteredSecretPublisher(..., d.GetConnectionSecretKeys()) (Crossplane v2.4.0,
// internal/controller/apiextensions/definition/reconciler.go), which drops every key the XRD's
// spec.connectionSecretKeys does not list.
func TestConnectionKeysPublished(t *testing.T) {
	observed := converge(t, testInput, testXR(testSpec), 0)
	req := newRequest(testInput, testXR(testSpec), observed)
	req.Observed.Resources[string(DBInstanceName(RolePrimary))].ConnectionDetails = map[string][]byte{connPassword: []byte("pa55")}
	got := slices.Sorted(maps.Keys(runFn(t, req).GetDesired().GetComposite().GetConnectionDetails()))
	if diff := cmp.Diff(slices.Sorted(slices.Values(apis.ConnectionSecretKeys)), got); diff != "" {
		t.Errorf("the connection details' keys and the XRD's connectionSecretKeys (apis.ConnectionSecretKeys) differ: -XRD, +function:\n%s", diff)
	}
}

func TestAwaitingResult(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`)
	id := switchoverID(p, RoleDR)
	result := &contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: contract.SwitchoverPromoted, FencedLSN: "0/5000060"}
	promotedNoResult := stSwitchedOver
	promotedNoResult.Switching = true
	promotedWithResult := promotedNoResult
	promotedWithResult.Result = result
	running := &v1alpha1.SwitchoverStatus{ID: id, State: switchoverRunning}
	recorded := &v1alpha1.SwitchoverStatus{ID: id, State: contract.SwitchoverPromoted, FencedLSN: "0/5000060"}
	cases := map[string]struct {
		reason string
		st     failoverState
		last   *v1alpha1.SwitchoverStatus
		want   bool
	}{
		"SeenPromotedFirst": {reason: "Promoted before the result is observed: await it.", st: promotedNoResult, want: true},
		"ResultReadNotRecorded": {
			reason: "The result is read in this reconcile, but the XR's status does not hold it yet: the next reconcile may see the XR as before, so the Invocation stays (found by make e2e).",
			st:     promotedWithResult, last: running, want: true,
		},
		"ResultRecorded":  {reason: "The XR's status holds the result: the Invocation may go.", st: promotedWithResult, last: recorded},
		"PromotedWithout": {reason: "After the switchover, a status without the LSNs: await.", st: stSwitchedOver, last: &v1alpha1.SwitchoverStatus{ID: id, State: contract.SwitchoverPromoted}, want: true},
		"RunningAfter":    {reason: "After the switchover, a status still running: await.", st: stSwitchedOver, last: running, want: true},
		"RecordedAfter":   {reason: "After the switchover, the result recorded: done.", st: stSwitchedOver, last: recorded},
		"OtherSwitchover": {reason: "The status is another switchover's: nothing to await.", st: stSwitchedOver, last: &v1alpha1.SwitchoverStatus{ID: "other", State: contract.SwitchoverPromoted}},
		"NeverSwitched":   {reason: "No switchover at all.", st: stReplicating},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := awaitingResult(p, tc.st, tc.last); got != tc.want {
				t.Errorf("\n%s\nawaitingResult: got %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestSwitchoverStatus(t *testing.T) {
	p := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`)
	id := switchoverID(p, RoleDR)
	result := &contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: contract.SwitchoverPromoted, FencedLSN: "0/5000060", WriteUnavailableMs: 700}
	running := &v1alpha1.SwitchoverStatus{ID: id, From: "us-east-1", To: "us-east-2", State: "Running"}
	withInvocation := observedState{switchoverName(RoleDR): fxInvocation(t, *result)}
	switching := stReplicating
	switching.Switching = true
	promotedNoResult := stSwitchedOver
	promotedNoResult.Switching = true
	awaiting := stSwitchedOver
	awaiting.AwaitResult = true
	cases := map[string]struct {
		reason string
		o      observedState
		st     failoverState
		last   *v1alpha1.SwitchoverStatus
		want   *v1alpha1.SwitchoverStatus
	}{
		"None":    {reason: "No switchover ever: none.", o: observedState{}, st: stReplicating},
		"Running": {reason: "Asked, no result yet: running.", o: observedState{}, st: switching, want: running},
		"SeenPromotedFirst": {
			reason: "The replica observed promoted before the Invocation's result: promoted.",
			o:      observedState{}, st: promotedNoResult,
			want: &v1alpha1.SwitchoverStatus{ID: id, From: "us-east-1", To: "us-east-2", State: contract.SwitchoverPromoted},
		},
		"CompletedAfter": {
			reason: "The last status said running and the switchover is over: completed from the Invocation's result while it is still observed.",
			o:      withInvocation, st: stSwitchedOver, last: running,
			want: &v1alpha1.SwitchoverStatus{ID: id, From: "us-east-1", To: "us-east-2", State: contract.SwitchoverPromoted, FencedLSN: "0/5000060", WriteUnavailableMillis: 700},
		},
		"FilledLater": {
			reason: "Reported promoted without its result (seen promoted first): filled from the Invocation's result once it is observed.",
			o:      withInvocation, st: awaiting, last: &v1alpha1.SwitchoverStatus{ID: id, From: "us-east-1", To: "us-east-2", State: contract.SwitchoverPromoted},
			want: &v1alpha1.SwitchoverStatus{ID: id, From: "us-east-1", To: "us-east-2", State: contract.SwitchoverPromoted, FencedLSN: "0/5000060", WriteUnavailableMillis: 700},
		},
		"Kept": {
			reason: "A finished switchover's status stays as the XR reported it.",
			o:      observedState{}, st: stSwitchedOver, last: &v1alpha1.SwitchoverStatus{ID: id, State: contract.SwitchoverPromoted, FencedLSN: "0/1"},
			want: &v1alpha1.SwitchoverStatus{ID: id, State: contract.SwitchoverPromoted, FencedLSN: "0/1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, switchoverStatus(p, tc.o, tc.st, tc.last)); diff != "" {
				t.Errorf("\n%s\nswitchoverStatus: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
