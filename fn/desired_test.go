package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/crossplane/function-sdk-go/resource"

	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
)

func TestDesiredAdd(t *testing.T) {
	type add struct {
		name   resource.Name
		labels map[string]string
	}
	cases := map[string]struct {
		reason     string
		adds       []add
		wantOrder  []resource.Name
		wantLabels map[resource.Name]map[string]string
		wantErr    string
	}{
		"Distinct": {
			reason:    "Each name is desired once, in order, labelled with its name; extra labels are kept.",
			adds:      []add{{name: "a"}, {name: "b", labels: map[string]string{labelTier: "database"}}},
			wantOrder: []resource.Name{"a", "b"},
			wantLabels: map[resource.Name]map[string]string{
				"a": {labelResource: "a"},
				"b": {labelResource: "b", labelTier: "database"},
			},
		},
		"Twice": {
			reason:     "A name already desired is refused, not overwritten: the first resource stays and Err names the name.",
			adds:       []add{{name: "a"}, {name: "a", labels: map[string]string{labelTier: "lambda"}}},
			wantOrder:  []resource.Name{"a"},
			wantLabels: map[resource.Name]map[string]string{"a": {labelResource: "a"}},
			wantErr:    `composed resource "a" is desired twice`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, "aws")
			for _, a := range tc.adds {
				d.AddLabelled(a.name, &ec2v1beta1.VPC{}, a.labels)
			}
			if diff := cmp.Diff(tc.wantOrder, d.Order); diff != "" {
				t.Errorf("\n%s\nOrder: -want, +got:\n%s", tc.reason, diff)
			}
			for n, want := range tc.wantLabels {
				if diff := cmp.Diff(want, d.Resources[n].GetLabels()); diff != "" {
					t.Errorf("\n%s\n%s's labels: -want, +got:\n%s", tc.reason, n, diff)
				}
				if got := d.Resources[n].(*ec2v1beta1.VPC).Spec.ProviderConfigReference.Name; got != "aws" {
					t.Errorf("\n%s\n%s's provider config is %q, want aws", tc.reason, n, got)
				}
			}
			err := d.Err()
			if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("\n%s\nErr() = %v, want an error containing %q", tc.reason, err, tc.wantErr)
			}
		})
	}
}

func TestNamed(t *testing.T) {
	v := named(&ec2v1beta1.VPC{}, "orders-vpc")
	if got := meta.GetExternalName(v); got != "orders-vpc" {
		t.Errorf("Named(...): external name %q, want orders-vpc", got)
	}
}
