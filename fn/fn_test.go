package fn

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

const testInput = `{"apiVersion":"fn.pgdr.io/v1alpha1","kind":"Input","providerConfigName":"aws",
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

// observedWithID is an observed managed resource that is Ready and has an id.
func observedWithID(apiVersion, kind, id string) string {
	return `{"apiVersion":"` + apiVersion + `","kind":"` + kind + `","metadata":{"name":"x"},
"status":{"atProvider":{"id":"` + id + `","arn":"arn:aws:x:` + id + `"},"conditions":[{"type":"Ready","status":"True","reason":"Available","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`
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

func TestRunFunctionStaging(t *testing.T) {
	drVPC := observedWithID("ec2.aws.upbound.io/v1beta1", "VPC", "vpc-dr")
	pcx := observedWithID("ec2.aws.upbound.io/v1beta2", "VPCPeeringConnection", "pcx-1")
	type want struct {
		present    map[resource.Name]map[string]any // resource -> field path -> value
		absent     []resource.Name
		conditions []*fnv1.Condition
	}
	cases := map[string]struct {
		reason   string
		observed map[string]string
		want     want
	}{
		"FirstPass": {
			reason: "Nothing observed: both networks, no peering, and a condition naming what it waits for.",
			want: want{
				present: map[resource.Name]map[string]any{
					"primary-vpc":          {"spec.forProvider.region": "us-east-1", "spec.forProvider.cidrBlock": "10.0.0.0/16", "spec.providerConfigRef.name": "aws"},
					"dr-vpc":               {"spec.forProvider.region": "us-east-2", "spec.forProvider.cidrBlock": "10.1.0.0/16"},
					"dr-subnet-database-c": {"spec.forProvider.cidrBlock": "10.1.10.0/24", "spec.forProvider.availabilityZone": "us-east-2c"},
				},
				absent: []resource.Name{"primary-peering", "dr-peering-accepter", "primary-rt-private-a-peer"},
				conditions: []*fnv1.Condition{{
					Type: TypeStaged, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: ReasonWaitingObserved,
					Message: ptr("Waiting for the DR VPC's id (dr-vpc), to request the VPC peering"),
					Target:  fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum(),
				}},
			},
		},
		"DRVPCObserved": {
			reason:   "The DR VPC's id is observed: the peering is requested with it, and primary peer routes appear.",
			observed: map[string]string{"dr-vpc": drVPC},
			want: want{
				present: map[resource.Name]map[string]any{
					"primary-peering":           {"spec.forProvider.peerVpcId": "vpc-dr", "spec.forProvider.peerRegion": "us-east-2", "spec.forProvider.region": "us-east-1"},
					"primary-rt-private-a-peer": {"spec.forProvider.destinationCidrBlock": "10.1.0.0/16"},
				},
				absent: []resource.Name{"dr-peering-accepter", "dr-rt-private-a-peer"},
			},
		},
		"PeeringObserved": {
			reason:   "The connection's id is observed: the DR side accepts it and routes back.",
			observed: map[string]string{"dr-vpc": drVPC, "primary-peering": pcx},
			want: want{
				present: map[resource.Name]map[string]any{
					"dr-peering-accepter":  {"spec.forProvider.vpcPeeringConnectionId": "pcx-1", "spec.forProvider.region": "us-east-2", "spec.forProvider.autoAccept": true},
					"dr-rt-private-b-peer": {"spec.forProvider.vpcPeeringConnectionId": "pcx-1", "spec.forProvider.destinationCidrBlock": "10.0.0.0/16"},
				},
				conditions: []*fnv1.Condition{{
					Type: TypeStaged, Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: ReasonAllStaged,
					Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum(),
				}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(testSpec), tc.observed))
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
			if tc.want.conditions != nil {
				if diff := cmp.Diff(tc.want.conditions, rsp.GetConditions(), protocmp.Transform()); diff != "" {
					t.Errorf("\n%s\nconditions: -want, +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestRunFunctionResponseMeta(t *testing.T) {
	rsp := runFn(t, newRequest(testInput, testXR(testSpec), nil))
	want := &fnv1.ResponseMeta{Tag: "t", Ttl: durationpb.New(response.DefaultTTL)}
	if diff := cmp.Diff(want, rsp.GetMeta(), protocmp.Transform()); diff != "" {
		t.Errorf("meta: -want, +got:\n%s", diff)
	}
}

func get(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		cm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = cm[p]
	}
	return cur
}
