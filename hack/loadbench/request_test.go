package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

const testComposition = `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
spec:
  pipeline:
  - step: other
    functionRef:
      name: function-other
    input:
      other: true
  - step: ours
    functionRef:
      name: function-postgres-dr
    input:
      apiVersion: fn.pgdr.io/v1alpha1
      kind: Input
      accountID: "123456789012"
`

const testXR = `
apiVersion: pgdr.io/v1alpha1
kind: XPostgresDR
metadata:
  name: orders-db
`

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildRequest(t *testing.T) {
	type args struct {
		composition, xr, observed, function string
	}
	type want struct {
		observed map[string]*fnv1.Resource
		err      string // a part of the error; "" for none
	}
	vpc := map[string]any{"apiVersion": "ec2.aws.upbound.io/v1beta1", "kind": "VPC", "metadata": map[string]any{"name": "a", "annotations": map[string]any{AnnotationResourceName: "primary-vpc"}}}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"FirstPass": {
			reason: "Nothing observed gives an empty map of observed resources.",
			args:   args{composition: testComposition, xr: testXR, function: "function-postgres-dr"},
			want:   want{observed: map[string]*fnv1.Resource{}},
		},
		"Observed": {
			reason: "Each document is keyed by its composition-resource-name annotation; comment-only documents are skipped.",
			args: args{composition: testComposition, xr: testXR, function: "function-postgres-dr", observed: `# a header
---
apiVersion: ec2.aws.upbound.io/v1beta1
kind: VPC
metadata:
  name: a
  annotations:
    crossplane.io/composition-resource-name: primary-vpc
---
# nothing here
---
apiVersion: ec2.aws.upbound.io/v1beta1
kind: VPC
metadata:
  name: b
  annotations:
    crossplane.io/composition-resource-name: dr-vpc
`},
			want: want{observed: map[string]*fnv1.Resource{
				"primary-vpc": {Resource: mustStruct(t, vpc)},
				"dr-vpc": {Resource: mustStruct(t, map[string]any{"apiVersion": "ec2.aws.upbound.io/v1beta1", "kind": "VPC",
					"metadata": map[string]any{"name": "b", "annotations": map[string]any{AnnotationResourceName: "dr-vpc"}}})},
			}},
		},
		"NoAnnotation": {
			reason: "A composed resource without the annotation cannot be keyed.",
			args:   args{composition: testComposition, xr: testXR, function: "function-postgres-dr", observed: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
			want:   want{err: "has no crossplane.io/composition-resource-name annotation"},
		},
		"Duplicate": {
			reason: "Two composed resources under one name would hide one of them.",
			args: args{composition: testComposition, xr: testXR, function: "function-postgres-dr",
				observed: "metadata:\n  annotations:\n    crossplane.io/composition-resource-name: x\n---\nmetadata:\n  annotations:\n    crossplane.io/composition-resource-name: x\n"},
			want: want{err: `"x" appears twice`},
		},
		"NoStep": {
			reason: "A Composition that never calls the function has no input for it.",
			args:   args{composition: testComposition, xr: testXR, function: "function-absent"},
			want:   want{err: `no pipeline step calling function "function-absent"`},
		},
		"EmptyXR": {
			reason: "A request needs an XR.",
			args:   args{composition: testComposition, xr: "# nothing\n", function: "function-postgres-dr"},
			want:   want{err: "the XR is empty"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := buildRequest([]byte(tc.args.xr), []byte(tc.args.composition), []byte(tc.args.observed), tc.args.function)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("\n%s\nbuildRequest(...): got error %v, want one containing %q", tc.reason, err, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nbuildRequest(...): %v", tc.reason, err)
			}
			want := &fnv1.RunFunctionRequest{
				Input:    mustStruct(t, map[string]any{"apiVersion": "fn.pgdr.io/v1alpha1", "kind": "Input", "accountID": "123456789012"}),
				Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: mustStruct(t, map[string]any{"apiVersion": "pgdr.io/v1alpha1", "kind": "XPostgresDR", "metadata": map[string]any{"name": "orders-db"}})}, Resources: tc.want.observed},
				Desired:  &fnv1.State{},
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\nbuildRequest(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestBuildRequestExamples builds the converged request from the repository's fixture: every
// document of it is observed, under its own annotation.
func TestBuildRequestExamples(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile("../../" + p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	observed := read("examples/observed/ready.yaml")
	req, err := buildRequest(read("examples/xr.yaml"), read("apis/composition.yaml"), observed, "function-postgres-dr")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(req.GetObserved().GetResources()), strings.Count(string(observed), AnnotationResourceName+":"); got != want {
		t.Errorf("observed resources: got %d, want %d (one per annotated document)", got, want)
	}
	for name, r := range req.GetObserved().GetResources() {
		got := r.GetResource().GetFields()["metadata"].GetStructValue().GetFields()["annotations"].GetStructValue().GetFields()[AnnotationResourceName].GetStringValue()
		if got != name {
			t.Errorf("observed[%q] has annotation %q", name, got)
		}
	}
	if req.GetInput() == nil {
		t.Error("no input from apis/composition.yaml")
	}
}
