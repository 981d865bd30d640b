package fn

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	protectionv1beta1 "github.com/crossplane/crossplane/apis/v2/protection/v1beta1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	cloudwatch "github.com/upbound/provider-aws/v2/apis/namespaced/cloudwatch/v1beta1"
	cloudwatchevents "github.com/upbound/provider-aws/v2/apis/namespaced/cloudwatchevents/v1beta1"
	cloudwatchlogs "github.com/upbound/provider-aws/v2/apis/namespaced/cloudwatchlogs/v1beta1"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"
	iam "github.com/upbound/provider-aws/v2/apis/namespaced/iam/v1beta1"
	kms "github.com/upbound/provider-aws/v2/apis/namespaced/kms/v1beta1"
	lambda "github.com/upbound/provider-aws/v2/apis/namespaced/lambda/v1beta1"
	rds "github.com/upbound/provider-aws/v2/apis/namespaced/rds/v1beta1"
	route53 "github.com/upbound/provider-aws/v2/apis/namespaced/route53/v1beta1"
	s3 "github.com/upbound/provider-aws/v2/apis/namespaced/s3/v1beta1"
	secretsmanager "github.com/upbound/provider-aws/v2/apis/namespaced/secretsmanager/v1beta1"
	sns "github.com/upbound/provider-aws/v2/apis/namespaced/sns/v1beta1"
)

func testNamespacedXR(ns, spec string) string {
	return `{"apiVersion":"pgdr.io/v1alpha1","kind":"PostgresDR","metadata":{"name":"orders","namespace":"` + ns + `"},"spec":` + spec + `}`
}

// namespacedScheme knows the namespaced provider-aws kinds, as typed Go structs.
func namespacedScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		protectionv1beta1.AddToScheme, cloudwatch.AddToScheme, cloudwatchevents.AddToScheme, cloudwatchlogs.AddToScheme, ec2.AddToScheme, iam.AddToScheme,
		kms.AddToScheme, lambda.AddToScheme, rds.AddToScheme, route53.AddToScheme, s3.AddToScheme, secretsmanager.AddToScheme, sns.AddToScheme,
	} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestNamespacedCompose converges a namespaced PostgresDR and decodes every desired resource,
// strictly (an unknown field fails), into the namespaced provider-aws type it names: the builders'
// cluster-scoped resources, moved by the namespaced flavour, are valid namespaced resources. A
// namespaced XR may compose no cluster-scoped kind (Crossplane v2.4.0 refuses it:
// "cannot apply cluster scoped composed resource", internal/controller/apiextensions/composite/
// composition_functions.go), secrets are local to the namespace (LocalSecretKeySelector, which
// has no namespace) and the provider config is named with its kind (ProviderConfigReference).
func TestNamespacedCompose(t *testing.T) {
	scheme := namespacedScheme(t)
	cases := map[string]struct {
		reason string
		spec   string
		config map[string]any
	}{
		"ClusterProviderConfig": {reason: "The default: the ClusterProviderConfig named in the Input.", spec: testSpec, config: map[string]any{"kind": "ClusterProviderConfig", "name": "aws"}},
		"ProviderConfig": {
			reason: "A ProviderConfig in the team's namespace.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"providerConfigRef":{"kind":"ProviderConfig","name":"team-aws"}}`,
			config: map[string]any{"kind": "ProviderConfig", "name": "team-aws"},
		},
		"Existing": {reason: "Existing networks, by labels too.", spec: existingSpec(""), config: map[string]any{"kind": "ClusterProviderConfig", "name": "aws"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := converge(t, testInput, testNamespacedXR("team-a", tc.spec), 0)
			rsp := runFn(t, newRequest(testInput, testNamespacedXR("team-a", tc.spec), observed))
			if len(rsp.GetResults()) > 0 {
				for _, r := range rsp.GetResults() {
					if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
						t.Fatalf("\n%s\n%s", tc.reason, r.GetMessage())
					}
				}
			}
			kinds := map[string]int{}
			for crn, r := range rsp.GetDesired().GetResources() {
				obj := r.GetResource().AsMap()
				av, _ := obj["apiVersion"].(string)
				kind, _ := obj["kind"].(string)
				if crn == string(connectionSecretResource) {
					if av != "v1" || kind != "Secret" {
						t.Errorf("%s is %s %s, want a v1 Secret", crn, av, kind)
					}
					continue
				}
				gv, err := schema.ParseGroupVersion(av)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(gv.Group, ".aws.m.upbound.io") && gv.Group != protectionv1beta1.Group {
					t.Errorf("%s is %s: not a namespaced provider-aws kind", crn, av)
				}
				if kind == protectionv1beta1.ClusterUsageKind {
					t.Errorf("%s is a ClusterUsage: a namespaced XR cannot compose a cluster-scoped kind", crn)
				}
				typed, err := scheme.New(gv.WithKind(kind))
				if err != nil {
					t.Errorf("%s: %s %s is no namespaced kind: %v", crn, av, kind, err)
					continue
				}
				b, _ := json.Marshal(obj)
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.DisallowUnknownFields()
				if err := dec.Decode(typed); err != nil {
					t.Errorf("%s does not decode strictly into %T: %v", crn, typed, err)
				}
				if kind != protectionv1beta1.UsageKind {
					if diff := cmp.Diff(tc.config, get(obj, "spec.providerConfigRef")); diff != "" {
						t.Errorf("\n%s\n%s providerConfigRef: -want, +got:\n%s", tc.reason, crn, diff)
					}
				}
				kinds[kind]++
			}
			if kinds["Usage"] == 0 || kinds["Instance"] != 2 {
				t.Errorf("\n%s\nwant Usages and 2 instances, got %v", tc.reason, kinds)
			}
		})
	}
}

