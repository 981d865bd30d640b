package fn

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// planSpec parses and defaults a spec (JSON).
func planSpec(t *testing.T, spec string) v1alpha1.XPostgresDRSpec {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(spec), &m); err != nil {
		t.Fatal(err)
	}
	s, err := parseSpec(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustPlan plans the XR orders-x1 of claim orders.
func mustPlan(t *testing.T, spec string, in *inputv1alpha1.Input) *xrPlan {
	t.Helper()
	p, err := newPlan("orders-x1", "orders", planSpec(t, spec), in)
	if err != nil {
		t.Fatalf("newPlan: %v", err)
	}
	return p
}

func TestPlanProviderConfig(t *testing.T) {
	const regions = `"regions":{"primary":"us-east-1","dr":"us-east-2"}`
	cases := map[string]struct {
		reason string
		spec   string
		in     *inputv1alpha1.Input
		want   string
	}{
		"Spec":           {"The claim's provider config wins over the Input's.", `{` + regions + `,"providerConfigName":"team-a"}`, &inputv1alpha1.Input{ProviderConfigName: "aws"}, "team-a"},
		"SpecNoInput":    {"The claim's provider config without an Input.", `{` + regions + `,"providerConfigName":"team-a"}`, nil, "team-a"},
		"Input":          {"Without one in the claim, the Input's.", `{` + regions + `}`, &inputv1alpha1.Input{ProviderConfigName: "aws"}, "aws"},
		"Default":        {"Neither names one: default.", `{` + regions + `}`, &inputv1alpha1.Input{}, "default"},
		"DefaultNoInput": {"No Input and none in the claim: default.", `{` + regions + `}`, nil, "default"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := mustPlan(t, tc.spec, tc.in).ProviderConfig; got != tc.want {
				t.Errorf("\n%s\nProviderConfig = %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}

func TestPlanNames(t *testing.T) {
	spec := planSpec(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`)
	cases := map[string]struct {
		reason    string
		xr, claim string
		wantBase  string
	}{
		"Claimed":   {"A claimed XR's names start with the claim's name, then a hash of the XR's.", "orders-x1", "orders", "orders-0c614a"},
		"Unclaimed": {"An XR without a claim is named after itself.", "orders-x1", "", "orders-x1-0c614a"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := newPlan(tc.xr, tc.claim, spec, nil)
			if err != nil {
				t.Fatalf("newPlan: %v", err)
			}
			if p.XRName != tc.xr {
				t.Errorf("\n%s\nXRName = %q, want the XR's name %q", tc.reason, p.XRName, tc.xr)
			}
			if p.Names.Base != tc.wantBase {
				t.Errorf("\n%s\nNames.Base = %q, want %q", tc.reason, p.Names.Base, tc.wantBase)
			}
		})
	}
}

func TestPlanRegions(t *testing.T) {
	type region struct {
		Role     Role
		Region   string
		AZs      []string
		VPC      string
		Database []string // the database tier's subnets
		Peer     string
	}
	summary := func(rp regionPlan) region {
		r := region{Role: rp.Role, Region: rp.Region, AZs: rp.AZs, VPC: rp.Net.VPC.String(), Peer: rp.PeerCIDR}
		for _, s := range rp.Net.Subnets[tierDatabase] {
			r.Database = append(r.Database, s.String())
		}
		return r
	}
	cases := map[string]struct {
		reason string
		spec   string
		want   map[Role]region
	}{
		"Defaults": {
			reason: "Each region's first three AZs, the default CIDRs, each VPC peered with the other.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`,
			want: map[Role]region{
				RolePrimary: {
					Role: RolePrimary, Region: "us-east-1", AZs: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
					VPC: "10.0.0.0/16", Database: []string{"10.0.8.0/24", "10.0.9.0/24", "10.0.10.0/24"}, Peer: "10.1.0.0/16",
				},
				RoleDR: {
					Role: RoleDR, Region: "us-east-2", AZs: []string{"us-east-2a", "us-east-2b", "us-east-2c"},
					VPC: "10.1.0.0/16", Database: []string{"10.1.8.0/24", "10.1.9.0/24", "10.1.10.0/24"}, Peer: "10.0.0.0/16",
				},
			},
		},
		"FromSpec": {
			reason: "The spec's regions, CIDRs, subnet size, AZ count and primary AZs; the DR region's first AZs.",
			spec: `{"regions":{"primary":"us-east-1","dr":"eu-west-1"},"network":{"primaryCIDR":"10.10.0.0/16","drCIDR":"10.20.0.0/16",
"subnetPrefix":22,"azCount":2,"primaryAZs":["us-east-1d","us-east-1f"]}}`,
			want: map[Role]region{
				RolePrimary: {
					Role: RolePrimary, Region: "us-east-1", AZs: []string{"us-east-1d", "us-east-1f"},
					VPC: "10.10.0.0/16", Database: []string{"10.10.32.0/22", "10.10.36.0/22"}, Peer: "10.20.0.0/16",
				},
				RoleDR: {
					Role: RoleDR, Region: "eu-west-1", AZs: []string{"eu-west-1a", "eu-west-1b"},
					VPC: "10.20.0.0/16", Database: []string{"10.20.32.0/22", "10.20.36.0/22"}, Peer: "10.10.0.0/16",
				},
			},
		},
		"DRAZs": {
			reason: "The spec's DR AZs.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-west-2"},"network":{"azCount":2,"drAZs":["us-west-2c","us-west-2d"]}}`,
			want: map[Role]region{
				RolePrimary: {
					Role: RolePrimary, Region: "us-east-1", AZs: []string{"us-east-1a", "us-east-1b"},
					VPC: "10.0.0.0/16", Database: []string{"10.0.8.0/24", "10.0.9.0/24"}, Peer: "10.1.0.0/16",
				},
				RoleDR: {
					Role: RoleDR, Region: "us-west-2", AZs: []string{"us-west-2c", "us-west-2d"},
					VPC: "10.1.0.0/16", Database: []string{"10.1.8.0/24", "10.1.9.0/24"}, Peer: "10.0.0.0/16",
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustPlan(t, tc.spec, builderInput())
			got := map[Role]region{}
			for role, rp := range p.Regions {
				got[role] = summary(rp)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nRegions: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   string
		want   string // a substring of the error
	}{
		"BadCIDR":         {"A primary CIDR that does not parse.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"primaryCIDR":"10.0.0.0/33"}}`, "10.0.0.0/33"},
		"BadDRCIDR":       {"A DR CIDR with host bits.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"drCIDR":"10.1.0.1/16"}}`, "10.1.0.1/16"},
		"UnknownRegion":   {"A region whose AZs the function does not know.", `{"regions":{"primary":"us-east-1","dr":"mars-north-1"}}`, "mars-north-1"},
		"AZOfOtherRegion": {"A DR AZ of another region.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"network":{"azCount":2,"drAZs":["us-east-1a","us-east-1b"]}}`, "us-east-1a"},
		"TooManyAZs":      {"More AZs than the region has.", `{"regions":{"primary":"us-west-1","dr":"us-east-2"},"network":{"azCount":3}}`, "us-west-1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := newPlan("orders-x1", "orders", planSpec(t, tc.spec), builderInput())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("\n%s\nnewPlan error %v, want one naming %q", tc.reason, err, tc.want)
			}
			if p != nil {
				t.Errorf("\n%s\nnewPlan returned a plan with its error", tc.reason)
			}
		})
	}
}

func TestPlanTags(t *testing.T) {
	const spec = `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`
	own := func(name string, role Role) map[string]string {
		return map[string]string{"Name": name, "pgdr.io/xr": "orders-x1", "pgdr.io/role": string(role), "managed-by": "function-postgres-dr"}
	}
	plus := func(a, b map[string]string) map[string]string {
		out := map[string]string{}
		maps.Copy(out, a)
		maps.Copy(out, b)
		return out
	}
	cases := map[string]struct {
		reason string
		in     *inputv1alpha1.Input
		role   Role
		name   string
		want   map[string]string
	}{
		"Own": {
			reason: "Without default tags: the name, the XR, the role and who manages it.",
			in:     &inputv1alpha1.Input{}, role: RolePrimary, name: "orders-0c614a-primary-db",
			want: own("orders-0c614a-primary-db", RolePrimary),
		},
		"NoInput": {
			reason: "Without an Input: the function's own tags.",
			in:     nil, role: RoleDR, name: "orders-0c614a-dr-db",
			want: own("orders-0c614a-dr-db", RoleDR),
		},
		"DRRole": {
			reason: "A DR resource is tagged with the DR role.",
			in:     &inputv1alpha1.Input{}, role: RoleDR, name: "x",
			want: own("x", RoleDR),
		},
		"DefaultTags": {
			reason: "The Input's default tags come along.",
			in:     &inputv1alpha1.Input{DefaultTags: map[string]string{"team": "payments", "cost-center": "42"}}, role: RolePrimary, name: "x",
			want: plus(map[string]string{"team": "payments", "cost-center": "42"}, own("x", RolePrimary)),
		},
		"OwnTagsWin": {
			reason: "Default tags cannot override the function's own, which it selects and reports by.",
			in: &inputv1alpha1.Input{DefaultTags: map[string]string{
				"Name": "other", "pgdr.io/xr": "other", "pgdr.io/role": "other", "managed-by": "terraform", "env": "prod",
			}},
			role: RolePrimary, name: "x",
			want: plus(map[string]string{"env": "prod"}, own("x", RolePrimary)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustPlan(t, spec, tc.in)
			got := map[string]string{}
			for k, v := range p.Tags(tc.role, tc.name) {
				if v == nil {
					t.Errorf("\n%s\ntag %s has no value", tc.reason, k)
					continue
				}
				got[k] = *v
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nTags(%s, %q): -want, +got:\n%s", tc.reason, tc.role, tc.name, diff)
			}
		})
	}
}

// TestPlanTagsIndependent: every resource gets its own tag values, so that changing one
// resource's tags changes no other's, nor the Input.
func TestPlanTagsIndependent(t *testing.T) {
	in := &inputv1alpha1.Input{DefaultTags: map[string]string{"team": "payments"}}
	p := mustPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`, in)
	a, b := p.Tags(RolePrimary, "a"), p.Tags(RolePrimary, "b")
	*a["team"] = "changed"
	a["extra"] = new("x")
	if got := *b["team"]; got != "payments" {
		t.Errorf("changing one resource's tag changed another's to %q", got)
	}
	if _, ok := b["extra"]; ok {
		t.Error("adding a tag to one resource added it to another")
	}
	if got := in.DefaultTags["team"]; got != "payments" {
		t.Errorf("changing a resource's tag changed the Input's default to %q", got)
	}
}

func TestPlanSecrets(t *testing.T) {
	const spec = `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`
	cases := map[string]struct {
		reason       string
		in           *inputv1alpha1.Input
		wantNS       string
		wantPassword *xpv1.SecretKeySelector
		wantConn     map[Role]*xpv1.SecretReference
	}{
		"Default": {
			reason:       "An Input naming no namespace keeps the secrets in crossplane-system.",
			in:           &inputv1alpha1.Input{},
			wantNS:       "crossplane-system",
			wantPassword: &xpv1.SecretKeySelector{SecretReference: xpv1.SecretReference{Name: "orders-0c614a-master-password", Namespace: "crossplane-system"}, Key: "password"},
			wantConn: map[Role]*xpv1.SecretReference{
				RolePrimary: {Name: "orders-0c614a-primary-db", Namespace: "crossplane-system"},
				RoleDR:      {Name: "orders-0c614a-dr-db", Namespace: "crossplane-system"},
			},
		},
		"NoInput": {
			reason:       "Without an Input: crossplane-system.",
			in:           nil,
			wantNS:       "crossplane-system",
			wantPassword: &xpv1.SecretKeySelector{SecretReference: xpv1.SecretReference{Name: "orders-0c614a-master-password", Namespace: "crossplane-system"}, Key: "password"},
			wantConn: map[Role]*xpv1.SecretReference{
				RolePrimary: {Name: "orders-0c614a-primary-db", Namespace: "crossplane-system"},
				RoleDR:      {Name: "orders-0c614a-dr-db", Namespace: "crossplane-system"},
			},
		},
		"FromInput": {
			reason:       "The Input's namespace holds the password and both connection secrets.",
			in:           &inputv1alpha1.Input{SecretsNamespace: "pgdr-secrets"},
			wantNS:       "pgdr-secrets",
			wantPassword: &xpv1.SecretKeySelector{SecretReference: xpv1.SecretReference{Name: "orders-0c614a-master-password", Namespace: "pgdr-secrets"}, Key: "password"},
			wantConn: map[Role]*xpv1.SecretReference{
				RolePrimary: {Name: "orders-0c614a-primary-db", Namespace: "pgdr-secrets"},
				RoleDR:      {Name: "orders-0c614a-dr-db", Namespace: "pgdr-secrets"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustPlan(t, spec, tc.in)
			if got := p.SecretsNamespace(); got != tc.wantNS {
				t.Errorf("\n%s\nSecretsNamespace() = %q, want %q", tc.reason, got, tc.wantNS)
			}
			if diff := cmp.Diff(tc.wantPassword, p.PasswordSecretRef()); diff != "" {
				t.Errorf("\n%s\nPasswordSecretRef(): -want, +got:\n%s", tc.reason, diff)
			}
			for _, role := range roles {
				if diff := cmp.Diff(tc.wantConn[role], p.ConnectionSecretRef(role)); diff != "" {
					t.Errorf("\n%s\nConnectionSecretRef(%s): -want, +got:\n%s", tc.reason, role, diff)
				}
			}
		})
	}
}

func TestPlanAZLetter(t *testing.T) {
	cases := map[string]struct {
		reason string
		az     string
		want   string
	}{
		"First": {"An AZ's letter names its subnets.", "us-east-1a", "a"},
		"Later": {"Any letter.", "ap-northeast-1d", "d"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := azLetter(tc.az); got != tc.want {
				t.Errorf("\n%s\nazLetter(%q) = %q, want %q", tc.reason, tc.az, got, tc.want)
			}
		})
	}
}
