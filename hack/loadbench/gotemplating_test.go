package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestGoTemplatingRequest(t *testing.T) {
	base := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "loadbench"},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: mustStruct(t, map[string]any{"apiVersion": "pgdr.io/v1alpha1", "kind": "XPostgresDR", "metadata": map[string]any{"name": "orders-db"}})}},
	}
	vpc := func(name string) map[string]any {
		return map[string]any{"apiVersion": "ec2.aws.upbound.io/v1beta1", "kind": "VPC", "metadata": map[string]any{"labels": map[string]any{"pgdr.io/resource": name}}}
	}
	type want struct {
		docs   []map[string]any
		delims any
		err    string
	}
	cases := map[string]struct {
		reason string
		rsp    *fnv1.RunFunctionResponse
		want   want
	}{
		"ResourcesAndStatus": {
			reason: "The XR's status first, then each composed resource by name, with its name and readiness as function-go-templating's annotations.",
			rsp: &fnv1.RunFunctionResponse{Desired: &fnv1.State{
				Composite: &fnv1.Resource{Resource: mustStruct(t, map[string]any{"status": map[string]any{"phase": "Provisioning"}})},
				Resources: map[string]*fnv1.Resource{
					"primary-vpc": {Resource: mustStruct(t, vpc("primary-vpc")), Ready: fnv1.Ready_READY_TRUE},
					"dr-vpc":      {Resource: mustStruct(t, vpc("dr-vpc"))},
				},
			}},
			want: want{docs: []map[string]any{
				{"apiVersion": "pgdr.io/v1alpha1", "kind": "XPostgresDR", "status": map[string]any{"phase": "Provisioning"}},
				{"apiVersion": "ec2.aws.upbound.io/v1beta1", "kind": "VPC", "metadata": map[string]any{
					"labels":      map[string]any{"pgdr.io/resource": "dr-vpc"},
					"annotations": map[string]any{goTemplatingResourceName: "dr-vpc"},
				}},
				{"apiVersion": "ec2.aws.upbound.io/v1beta1", "kind": "VPC", "metadata": map[string]any{
					"labels":      map[string]any{"pgdr.io/resource": "primary-vpc"},
					"annotations": map[string]any{goTemplatingResourceName: "primary-vpc", goTemplatingReady: "True"},
				}},
			}},
		},
		"Braces": {
			reason: "A value holding {{ would be read as a template action: other delimiters are chosen.",
			rsp: &fnv1.RunFunctionResponse{Desired: &fnv1.State{Resources: map[string]*fnv1.Resource{
				"x": {Resource: mustStruct(t, map[string]any{"kind": "ConfigMap", "data": map[string]any{"t": "{{ .x }}"}})},
			}}},
			want: want{
				docs:   []map[string]any{{"kind": "ConfigMap", "data": map[string]any{"t": "{{ .x }}"}, "metadata": map[string]any{"annotations": map[string]any{goTemplatingResourceName: "x"}}}},
				delims: map[string]any{"left": "[[%", "right": "%]]"},
			},
		},
		"AllDelimiters": {
			reason: "With both pairs of delimiters in the text, no static template can be made.",
			rsp: &fnv1.RunFunctionResponse{Desired: &fnv1.State{Resources: map[string]*fnv1.Resource{
				"x": {Resource: mustStruct(t, map[string]any{"kind": "ConfigMap", "data": map[string]any{"t": "{{ .x }} [[% .y %]]"}})},
			}}},
			want: want{err: "no delimiters left"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := goTemplatingRequest(base, tc.rsp)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("\n%s\ngoTemplatingRequest(...): got error %v, want one containing %q", tc.reason, err, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\ngoTemplatingRequest(...): %v", tc.reason, err)
			}
			in := got.GetInput().AsMap()
			if in["kind"] != "GoTemplate" || in["source"] != "Inline" {
				t.Errorf("\n%s\ngoTemplatingRequest(...): input %v %v, want an Inline GoTemplate", tc.reason, in["kind"], in["source"])
			}
			if diff := cmp.Diff(tc.want.delims, in["delims"]); diff != "" {
				t.Errorf("\n%s\ngoTemplatingRequest(...): delims, -want, +got:\n%s", tc.reason, diff)
			}
			tmpl, _ := in["inline"].(map[string]any)["template"].(string)
			if diff := cmp.Diff(tc.want.docs, yamlDocs(t, tmpl)); diff != "" {
				t.Errorf("\n%s\ngoTemplatingRequest(...): template documents, -want, +got:\n%s", tc.reason, diff)
			}
			if got.GetObserved().GetComposite().GetResource().AsMap()["kind"] != "XPostgresDR" {
				t.Errorf("\n%s\ngoTemplatingRequest(...): the observed XR was not kept", tc.reason)
			}
			if base.GetInput() != nil {
				t.Errorf("\n%s\ngoTemplatingRequest(...) changed the request it was given", tc.reason)
			}
		})
	}
}

func yamlDocs(t *testing.T, stream string) []map[string]any {
	t.Helper()
	var out []map[string]any
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewBufferString(stream)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
}
