//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// existingClaim is the claim the Existing-network stage applies.
const existingClaim = "payments-db-ex"

// The "existing" network the stage makes first, as managed resources of its own, as a platform's
// network Composition would: a VPC per region, two database and two Lambda subnets in each.
const (
	existingLabelNet  = "e2e.pgdr.io/network"
	existingLabelTier = "e2e.pgdr.io/tier"
)

// networkKinds are the kinds Existing mode must not compose (Connected, endpoints Existing).
var networkKinds = []string{"VPC", "Subnet", "InternetGateway", "EIP", "NATGateway", "RouteTable", "RouteTableAssociation", "Route", //nolint:gochecknoglobals // A constant list.
	"VPCPeeringConnection", "VPCPeeringConnectionAccepter", "VPCEndpoint", "VPCEndpointSubnetAssociation", "VPCEndpointSecurityGroupAssociation"}

// existingNetworkStage applies a claim in Existing mode to Ready and checks that it composes no
// network, that its databases sit in the given subnets and security groups in the given VPCs, and
// that the clients of spec.access reach them; then deletes it, and the network after it.
func existingNetworkStage(ctx context.Context, t *testing.T, e *env, s *standIn) string {
	t.Helper()
	pri, dr := "us-east-1", "us-east-2"
	cidrs := map[string]string{pri: "10.20.0.0/16", dr: "10.21.0.0/16"}
	var docs []string
	for _, rg := range []string{pri, dr} {
		net := "e2e-existing-" + rg
		docs = append(docs, fmt.Sprintf(`apiVersion: ec2.aws.upbound.io/v1beta1
kind: VPC
metadata:
  name: %s
  labels: {%s: %s}
spec:
  forProvider: {region: %s, cidrBlock: %s}`, net, existingLabelNet, net, rg, cidrs[rg]))
		for i, tier := range []string{"database", "database", "lambda", "lambda"} {
			az := rg + string(rune('a'+i%2))
			third := i
			docs = append(docs, fmt.Sprintf(`apiVersion: ec2.aws.upbound.io/v1beta1
kind: Subnet
metadata:
  name: %s-%s-%d
  labels: {%s: %s, %s: %s}
spec:
  forProvider:
    region: %s
    availabilityZone: %s
    cidrBlock: %s
    vpcIdRef: {name: %s}`, net, tier, i, existingLabelNet, net, existingLabelTier, tier, rg, az,
				strings.Replace(cidrs[rg], ".0.0/16", fmt.Sprintf(".%d.0/24", third), 1), net))
		}
	}
	netFile := filepath.Join(e.run, "existing-network.yaml")
	if err := os.WriteFile(netFile, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := e.kubectl(ctx, nil, "apply", "-f", netFile); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", netFile, err, out)
	}
	begin := time.Now()
	// What AWS assigned: the VPCs' and subnets' ids.
	ids := map[string]string{}
	if err := eventually(ctx, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		for _, rg := range []string{pri, dr} {
			net := "e2e-existing-" + rg
			names := []string{"VPC/" + net}
			for i, tier := range []string{"database", "database", "lambda", "lambda"} {
				names = append(names, fmt.Sprintf("Subnet/%s-%s-%d", net, tier, i))
			}
			for _, n := range names {
				kind, name, _ := strings.Cut(n, "/")
				o, err := e.get(ctx, "ec2.aws.upbound.io/v1beta1", kind, "", name)
				if err != nil {
					return err
				}
				id := str(o, "status", "atProvider", "id")
				if id == "" {
					return errors.Errorf("%s has no id yet", n)
				}
				ids[n] = id
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.mark("existing network: 2 VPCs, 8 subnets with ids after %s", since(begin))
	sub := func(rg, tier string, i int) string {
		return ids[fmt.Sprintf("Subnet/e2e-existing-%s-%s-%d", rg, tier, i)]
	}
	region := func(rg string, dbByLabels bool) map[string]any {
		m := map[string]any{
			"vpcID":         ids["VPC/e2e-existing-"+rg],
			"cidrBlock":     cidrs[rg],
			"lambdaSubnets": map[string]any{"ids": []any{sub(rg, "lambda", 2), sub(rg, "lambda", 3)}},
		}
		if dbByLabels {
			m["databaseSubnets"] = map[string]any{"matchLabels": map[string]any{existingLabelNet: "e2e-existing-" + rg, existingLabelTier: "database"}}
		} else {
			m["databaseSubnets"] = map[string]any{"ids": []any{sub(rg, "database", 0), sub(rg, "database", 1)}}
		}
		return m
	}
	clientSG := map[string]string{pri: "sg-0a1b2c3d4e5f60031", dr: "sg-0f1e2d3c4b5a60031"}
	appVPC := map[string]string{pri: "vpc-0a1b2c3d4e5f60041", dr: "vpc-0f1e2d3c4b5a60041"}
	c := applyRenamedClaim(ctx, t, e, existingClaim, map[string]any{
		"network": map[string]any{"mode": "Existing", "existing": map[string]any{
			"connectivity": "Connected", "interfaceEndpoints": "Existing",
			"primary": region(pri, false), "dr": region(dr, true),
		}},
		"access": map[string]any{
			"clientCIDRs": []any{"10.50.0.0/16"},
			"primary":     map[string]any{"securityGroupIDs": []any{clientSG[pri]}, "zoneVPCIDs": []any{appVPC[pri]}},
			"dr":          map[string]any{"securityGroupIDs": []any{clientSG[dr]}, "zoneVPCIDs": []any{appVPC[dr]}},
		},
	})
	c.waitReady(ctx, t, 240*time.Second)
	got, err := c.composed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	managed := managedOnly(got)
	var network []string
	for crn, o := range managed {
		if slices.Contains(networkKinds, o.GetKind()) {
			network = append(network, crn+" ("+o.GetKind()+")")
		}
	}
	sort.Strings(network)
	if len(network) > 0 {
		t.Errorf("Existing mode composed network resources: %v", network)
	}
	check := func(crn string, want any, path ...string) {
		t.Helper()
		o := got[crn]
		if o == nil {
			t.Errorf("%s not composed", crn)
			return
		}
		v, _, _ := unstructured.NestedFieldNoCopy(o.Object, path...)
		if !jsonEqual(v, want) {
			t.Errorf("%s %s is %v, want %v", crn, strings.Join(path, "."), v, want)
		}
	}
	// The databases in the given subnets: by id in the primary region, by the subnets' labels in
	// the DR region (the stand-in resolves the selector as the provider would).
	check("primary-db-subnet-group", []any{sub(pri, "database", 0), sub(pri, "database", 1)}, "spec", "forProvider", "subnetIds")
	if g := got["dr-db-subnet-group"]; g != nil {
		resolved, waiting := s.resolve(g)
		if r, _ := resolved["subnetId"].(string); r != sub(dr, "database", 0) && r != sub(dr, "database", 1) {
			t.Errorf("the DR subnet group's selector resolves to %q (waiting for %q), want one of the DR database subnets %s, %s", r, waiting, sub(dr, "database", 0), sub(dr, "database", 1))
		}
	}
	for _, rg := range []struct{ role, region string }{{"primary", pri}, {"dr", dr}} {
		check(rg.role+"-sg-database", ids["VPC/e2e-existing-"+rg.region], "spec", "forProvider", "vpcId")
		check(rg.role+"-db-subnet-group", rg.region, "spec", "forProvider", "region")
		check(rg.role+"-sgr-database-pg-cidr-10-50-0-0-16", "10.50.0.0/16", "spec", "forProvider", "cidrIpv4")
		check(rg.role+"-sgr-database-pg-"+clientSG[rg.region], clientSG[rg.region], "spec", "forProvider", "referencedSecurityGroupId")
		xr, err := c.xr(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v := str(xr, "status", rg.role, "vpcId"); v != ids["VPC/e2e-existing-"+rg.region] {
			t.Errorf("status.%s.vpcId %q, want the given VPC %s", rg.role, v, ids["VPC/e2e-existing-"+rg.region])
		}
	}
	check("dr-lambda-failover", []any{sub(dr, "lambda", 2), sub(dr, "lambda", 3)}, "spec", "forProvider", "vpcConfig", "subnetIds")
	var zoneVPCs []string
	if z := got["primary-dns-zone"]; z != nil {
		vpcs, _, _ := unstructured.NestedSlice(z.Object, "spec", "forProvider", "vpc")
		for _, v := range vpcs {
			id, _, _ := unstructured.NestedString(v.(map[string]any), "vpcId") //nolint:forcetypeassert // A list of objects.
			zoneVPCs = append(zoneVPCs, id)
		}
	}
	sort.Strings(zoneVPCs)
	want := []string{ids["VPC/e2e-existing-"+pri], ids["VPC/e2e-existing-"+dr], appVPC[pri], appVPC[dr]}
	sort.Strings(want)
	if !slices.Equal(zoneVPCs, want) {
		t.Errorf("the private zone is associated with %v, want the two database VPCs and the two application VPCs %v", zoneVPCs, want)
	}
	fig := fmt.Sprintf("claim-to-Ready %.1fs; %d managed resources, %d of them network kinds; databases in the given subnets, client rules in both regions, zone in 4 VPCs",
		c.ready.Seconds(), len(managed), len(network))
	e.mark("existing network: %s", fig)

	e.mark("existing network: deleted: %s", c.delete(ctx, t, s))
	if out, err := e.kubectl(ctx, nil, "delete", "-f", netFile, "--wait=true", "--timeout=120s"); err != nil {
		t.Errorf("deleting the existing network after the claim: %v\n%s", err, out)
	}
	return fig
}
