package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// observedResource is an observed resource with the given content.
func observedResource(t testing.TB, obj map[string]any) ObservedResource {
	t.Helper()
	s, err := structpb.NewStruct(obj)
	if err != nil {
		t.Fatalf("cannot convert an observed resource: %v", err)
	}
	return ObservedResource{Resource: s}
}

func TestObservedReady(t *testing.T) {
	withConditions := func(conds ...any) ObservedResource {
		return observedResource(t, map[string]any{"status": map[string]any{"conditions": conds}})
	}
	cases := map[string]struct {
		reason string
		o      Observed
		want   bool
	}{
		"NotObserved": {"A resource not observed is not ready.", Observed{}, false},
		"ReadyTrue":   {"Ready=True is ready.", Observed{"r": withConditions(map[string]any{"type": "Synced", "status": "True"}, map[string]any{"type": "Ready", "status": "True"})}, true},
		"ReadyFalse":  {"Ready=False is not.", Observed{"r": withConditions(map[string]any{"type": "Ready", "status": "False"})}, false},
		"SyncedOnly":  {"Synced alone is not ready.", Observed{"r": withConditions(map[string]any{"type": "Synced", "status": "True"})}, false},
		"NoStatus":    {"No status is not ready.", Observed{"r": observedResource(t, map[string]any{})}, false},
		"NilResource": {"A resource Crossplane sent without content is not ready.", Observed{"r": ObservedResource{}}, false},
		"OddShape":    {"Conditions of the wrong shape are not ready, and do not panic.", Observed{"r": withConditions("Ready", 1)}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.o.Ready("r"); got != tc.want {
				t.Errorf("\n%s\nReady() = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestObservedString(t *testing.T) {
	o := Observed{"r": observedResource(t, map[string]any{
		"apiVersion": "rds.aws.upbound.io/v1beta3",
		"kind":       "Instance",
		"spec": map[string]any{"forProvider": map[string]any{"region": "us-east-1", "allocatedStorage": 20.0,
			"replica": []any{map[string]any{"region": "us-east-2"}}, "matrix": []any{[]any{"a", "b"}}}},
		"status": map[string]any{"atProvider": map[string]any{"arn": "arn:aws:rds:us-east-1:123456789012:db:x"}},
	})}
	cases := map[string]struct {
		reason string
		name   string
		path   string
		want   string
	}{
		"Nested":      {"A nested string is read.", "r", "spec.forProvider.region", "us-east-1"},
		"AtProvider":  {"Status is read like spec.", "r", "status.atProvider.arn", "arn:aws:rds:us-east-1:123456789012:db:x"},
		"TopLevel":    {"A top-level field is read.", "r", "kind", "Instance"},
		"NotAString":  {"A number is not a string.", "r", "spec.forProvider.allocatedStorage", ""},
		"Missing":     {"A missing field is empty.", "r", "spec.forProvider.engineVersion", ""},
		"ThroughLeaf": {"A path through a string is empty, and does not panic.", "r", "kind.x.y", ""},
		"NotObserved": {"A resource not observed is empty.", "other", "kind", ""},
		"Index":       {"A list element is read by index.", "r", "spec.forProvider.replica[0].region", "us-east-2"},
		"Indexes":     {"Indexes chain.", "r", "spec.forProvider.matrix[0][1]", "b"},
		"OutOfRange":  {"An index past the end is empty, and does not panic.", "r", "spec.forProvider.replica[1].region", ""},
		"BadIndex":    {"An index that is not a number is empty.", "r", "spec.forProvider.replica[x].region", ""},
		"NotAList":    {"An index into a non-list is empty.", "r", "kind[0]", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, o.String(resource.Name(tc.name), tc.path)); diff != "" {
				t.Errorf("\n%s\nString(%q, %q): -want, +got:\n%s", tc.reason, tc.name, tc.path, diff)
			}
		})
	}
	group, kind := o.Kind("r")
	if group != "rds.aws.upbound.io" || kind != "Instance" || !o.Stateful("r") {
		t.Errorf("Kind() = %q, %q, Stateful() = %v: want an RDS Instance, which holds data", group, kind, o.Stateful("r"))
	}
}

func TestObservedFrom(t *testing.T) {
	s, _ := structpb.NewStruct(map[string]any{"kind": "Instance"})
	req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Resources: map[string]*fnv1.Resource{
		"db": {Resource: s, ConnectionDetails: map[string][]byte{"password": []byte("p")}},
	}}}
	o := ObservedFrom(req)
	if o.String("db", "kind") != "Instance" || string(o.ConnectionDetail("db", "password")) != "p" || o.ConnectionDetail("other", "password") != nil {
		t.Errorf("ObservedFrom(...) = %v: want the db with its connection details, read in place", o)
	}
	if o["db"].Resource != s {
		t.Error("ObservedFrom(...) copied the resource: it must read the request's Struct in place")
	}
}