// TestNamespacedNames checks that two teams' PostgresDRs of one name get different AWS names:
// AWS names are per account and region, namespaces are not.
func TestNamespacedNames(t *testing.T) {
	name := func(ns string) string {
		rsp := runFn(t, newRequest(testInput, testNamespacedXR(ns, testSpec), nil))
		for crn, r := range rsp.GetDesired().GetResources() {
			if crn == "primary-kms-alias" {
				return r.GetResource().AsMap()["metadata"].(map[string]any)["annotations"].(map[string]any)["crossplane.io/external-name"].(string) //nolint:forcetypeassert // Ours.
			}
		}
		t.Fatal("no primary-kms-alias desired")
		return ""
	}
	a, b := name("team-a"), name("team-b")
	if a == b || !strings.Contains(a, "orders") {
		t.Errorf("team-a's alias %q and team-b's %q: want different names, both of orders", a, b)
	}
}

// TestNamespacedConnectionSecret checks the composed connection Secret: named by the spec, with
// the claim's keys, and the password from the observed instance.
func TestNamespacedConnectionSecret(t *testing.T) {
	spec := `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"connectionSecretName":"orders-app"}`
	observed := converge(t, testInput, testNamespacedXR("team-a", spec), 0)
	req := newRequest(testInput, testNamespacedXR("team-a", spec), observed)
	req.Observed.Resources[string(DBInstanceName(RolePrimary))].ConnectionDetails = map[string][]byte{connPassword: []byte("pa55")}
	rsp := runFn(t, req)
	if len(rsp.GetDesired().GetComposite().GetConnectionDetails()) != 0 {
		t.Error("the XR's connection details are set: Crossplane v2 publishes none for a namespaced XR, they belong in the Secret")
	}
	cs := rsp.GetDesired().GetResources()[string(connectionSecretResource)].GetResource().AsMap()
	if got := get(cs, "metadata.name"); got != "orders-app" {
		t.Errorf("the connection Secret is named %v, want orders-app", got)
	}
	if got := cs["type"]; got != connectionSecretType {
		t.Errorf("the connection Secret's type is %v, want %s", got, connectionSecretType)
	}
	data, _ := cs["data"].(map[string]any)
	pw, _ := base64.StdEncoding.DecodeString(data[connPassword].(string)) //nolint:forcetypeassert // Base64 strings.
	if string(pw) != "pa55" {
		t.Errorf("the connection Secret's password is %q, want the instance's", pw)
	}
	if _, ok := data[connEndpoint]; !ok {
		t.Errorf("the connection Secret has no %s: %v", connEndpoint, data)
	}
}

