package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
)

// observedResource is an observed resource with the given content.
func observedResource(_ testing.TB, obj map[string]any) resource.ObservedComposed {
	return resource.ObservedComposed{Resource: &composed.Unstructured{Unstructured: unstructured.Unstructured{Object: obj}}}
}

func TestObservedReady(t *testing.T) {
	withConditions := func(conds ...any) resource.ObservedComposed {
		return observedResource(t, map[string]any{"status": map[string]any{"conditions": conds}})
	}
	cases := map[string]struct {
		reason string
		o      observedState
		want   bool
	}{
		"NotObserved": {"A resource not observed is not ready.", observedState{}, false},
		"ReadyTrue":   {"Ready=True is ready.", observedState{"r": withConditions(map[string]any{"type": "Synced", "status": "True"}, map[string]any{"type": "Ready", "status": "True"})}, true},
		"ReadyFalse":  {"Ready=False is not.", observedState{"r": withConditions(map[string]any{"type": "Ready", "status": "False"})}, false},
		"SyncedOnly":  {"Synced alone is not ready.", observedState{"r": withConditions(map[string]any{"type": "Synced", "status": "True"})}, false},
		"NoStatus":    {"No status is not ready.", observedState{"r": observedResource(t, map[string]any{})}, false},
		"NilResource": {"A resource Crossplane sent without content is not ready.", observedState{"r": resource.ObservedComposed{}}, false},
		"OddShape":    {"Conditions of the wrong shape are not ready, and do not panic.", observedState{"r": withConditions("Ready", 1)}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.o.Ready("r"); got != tc.want {
				t.Errorf("\n%s\nReady() = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestObservedUnreported(t *testing.T) {
	mr := func(apiVersion string, conds ...any) resource.ObservedComposed {
		obj := map[string]any{"apiVersion": apiVersion, "kind": "Thing"}
		if conds != nil {
			obj["status"] = map[string]any{"conditions": conds}
		}
		return observedResource(t, obj)
	}
	synced := map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"}
	failed := map[string]any{"type": "Synced", "status": "False", "reason": "ReconcileError"}
	cases := map[string]struct {
		reason string
		o      observedState
		want   []resource.Name
	}{
		"Reported": {"Synced, true or false, is a report.", observedState{
			"a": mr("ec2.aws.upbound.io/v1beta1", synced), "b": mr("rds.aws.m.upbound.io/v1beta1", failed),
		}, nil},
		"NoStatus": {"A managed resource of either API without a Synced condition is not reported on yet.", observedState{
			"a": mr("ec2.aws.upbound.io/v1beta1"), "b": mr("rds.aws.m.upbound.io/v1beta1", map[string]any{"type": "Ready", "status": "True", "reason": "Available"}),
			"c": mr("ec2.aws.upbound.io/v1beta1", synced),
		}, []resource.Name{"a", "b"}},
		"NotManaged": {"A Usage or Secret is not a provider's to report on.", observedState{
			"u": mr("protection.crossplane.io/v1beta1"), "s": mr("v1"),
		}, nil},
		"NilResource": {"A resource Crossplane sent without content is not a managed resource.", observedState{"r": resource.ObservedComposed{}}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.o.Unreported()); diff != "" {
				t.Errorf("\n%s\nUnreported(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestObservedAs(t *testing.T) {
	instance := map[string]any{
		"apiVersion": "rds.aws.upbound.io/v1beta3",
		"kind":       "Instance",
		"spec":       map[string]any{"forProvider": map[string]any{"region": "us-east-1", "allocatedStorage": 20.0}},
		"status":     map[string]any{"atProvider": map[string]any{"arn": "arn:aws:rds:us-east-1:123456789012:db:x", "replicateSourceDb": "src"}},
	}
	cases := map[string]struct {
		reason   string
		o        observedState
		wantARN  string
		wantGB   float64
		wantGK   schema.GroupKind
		stateful bool
	}{
		"Instance": {
			reason:   "An observed instance decodes into its provider-aws type, spec and status.",
			o:        observedState{DBInstanceName(RolePrimary): observedResource(t, instance)},
			wantARN:  "arn:aws:rds:us-east-1:123456789012:db:x",
			wantGB:   20,
			wantGK:   schema.GroupKind{Group: "rds.aws.upbound.io", Kind: "Instance"},
			stateful: true,
		},
		"NotObserved": {
			reason: "A resource not observed is the zero object: nothing known.",
			o:      observedState{},
		},
		"WrongShape": {
			reason: "A field of another shape (a list where a string belongs) is the zero object, and does not panic.",
			o: observedState{DBInstanceName(RolePrimary): observedResource(t, map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta3", "kind": "Instance",
				"status": map[string]any{"atProvider": map[string]any{"arn": []any{"x"}}}})},
			wantGK:   schema.GroupKind{Group: "rds.aws.upbound.io", Kind: "Instance"},
			stateful: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := observedDB(tc.o, DBInstanceName(RolePrimary))
			if diff := cmp.Diff(tc.wantARN, deref(got.Status.AtProvider.Arn)); diff != "" {
				t.Errorf("\n%s\narn: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantGB, deref(got.Spec.ForProvider.AllocatedStorage)); diff != "" {
				t.Errorf("\n%s\nallocatedStorage: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantGK, tc.o.GroupKind(DBInstanceName(RolePrimary))); diff != "" {
				t.Errorf("\n%s\nGroupKind: -want, +got:\n%s", tc.reason, diff)
			}
			if got := tc.o.Stateful(DBInstanceName(RolePrimary)); got != tc.stateful {
				t.Errorf("\n%s\nStateful() = %v, want %v", tc.reason, got, tc.stateful)
			}
		})
	}
}

func TestObservedFrom(t *testing.T) {
	s, _ := structpb.NewStruct(map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta3", "kind": "Instance"})
	req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Resources: map[string]*fnv1.Resource{
		"db": {Resource: s, ConnectionDetails: map[string][]byte{"password": []byte("p")}},
	}}}
	o, err := observedFrom(req)
	if err != nil {
		t.Fatal(err)
	}
	if o.GroupKind("db").Kind != "Instance" || string(o.ConnectionDetail("db", "password")) != "p" || o.ConnectionDetail("other", "password") != nil {
		t.Errorf("ObservedFrom(...) = %v: want the db with its connection details", o)
	}
}
