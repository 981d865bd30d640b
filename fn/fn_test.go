package fn

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/internal/standin"
)

const testInput = `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","accountID":"123456789012","providerConfigName":"aws",
"lambdaArtifacts":[{"region":"us-east-1","bucket":"art-use1"},{"region":"us-east-2","bucket":"art-use2"}]}`

func testXR(spec string) string {
	return `{"apiVersion":"pgdr.io/v1alpha1","kind":"XPostgresDR","metadata":{"name":"orders-x1",
"labels":{"crossplane.io/claim-name":"orders"}},"spec":` + spec + `}`
}

const testSpec = `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`

func newRequest(input, xr string, observed map[string]string) *fnv1.RunFunctionRequest {
	req := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "t"},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(xr)}},
	}
	if input != "" {
		req.Input = resource.MustStructJSON(input)
	}
	if len(observed) > 0 {
		req.Observed.Resources = map[string]*fnv1.Resource{}
		for name, j := range observed {
			req.Observed.Resources[name] = &fnv1.Resource{Resource: resource.MustStructJSON(j)}
		}
	}
	return req
}

func runFn(t *testing.T, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	t.Helper()
	f, err := NewFunction(logging.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	rsp, err := f.RunFunction(context.Background(), req)
	if err != nil {
		t.Fatalf("RunFunction returned a Go error: %v", err)
	}
	return rsp
}

func TestRunFunctionFatal(t *testing.T) {
	cases := map[string]struct {
		reason string
		req    *fnv1.RunFunctionRequest
		want   string
	}{
		"NoInput": {
			reason: "A step without input names the input to add.",
			req:    newRequest("", testXR(testSpec), nil),
			want:   "add input with apiVersion fn.pgdr.io/v1alpha1 and kind Input",
		},
		"WrongInputKind": {
			reason: "An input of another kind is refused.",
			req:    newRequest(`{"apiVersion":"example.org/v1","kind":"Other"}`, testXR(testSpec), nil),
			want:   "must have apiVersion fn.pgdr.io/v1alpha1 and kind Input",
		},
		"NoSpec": {
			reason: "An XR without a spec names the required regions.",
			req:    newRequest(testInput, `{"apiVersion":"pgdr.io/v1alpha1","kind":"XPostgresDR","metadata":{"name":"x"}}`, nil),
			want:   "set spec.regions.primary and spec.regions.dr",
		},
		"WrongType": {
			reason: "A string where a number belongs names the field and the type.",
			req:    newRequest(testInput, testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"azCount":"three"}}`), nil),
			want:   "spec.network.azCount: Invalid value: a string: must be of type integer",
		},
		"SameRegion": {
			reason: "The same region twice is refused on spec.regions.dr.",
			req:    newRequest(testInput, testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-1"}}`), nil),
			want:   "spec.regions.dr: Invalid value: \"us-east-1\": must differ from spec.regions.primary",
		},
		"OverlappingCIDRs": {
			reason: "Overlapping VPCs are refused with a disjoint range to use.",
			req:    newRequest(testInput, testXR(`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"primaryCIDR":"10.0.0.0/16","drCIDR":"10.0.128.0/17"}}`), nil),
			want:   "overlaps spec.network.primaryCIDR (10.0.0.0/16): peered VPCs need disjoint ranges, e.g. 10.1.0.0/16",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, tc.req)
			if len(rsp.GetResults()) != 1 || rsp.GetResults()[0].GetSeverity() != fnv1.Severity_SEVERITY_FATAL {
				t.Fatalf("\n%s\nwant one fatal result, got %v", tc.reason, rsp.GetResults())
			}
			if msg := rsp.GetResults()[0].GetMessage(); !strings.Contains(msg, tc.want) {
				t.Errorf("\n%s\nfatal message %q does not contain %q", tc.reason, msg, tc.want)
			}
			if n := len(rsp.GetDesired().GetResources()); n != 0 {
				t.Errorf("\n%s\na fatal response desires %d resources, want none changed", tc.reason, n)
			}
		})
	}
}

