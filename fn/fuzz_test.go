package fn

import (
	"context"
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// FuzzRunFunction feeds arbitrary specs, over three observed states (nothing, one reconcile,
// everything ready), to RunFunction. It must never panic, never return a Go error (bad input is
// a Fatal result), never desire anything alongside a Fatal, and never drop an observed
// database, bucket or key.
func FuzzRunFunction(f *testing.F) {
	for _, seed := range []string{
		testSpec,
		`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`,
		`{"regions":{"primary":"eu-west-1","dr":"eu-central-1"},"network":{"azCount":2,"natGateways":1,"subnetPrefix":26,"primaryCIDR":"172.16.0.0/20","drCIDR":"172.16.16.0/20"}}`,
		`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"postgres":{"majorVersion":13,"storageGB":20,"parameters":{"work_mem":"1024"}}}`,
		`{"regions":{"primary":"us-east-1","dr":"us-east-1"}}`,
		`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"drCIDR":"10.0.0.0/8"}}`,
		`{"regions":{"primary":"us-west-1","dr":"us-west-2"},"network":{"azCount":3}}`,
		`{"regions":{"primary":"us-east-1","dr":"us-east-2"},"backups":{"replicateToDR":false},"failover":{"mode":"Automatic","zoneID":"Z123"}}`,
		`{"regions":"x"}`,
		`{}`,
	} {
		for state := range 3 {
			f.Add(seed, uint8(state))
		}
	}
	states := []map[string]string{
		nil,
		converge(f, testInput, testXR(testSpec), 1),
		converge(f, testInput, testXR(testSpec), 0),
	}
	fn, err := NewFunction(logging.NewNopLogger())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, spec string, state uint8) {
		var obj map[string]any
		if json.Unmarshal([]byte(spec), &obj) != nil {
			t.Skip("Crossplane only ever sends a JSON object as the spec")
		}
		observed := states[int(state)%len(states)]
		// The spec as Crossplane would send it: a decoded object (duplicate keys collapsed).
		req := newRequest(testInput, testXR(`{}`), observed)
		sv, err := structpb.NewValue(obj)
		if err != nil {
			t.Skip("not representable as a protobuf Struct")
		}
		req.Observed.Composite.Resource.Fields["spec"] = sv
		rsp, err := fn.RunFunction(context.Background(), req)
		if err != nil {
			t.Fatalf("RunFunction returned a Go error for %s: %v", spec, err)
		}
		fatal := false
		for _, r := range rsp.GetResults() {
			if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
				fatal = true
				if r.GetMessage() == "" {
					t.Fatalf("a Fatal result without a message for %s", spec)
				}
			}
		}
		if fatal {
			if n := len(rsp.GetDesired().GetResources()); n != 0 {
				t.Fatalf("a Fatal response desires %d resources for %s", n, spec)
			}
			return
		}
		for name, j := range observed {
			if isStatefulJSON(j) {
				if _, ok := rsp.GetDesired().GetResources()[name]; !ok {
					t.Fatalf("spec %s dropped observed stateful resource %s", spec, name)
				}
			}
		}
	})
}
