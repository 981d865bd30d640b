//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

// TestStandInSwitchover checks, without a control plane, that the provider stand-in answers the
// failover Lambda's switchover Invocation as AWS and the Lambda would: it promotes the replica the
// Lambda is configured for (REPLICA_INSTANCE_ID) in the Invocation's region, reports the
// SwitchoverResult of the request's ID in status.atProvider.result, and from then on reports the
// instance without a replication source although its spec still names one; a second switchover
// to an instance that no longer replicates fails as the Lambda's would, and is retried.
func TestStandInSwitchover(t *testing.T) {
	fnGVK := schema.GroupVersionKind{Group: "lambda.aws.upbound.io", Version: "v1beta2", Kind: "Function"}
	invGVK := schema.GroupVersionKind{Group: "lambda.aws.upbound.io", Version: "v1beta1", Kind: "Invocation"}
	dbGVK := schema.GroupVersionKind{Group: "rds.aws.upbound.io", Version: "v1beta3", Kind: "Instance"}
	kinds := map[schema.GroupVersionKind]schema.GroupVersionResource{
		fnGVK:  {Group: fnGVK.Group, Version: fnGVK.Version, Resource: "functions"},
		invGVK: {Group: invGVK.Group, Version: invGVK.Version, Resource: "invocations"},
		dbGVK:  {Group: dbGVK.Group, Version: dbGVK.Version, Resource: "instances"},
	}
	listKinds := map[schema.GroupVersionResource]string{}
	for gvk, gvr := range kinds {
		listKinds[gvr] = gvk.Kind + "List"
	}
	ctl := true
	owner := []any{map[string]any{"apiVersion": "pgdr.io/v1alpha1", "kind": "XPostgresDR", "name": "xr", "uid": "xr-uid", "controller": ctl}}
	obj := func(gvk schema.GroupVersionKind, name, crn, as string, fp map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"name": name, "uid": name + "-uid", "ownerReferences": owner,
				"labels": map[string]any{labelRes: crn}, "annotations": map[string]any{annCRN: crn}},
			"spec": map[string]any{"forProvider": fp},
		}}
		u.SetGroupVersionKind(gvk)
		if as != "" {
			a := u.GetAnnotations()
			a[annDesiredAs] = as
			u.SetAnnotations(a)
		}
		return u
	}
	srcARN := "arn:aws:rds:us-east-1:" + awsAccount + ":db:orders-primary-db"
	input := func(id string) string {
		b, _ := jsonMarshal(contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: id})
		return string(b)
	}
	invocation := func(name, id string) *unstructured.Unstructured {
		return obj(invGVK, name, "dr-switchover", "", map[string]any{
			"region": "us-east-2", "input": input(id), "lifecycleScope": "CREATE_ONLY",
			"functionNameSelector": map[string]any{"matchLabels": map[string]any{labelRes: "dr-lambda-failover"}, "matchControllerRef": true},
		})
	}
	objs := []runtime.Object{
		obj(fnGVK, "fn", "dr-lambda-failover", "", map[string]any{"region": "us-east-2",
			"environment": map[string]any{"variables": map[string]any{contract.EnvReplicaInstanceID: "orders-dr-db"}}}),
		obj(dbGVK, "primary", "primary-db-instance", "writer", map[string]any{"region": "us-east-1", "identifier": "orders-primary-db"}),
		// Another XR's replica of the same name in the same region: not this switchover's.
		obj(dbGVK, "other", "dr-db-instance", "replica", map[string]any{"region": "us-east-2", "identifier": "orders-dr-db", "replicateSourceDb": srcARN}),
		obj(dbGVK, "dr", "dr-db-instance", "replica", map[string]any{"region": "us-east-2", "identifier": "orders-dr-db", "replicateSourceDb": srcARN}),
	}
	other := objs[2].(*unstructured.Unstructured)
	other.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "pgdr.io/v1alpha1", Kind: "XPostgresDR", Name: "xr2", UID: "xr2-uid", Controller: &ctl}})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	s := newStandIn(dyn, kubefake.NewClientset(), kinds)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, fn func() string) {
		t.Helper()
		if err := eventually(ctx, 10*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
			if msg := fn(); msg != "" {
				return errorString(msg)
			}
			return nil
		}); err != nil {
			for _, ev := range s.Events() {
				t.Log("stand-in: " + ev)
			}
			t.Fatalf("%s: %v", what, err)
		}
	}
	get := func(gvk schema.GroupVersionKind, name string) *unstructured.Unstructured {
		return s.cached(key{gvr: kinds[gvk], name: name})
	}
	wait("both instances created and reporting their source", func() string {
		for _, n := range []string{"dr", "other"} {
			if o := get(dbGVK, n); o == nil || str(o, "status", "atProvider", "replicateSourceDb") != srcARN {
				return n + " does not report its source yet"
			}
		}
		return ""
	})

	if _, err := dyn.Resource(kinds[invGVK]).Create(ctx, invocation("inv", "orders-to-us-east-2-g1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var res contract.SwitchoverResult
	wait("the switchover's result", func() string {
		o := get(invGVK, "inv")
		if o == nil || str(o, "status", "atProvider", "result") == "" {
			return "no result yet"
		}
		if err := jsonUnmarshal([]byte(str(o, "status", "atProvider", "result")), &res); err != nil {
			return err.Error()
		}
		return ""
	})
	if res.ID != "orders-to-us-east-2-g1" || res.Action != contract.ActionSwitchover || res.Outcome != contract.SwitchoverPromoted || res.FencedLSN == "" || res.ReplicaLSN == "" {
		t.Errorf("result %+v, want the request's ID and action, Promoted, both LSNs", res)
	}
	wait("the replica reported promoted", func() string {
		o := get(dbGVK, "dr")
		if src := str(o, "status", "atProvider", "replicateSourceDb"); src != "" {
			return "dr still reports source " + src
		}
		if str(o, "spec", "forProvider", "replicateSourceDb") != srcARN {
			return "the stand-in changed dr's spec"
		}
		return ""
	})
	if src := str(get(dbGVK, "other"), "status", "atProvider", "replicateSourceDb"); src != srcARN {
		t.Errorf("the other XR's replica reports source %q after the switchover, want %q", src, srcARN)
	}
	sws := s.Switchovers()
	if len(sws) != 1 || sws[0].instance != "orders-dr-db" || sws[0].region != "us-east-2" || sws[0].invocation != "dr-switchover" {
		t.Errorf("switchovers %+v, want one of orders-dr-db in us-east-2 by dr-switchover", sws)
	}

	// The same request again (the Invocation created anew) reports the same result.
	if _, err := dyn.Resource(kinds[invGVK]).Create(ctx, invocation("inv-again", "orders-to-us-east-2-g1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("the same request's result", func() string {
		o := get(invGVK, "inv-again")
		if o == nil || str(o, "status", "atProvider", "result") == "" {
			return "no result yet"
		}
		var again contract.SwitchoverResult
		if err := jsonUnmarshal([]byte(str(o, "status", "atProvider", "result")), &again); err != nil {
			return err.Error()
		}
		if !jsonEqual(again, res) {
			return "a different result for the same request"
		}
		return ""
	})
	// Another request while the instance no longer replicates: the Lambda fails, no result.
	if _, err := dyn.Resource(kinds[invGVK]).Create(ctx, invocation("inv-other", "orders-to-us-east-2-g9"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("the failed invocation", func() string {
		o := get(invGVK, "inv-other")
		if o == nil {
			return "not seen"
		}
		if st, why := conditionStatus(o, "Synced"); st != "False" || !strings.Contains(why, "no read replica") {
			return "Synced " + st + ": " + why
		}
		return ""
	})
	if r := str(get(invGVK, "inv-other"), "status", "atProvider", "result"); r != "" {
		t.Errorf("a failed switchover reports result %s", r)
	}
	if n := len(s.Switchovers()); n != 1 {
		t.Errorf("%d switchovers, want 1", n)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