// converge returns what provider-aws would report after passes reconciles of the spec (0: until
// nothing new is desired), as observed resources for newRequest.
func converge(t testing.TB, input, xr string, passes int) map[string]string {
	t.Helper()
	f, err := NewFunction(logging.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	run := func(observed map[string]map[string]any) (map[string]map[string]any, error) {
		req := newRequest(input, xr, nil)
		req.Observed.Resources = map[string]*fnv1.Resource{}
		for n, o := range observed {
			s, err := structpb.NewStruct(o)
			if err != nil {
				return nil, err
			}
			req.Observed.Resources[n] = &fnv1.Resource{Resource: s}
		}
		rsp, err := f.RunFunction(context.Background(), req)
		if err != nil || len(rsp.GetResults()) > 0 {
			return nil, fmt.Errorf("RunFunction: %w %v", err, rsp.GetResults())
		}
		out := map[string]map[string]any{}
		for n, r := range rsp.GetDesired().GetResources() {
			out[n] = r.GetResource().AsMap()
		}
		return out, nil
	}
	observed, err := standin.Converge(run, "orders-x1", passes)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for n, o := range observed {
		j, _ := json.Marshal(o)
		out[n] = string(j)
	}
	return out
}

func TestRunFunctionStaging(t *testing.T) {
	type want struct {
		present map[resource.Name]map[string]any // resource -> field path -> value
		absent  []resource.Name
		waiting []string // substrings of status.waitingFor entries, in order
		staged  fnv1.Status
	}
	cases := map[string]struct {
		reason string
		passes int // -1: nothing observed
		want   want
	}{
		"FirstPass": {
			reason: "Nothing observed: both networks, the primary key and both buckets; everything that needs an observed id or ARN waits and says so.",
			passes: -1,
			want: want{
				present: map[resource.Name]map[string]any{
					"primary-vpc":             {"spec.forProvider.region": "us-east-1", "spec.forProvider.cidrBlock": "10.0.0.0/16", "spec.providerConfigRef.name": "aws"},
					"dr-vpc":                  {"spec.forProvider.region": "us-east-2", "spec.forProvider.cidrBlock": "10.1.0.0/16"},
					"dr-subnet-database-c":    {"spec.forProvider.cidrBlock": "10.1.10.0/24", "spec.forProvider.availabilityZone": "us-east-2c"},
					"primary-kms-key":         {"spec.forProvider.multiRegion": true, "spec.forProvider.enableKeyRotation": true, "spec.forProvider.deletionWindowInDays": float64(30)},
					"dr-backup-bucket":        {"spec.forProvider.forceDestroy": false, "spec.forProvider.region": "us-east-2"},
					"primary-db-subnet-group": {"spec.forProvider.subnetIdSelector.matchLabels": map[string]any{"pgdr.io/role": "primary", "pgdr.io/tier": "database"}},
				},
				absent: []resource.Name{"primary-peering", "dr-kms-key", "primary-db-instance", "dr-db-instance", "primary-backup-bucket-replication", "dr-backup-bucket-encryption"},
				waiting: []string{
					"the DR VPC's id (dr-vpc), to request the VPC peering",
					"the primary KMS key's ARN (primary-kms-key), to replicate the key to us-east-2",
					"the primary KMS key's ARN (primary-kms-key), to encrypt the primary database",
					"the writer's ARN (primary-db-instance), to create or keep its cross-region replica dr-db-instance",
					"the DR KMS key's ARN (dr-kms-key), to encrypt the DR database orders-0c614a-dr-db (dr-db-instance)",
					"the DR KMS key's ARN (dr-kms-key), to encrypt the DR backup bucket",
					"the primary bucket's versioning to be enabled",
					"the dr bucket's versioning to be enabled",
					"both KMS keys' ARNs",
					"both KMS keys' ARNs (primary-kms-key, dr-kms-key), to keep the master password in Secrets Manager in both regions",
					"the primary KMS key's ARN (primary-kms-key), to encrypt the us-east-1 alarm topic",
					"the DR KMS key's ARN (dr-kms-key), to encrypt the us-east-2 alarm topic",
					"the ARNs of dr-alarm-primary-unreachable, dr-alarm-replica-unreachable, for the Route53 health checks",
					"the primary database's endpoint (primary-db-instance), for the PRIMARY DNS record",
					"the DR database's endpoint (dr-db-instance), for the SECONDARY DNS record",
					"for the replication-lag Lambda (dr-lambda-replication-lag)",
					"for the failover Lambda (dr-lambda-failover)",
				},
				staged: fnv1.Status_STATUS_CONDITION_FALSE,
			},
		},
		"SecondPass": {
			reason: "The first pass observed: the peering, the replica key and the primary database's log groups appear, wired to observed ids and ARNs; the primary waits for its log groups.",
			passes: 1,
			want: want{
				present: map[resource.Name]map[string]any{
					"primary-peering":           {"spec.forProvider.peerRegion": "us-east-2", "spec.forProvider.region": "us-east-1"},
					"primary-rt-private-peer":   {"spec.forProvider.destinationCidrBlock": "10.1.0.0/16"},
					"dr-kms-key":                {"spec.forProvider.region": "us-east-2"},
					"primary-db-log-postgresql": {"spec.forProvider.region": "us-east-1", "spec.forProvider.retentionInDays": float64(dbLogRetentionDays)},
					"primary-db-log-upgrade":    {"spec.forProvider.region": "us-east-1", "spec.forProvider.retentionInDays": float64(dbLogRetentionDays)},
				},
				absent: []resource.Name{"dr-peering-accepter", "dr-db-instance", "primary-db-instance"},
				waiting: []string{
					"the VPC peering connection's id (primary-peering), to accept it in us-east-2",
					"the DR replica key's ARN (dr-kms-key), to alias it",
					"the log groups of the primary database orders-0c614a-primary-db (primary-db-instance) (primary-db-log-postgresql and primary-db-log-upgrade) to be ready",
					"the writer's ARN (primary-db-instance), to create or keep its cross-region replica dr-db-instance",
					"the DR KMS key's ARN (dr-kms-key), to encrypt the DR database orders-0c614a-dr-db (dr-db-instance)",
					"the DR KMS key's ARN (dr-kms-key), to encrypt the DR backup bucket",
					"both KMS keys' ARNs, to grant the replication role their use",
					"both KMS keys' ARNs (primary-kms-key, dr-kms-key), to keep the master password in Secrets Manager in both regions",
					"the DR KMS key's ARN (dr-kms-key), to encrypt the us-east-2 alarm topic",
					"the primary alarm topic's ARN (primary-sns-topic), to notify it from the primary database's alarms",
					"the ARNs of dr-alarm-primary-unreachable, dr-alarm-replica-unreachable",
					"the primary database's endpoint (primary-db-instance), for the PRIMARY DNS record",
					"the DR database's endpoint (dr-db-instance), for the SECONDARY DNS record",
					"for the replication-lag Lambda (dr-lambda-replication-lag)",
					"for the failover Lambda (dr-lambda-failover)",
				},
				staged: fnv1.Status_STATUS_CONDITION_FALSE,
			},
		},
		"ThirdPass": {
			reason: "The primary's log groups observed Ready: the primary database appears, encrypted, Multi-AZ, private, deletion-protected.",
			passes: 2,
			want: want{
				present: map[resource.Name]map[string]any{
					"primary-db-instance": {"spec.forProvider.storageEncrypted": true, "spec.forProvider.multiAz": true, "spec.forProvider.publiclyAccessible": false, "spec.forProvider.deletionProtection": true, "spec.forProvider.skipFinalSnapshot": false, "spec.forProvider.autoGeneratePassword": true, "spec.forProvider.manageMasterUserPassword": nil, "spec.forProvider.engineVersion": "16"},
				},
				absent: []resource.Name{"dr-db-instance", "dr-db-log-postgresql"},
				waiting: []string{
					"the writer's ARN (primary-db-instance), to create or keep its cross-region replica dr-db-instance",
					"the DR alarm topic's ARN (dr-sns-topic), to notify it from the replication alarms",
					"the ARNs of dr-alarm-primary-unreachable, dr-alarm-replica-unreachable",
					"the primary database's endpoint (primary-db-instance), for the PRIMARY DNS record",
					"the DR database's endpoint (dr-db-instance), for the SECONDARY DNS record",
					"for the replication-lag Lambda (dr-lambda-replication-lag)",
					"for the failover Lambda (dr-lambda-failover)",
				},
				staged: fnv1.Status_STATUS_CONDITION_FALSE,
			},
		},
		"Ready": {
			reason: "Everything observed ready: the replica names its source and key by ARN, without the fields that conflict with replicateSourceDb; nothing waits.",
			passes: 0,
			want: want{
				present: map[resource.Name]map[string]any{
					"dr-peering-accepter":               {"spec.forProvider.autoAccept": true, "spec.forProvider.region": "us-east-2"},
					"dr-rt-private-b-peer":              {"spec.forProvider.destinationCidrBlock": "10.0.0.0/16"},
					"dr-db-instance":                    {"spec.forProvider.username": nil, "spec.forProvider.dbName": nil, "spec.forProvider.engine": nil, "spec.forProvider.manageMasterUserPassword": nil, "spec.forProvider.storageEncrypted": true, "spec.managementPolicies": []any{"Observe", "Create", "Update", "Delete"}},
					"dr-db-backup-replication":          {"spec.forProvider.region": "us-east-2", "spec.forProvider.retentionPeriod": float64(7)},
					"primary-backup-bucket-replication": {"spec.forProvider.region": "us-east-1"},
				},
				staged: fnv1.Status_STATUS_CONDITION_TRUE,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var observed map[string]string
			if tc.passes >= 0 {
				observed = converge(t, testInput, testXR(testSpec), tc.passes)
			}
			rsp := runFn(t, newRequest(testInput, testXR(testSpec), observed))
			if len(rsp.GetResults()) != 0 {
				t.Fatalf("\n%s\nunexpected results: %v", tc.reason, rsp.GetResults())
			}
			desired := rsp.GetDesired().GetResources()
			for name, fields := range tc.want.present {
				r, ok := desired[string(name)]
				if !ok {
					t.Errorf("\n%s\n%s is not desired", tc.reason, name)
					continue
				}
				m := r.GetResource().AsMap()
				for path, want := range fields {
					if strings.Contains(path, "external-name") {
						continue
					}
					if diff := cmp.Diff(want, get(m, path)); diff != "" {
						t.Errorf("\n%s\n%s %s: -want, +got:\n%s", tc.reason, name, path, diff)
					}
				}
			}
			for _, name := range tc.want.absent {
				if _, ok := desired[string(name)]; ok {
					t.Errorf("\n%s\n%s is desired before what it needs is observed", tc.reason, name)
				}
			}
			var waiting []string
			ws, _ := get(rsp.GetDesired().GetComposite().GetResource().AsMap(), "status.waitingFor").([]any)
			for _, w := range ws {
				waiting = append(waiting, w.(string))
			}
			if len(waiting) != len(tc.want.waiting) {
				t.Errorf("\n%s\nwaitingFor has %d entries, want %d:\n%s", tc.reason, len(waiting), len(tc.want.waiting), strings.Join(waiting, "\n"))
			}
			for i, w := range tc.want.waiting {
				if i < len(waiting) && !strings.Contains(waiting[i], w) {
					t.Errorf("\n%s\nwaitingFor[%d] = %q, want it to contain %q", tc.reason, i, waiting[i], w)
				}
			}
			var staged *fnv1.Condition
			for _, c := range rsp.GetConditions() {
				if c.GetType() == typeStaged {
					staged = c
				}
			}
			if staged.GetStatus() != tc.want.staged {
				t.Errorf("\n%s\nStaged condition %v, want %v", tc.reason, staged, tc.want.staged)
			}
		})
	}
}

func get(m map[string]any, path string) any {
	var cur any = m
	for p := range strings.SplitSeq(path, ".") {
		cm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = cm[p]
	}
	return cur
}

func TestRunFunctionTTL(t *testing.T) {
	ready := converge(t, testInput, testXR(testSpec), 0)
	waiting := converge(t, testInput, testXR(testSpec), 1)
	// Switched over, the XR reporting the switchover promoted without its result yet.
	const drActive = `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`
	switched := observedAfter(t, drActive, 0, true)
	awaiting := strings.TrimSuffix(testXR(drActive), "}") +
		`,"status":{"switchover":{"id":"orders-4a1b9f-to-us-east-2-g1","from":"us-east-1","to":"us-east-2","state":"Promoted"}}}`
	cases := map[string]struct {
		reason   string
		opts     []Option
		xr       string
		observed map[string]string
		want     time.Duration
	}{
		"AwaitingResult": {
			reason:   "A switchover seen promoted before its result: back in 5 s to read it, whatever else is Ready.",
			xr:       awaiting,
			observed: switched,
			want:     awaitResultTTL,
		},
		"FirstPass": {
			reason: "Nothing observed: the converging TTL, the default.",
			want:   DefaultConvergingTTL,
		},
		"Staged": {
			reason:   "After one pass resources are withheld: still the converging TTL.",
			observed: waiting,
			want:     DefaultConvergingTTL,
		},
		"Ready": {
			reason:   "The whole graph Ready and nothing withheld: the ready TTL, the default.",
			observed: ready,
			want:     DefaultReadyTTL,
		},
		"ReadyOption": {
			reason:   "WithTTLs sets the ready TTL.",
			opts:     []Option{WithTTLs(time.Hour, 5*time.Second)},
			observed: ready,
			want:     time.Hour,
		},
		"ConvergingOption": {
			reason: "WithTTLs sets the converging TTL.",
			opts:   []Option{WithTTLs(time.Hour, 5*time.Second)},
			want:   5 * time.Second,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := NewFunction(logging.NewNopLogger(), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			xr := tc.xr
			if xr == "" {
				xr = testXR(testSpec)
			}
			rsp, err := f.RunFunction(context.Background(), newRequest(testInput, xr, tc.observed))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rsp.GetMeta().GetTtl().AsDuration()); diff != "" {
				t.Errorf("\n%s\nTTL: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff("t", rsp.GetMeta().GetTag()); diff != "" {
				t.Errorf("\n%s\ntag: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRunFunctionCompositeReady checks that the XR is not Ready while anything is withheld, even
// when everything desired is Ready: Ready means the DR path is armed.
func TestRunFunctionCompositeReady(t *testing.T) {
	ready := converge(t, testInput, testXR(testSpec), 0)
	// The zone is Ready but does not report its id: the failover Lambda and the records wait.
	noZoneID := maps.Clone(ready)
	zone := map[string]any{}
	if err := json.Unmarshal([]byte(noZoneID[string(zoneName())]), &zone); err != nil {
		t.Fatal(err)
	}
	delete(zone["status"].(map[string]any)["atProvider"].(map[string]any), "zoneId")
	noZoneID[string(zoneName())] = mustJSON(zone)
	// Only what is desired on this pass is observed: the withheld resources are not.
	rsp := runFn(t, newRequest(testInput, testXR(testSpec), noZoneID))
	desired := rsp.GetDesired().GetResources()
	for name := range noZoneID {
		if _, ok := desired[name]; !ok {
			delete(noZoneID, name)
		}
	}

	cases := map[string]struct {
		reason   string
		observed map[string]string
		want     fnv1.Ready
	}{
		"Converged": {
			reason:   "Everything Ready and nothing withheld: the function leaves the XR's readiness to Crossplane.",
			observed: ready,
			want:     fnv1.Ready_READY_UNSPECIFIED,
		},
		"WithheldAllReady": {
			reason:   "Everything desired is Ready but the zone's id is not observed, so resources are withheld: the XR is not Ready.",
			observed: noZoneID,
			want:     fnv1.Ready_READY_FALSE,
		},
		"FirstPass": {
			reason: "Resources not Ready: Crossplane says which, the function does not override it.",
			want:   fnv1.Ready_READY_UNSPECIFIED,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(testSpec), tc.observed))
			if diff := cmp.Diff(tc.want, rsp.GetDesired().GetComposite().GetReady()); diff != "" {
				t.Errorf("\n%s\ndesired composite's readiness: -want, +got:\n%s", tc.reason, diff)
			}
			waiting := get(rsp.GetDesired().GetComposite().GetResource().AsMap(), "status.waitingFor")
			if withheld := waiting != nil; withheld != (name != "Converged") {
				t.Errorf("\n%s\nstatus.waitingFor = %v", tc.reason, waiting)
			}
		})
	}
}