// TestNamespacedBadInput checks the fields only a namespaced XR has.
func TestNamespacedBadInput(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   string
		want   []string
	}{
		"ClaimsProviderConfig": {"The claim's providerConfigName on a PostgresDR.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"providerConfigName":"aws"}`, []string{"spec.providerConfigName", `"aws"`, "set providerConfigRef.name"}},
		"ConfigKind":           {"An unknown provider config kind.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"providerConfigRef":{"kind":"AWSConfig","name":"aws"}}`, []string{"spec.providerConfigRef.kind", `"AWSConfig"`, `"ClusterProviderConfig"`}},
		"ConfigName":           {"A provider config name with capitals.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"providerConfigRef":{"name":"AWS"}}`, []string{"spec.providerConfigRef.name", `"AWS"`, "such as aws-prod"}},
		"SecretName":           {"A connection Secret name with an underscore.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"connectionSecretName":"orders_conn"}`, []string{"spec.connectionSecretName", `"orders_conn"`, "such as orders-db-conn"}},
		"NameBase":             {"An AWS name base that is no claim's.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"awsNameBase":"Orders_DB"}`, []string{"spec.awsNameBase", `"Orders_DB"`, "such as orders-db-d4f0ff"}},
		"RefNotObject":         {"providerConfigRef as a string.", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"providerConfigRef":"aws"}`, []string{"spec.providerConfigRef", "a string", "object"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wantFatal(t, runFn(t, newRequest(testInput, testNamespacedXR("team-a", tc.spec), nil)), tc.reason, tc.want...)
		})
	}
}

// TestNamespacedNeverLoseData checks the data-safety guard on a namespaced graph: it knows the
// namespaced stateful kinds, so a spec change that would drop them keeps them.
func TestNamespacedNeverLoseData(t *testing.T) {
	observed := converge(t, testInput, testNamespacedXR("team-a", testSpec), 0)
	o, err := observedFrom(newRequest(testInput, testNamespacedXR("team-a", testSpec), observed))
	if err != nil {
		t.Fatal(err)
	}
	var stateful []string
	for n := range o {
		if o.Stateful(n) {
			stateful = append(stateful, string(n))
		}
	}
	if len(stateful) != 6 {
		t.Fatalf("the guard knows %d observed namespaced stateful resources, want 6 (2 instances, 2 buckets, 2 keys): %v", len(stateful), stateful)
	}
	// Nothing desired: the guard keeps every observed stateful resource, as observed.
	desired := map[resource.Name]*resource.DesiredComposed{}
	kept := keepObserved(o, desired, false, nil)
	if len(kept) != 6 {
		t.Errorf("the guard kept %v, want the 6 stateful resources", kept)
	}
	for _, n := range kept {
		if av := desired[n].Resource.GetAPIVersion(); !strings.Contains(av, ".aws.m.upbound.io/") {
			t.Errorf("%s kept as %s, want its namespaced kind as observed", n, av)
		}
	}
}

// TestNamespacedAdoptsNames checks that a PostgresDR with spec.awsNameBase set to a claim's base
// gives every AWS resource the name the claim's XR gave it, so that adopting the claim's AWS
// resources names the same ones: each composed resource's external name (the AWS name of those
// provider-aws names by it) and each RDS identifier agree.
func TestNamespacedAdoptsNames(t *testing.T) {
	claimXR := testXR(testSpec)
	p := testPlan(t, testSpec)
	base := p.Names.Base
	nsXR := testNamespacedXR("team-a", `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"awsNameBase":"`+base+`"}`)
	names := func(xr string) map[string]string {
		observed := converge(t, testInput, xr, 0)
		rsp := runFn(t, newRequest(testInput, xr, observed))
		out := map[string]string{}
		for crn, r := range rsp.GetDesired().GetResources() {
			obj := r.GetResource().AsMap()
			if ext, ok := get(obj, "metadata.annotations").(map[string]any); ok {
				if n, ok := ext["crossplane.io/external-name"].(string); ok {
					out[crn] = n
				}
			}
			if id, ok := get(obj, "spec.forProvider.identifier").(string); ok {
				out[crn+" identifier"] = id
			}
		}
		return out
	}
	claim, ns := names(claimXR), names(nsXR)
	if len(claim) < 40 {
		t.Fatalf("only %d named resources in the claim's graph", len(claim))
	}
	if diff := cmp.Diff(claim, ns); diff != "" {
		t.Errorf("AWS names: -claim's XR, +PostgresDR with awsNameBase %s:\n%s", base, diff)
	}
	if without := names(testNamespacedXR("team-a", testSpec)); cmp.Equal(claim, without) {
		t.Error("without awsNameBase the PostgresDR's AWS names equal the claim's: the test proves nothing")
	}
}
