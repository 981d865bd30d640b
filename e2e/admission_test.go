//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// celCase is a claim that one of the XRD's CEL rules must reject when kubectl applies it.
type celCase struct {
	reason string
	rule   string // a fragment of the rule's CEL expression, to find its message in the XRD
	mutate func(spec map[string]any)
}

func celCases() map[string]celCase {
	return map[string]celCase{
		"SameRegions": {
			reason: "The DR copy must live in another region than the primary.",
			rule:   "self.regions.primary != self.regions.dr",
			mutate: func(s map[string]any) { set(s, get(s, "regions", "primary"), "regions", "dr") },
		},
		"ReservedUsername": {
			reason: "RDS reserves some user names; the master user must not take one.",
			rule:   "'rdsadmin'",
			mutate: func(s map[string]any) { set(s, "rdsadmin", "postgres", "username") },
		},
		"ForceSSLOff": {
			reason: "TLS is enforced: rds.force_ssl cannot be turned off.",
			rule:   "rds.force_ssl",
			mutate: func(s map[string]any) { set(s, map[string]any{"rds.force_ssl": "0"}, "postgres", "parameters") },
		},
		"OverlappingCIDRs": {
			reason: "Peered VPCs cannot share a CIDR.",
			rule:   "self.primaryCIDR != self.drCIDR",
			mutate: func(s map[string]any) {
				set(s, "10.42.0.0/16", "network", "primaryCIDR")
				set(s, "10.42.0.0/16", "network", "drCIDR")
			},
		},
		"ClientsFromAnywhere": {
			reason: "spec.access.clientCIDRs must not open the databases to anywhere.",
			rule:   "self.all(c, !c.endsWith('/0'))",
			mutate: func(s map[string]any) { set(s, []any{"0.0.0.0/0"}, "access", "clientCIDRs") },
		},
		"ExistingWithoutNetworks": {
			reason: "Existing mode needs the team's networks.",
			rule:   "has(self.existing)",
			mutate: func(s map[string]any) { set(s, "Existing", "network", "mode") },
		},
		"MoreNATGatewaysThanAZs": {
			reason: "A NAT gateway needs an AZ of its own.",
			rule:   "self.natGateways <= self.azCount",
			mutate: func(s map[string]any) {
				set(s, int64(2), "network", "azCount")
				set(s, int64(3), "network", "natGateways")
			},
		},
	}
}

// celAdmission applies each bad claim with kubectl and expects the API server to refuse it with
// the message of the rule, as written in the XRD.
func celAdmission(ctx context.Context, t *testing.T, e *env) {
	base := exampleClaim(t, e)
	xrd := readYAML(t, filepath.Join(e.root, "apis", "definition.yaml"))[0]
	for name, tc := range celCases() {
		t.Run(name, func(t *testing.T) {
			msg := ruleMessage(xrd, tc.rule)
			if msg == "" {
				t.Fatalf("\n%s\nno CEL rule containing %q in apis/definition.yaml", tc.reason, tc.rule)
			}
			c := base.DeepCopy()
			c.SetName("cel-" + strings.ToLower(name))
			spec, _, _ := unstructured.NestedMap(c.Object, "spec")
			tc.mutate(spec)
			_ = unstructured.SetNestedMap(c.Object, spec, "spec")
			b, err := yaml.Marshal(c.Object)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.kubectl(ctx, b, "apply", "-f", "-")
			if err == nil {
				_, _ = e.kubectl(ctx, b, "delete", "-f", "-", "--wait=false")
				t.Fatalf("\n%s\nkubectl apply accepted the claim; want it refused with %q\n%s", tc.reason, msg, out)
			}
			if !strings.Contains(out, msg) {
				t.Errorf("\n%s\nkubectl apply refused the claim, but not with the rule's message %q:\n%s", tc.reason, msg, out)
			}
		})
	}
}

// exampleClaim returns the claim of examples/claim.yaml, in the namespace kubectl would use.
func exampleClaim(t *testing.T, e *env) *unstructured.Unstructured {
	t.Helper()
	for _, u := range readYAML(t, filepath.Join(e.root, "examples", "claim.yaml")) {
		if u.GetKind() == "PostgresDRClaim" {
			if u.GetNamespace() == "" {
				u.SetNamespace("default")
			}
			return u
		}
	}
	t.Fatal("examples/claim.yaml has no PostgresDRClaim")
	return nil
}

// ruleMessage returns the message of the first x-kubernetes-validations rule in the XRD's schema
// whose expression contains fragment.
func ruleMessage(xrd *unstructured.Unstructured, fragment string) string {
	var find func(v any) string
	find = func(v any) string {
		switch x := v.(type) {
		case map[string]any:
			for _, r := range asSlice(x["x-kubernetes-validations"]) {
				if m := asMap(r); strings.Contains(fmt.Sprint(m["rule"]), fragment) {
					return fmt.Sprint(m["message"])
				}
			}
			for _, c := range x {
				if msg := find(c); msg != "" {
					return msg
				}
			}
		case []any:
			for _, c := range x {
				if msg := find(c); msg != "" {
					return msg
				}
			}
		}
		return ""
	}
	return find(xrd.Object["spec"])
}

// get returns the value at path in a nested map, or nil.
func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// set sets v at path in a nested map, making the maps on the way.
func set(m map[string]any, v any, path ...string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
