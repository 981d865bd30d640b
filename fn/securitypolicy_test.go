package fn

import (
	"encoding/json"
	"fmt"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource/composed"
)

// The only wildcards the function's policies may hold, each because AWS requires it:
//
//   - Resource "*" in a KMS key policy: there it means "this key"; a key policy cannot name its
//     key any other way.
//   - Action "kms:*" in a key policy, granted to the account's root principal only: AWS requires
//     it so that the key never becomes unmanageable, and it is what lets IAM policies (which this
//     test checks) grant the key's use at all.
//   - Resource "*" for cloudwatch:PutMetricData, which has no resource-level permissions; the
//     statement must limit it with a cloudwatch:namespace condition.
//
// The EC2 network-interface actions a VPC Lambda needs (Resource "*") come from the AWS-managed
// AWSLambdaVPCAccessExecutionRole, attached, not written; managedPolicies lists the managed
// policies a role may have.

// keyPolicyKinds are the kinds whose "policy" is a KMS key policy.
var keyPolicyKinds = map[string]bool{"kms.aws.upbound.io/Key": true, "kms.aws.upbound.io/ReplicaKey": true} //nolint:gochecknoglobals // A constant set.

// resourceWildcardActions may have Resource "*" when the statement has the condition key.
var resourceWildcardActions = map[string]string{"cloudwatch:PutMetricData": "cloudwatch:namespace"} //nolint:gochecknoglobals // A constant table.

// managedPolicies are the AWS-managed policies a role may have attached.
var managedPolicies = map[string]bool{ //nolint:gochecknoglobals // A constant set.
	"arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": true,
	"arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": true,
}

var reRootPrincipal = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:root$`)

// policyDoc is a policy document found in a resource's spec.
type policyDoc struct {
	resource, kind, path string
	doc                  map[string]any
}

// findPolicies returns every policy document (a JSON object with a Statement) in the spec of a
// composed resource, wherever the provider keeps it (Role.assumeRolePolicy, RolePolicy.policy,
// Role.inlinePolicy[].policy, BucketPolicy.policy, Key.policy...).
func findPolicies(name string, obj map[string]any) []policyDoc {
	group := strings.SplitN(fmt.Sprint(obj["apiVersion"]), "/", 2)[0]
	kind := group + "/" + fmt.Sprint(obj["kind"])
	var out []policyDoc
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			s := strings.TrimSpace(t)
			if !strings.HasPrefix(s, "{") {
				return
			}
			doc := map[string]any{}
			if json.Unmarshal([]byte(s), &doc) == nil {
				if _, ok := doc["Statement"]; ok {
					out = append(out, policyDoc{resource: name, kind: kind, path: path, doc: doc})
				}
			}
		}
	}
	if spec, ok := obj["spec"].(map[string]any); ok {
		walk("spec", spec)
	}
	return out
}

// list reads a policy element that may be a string or a list of strings.
func list(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// checkPolicy returns what is wrong with a policy document.
func checkPolicy(pd policyDoc) []string {
	var problems []string
	bad := func(i int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s (%s) %s statement %d: %s", pd.resource, pd.kind, pd.path, i, fmt.Sprintf(format, args...)))
	}
	var statements []map[string]any
	switch s := pd.doc["Statement"].(type) {
	case map[string]any:
		statements = []map[string]any{s}
	case []any:
		for _, e := range s {
			m, _ := e.(map[string]any)
			statements = append(statements, m)
		}
	}
	keyPolicy := keyPolicyKinds[pd.kind] && strings.HasSuffix(pd.path, "forProvider.policy")
	for i, st := range statements {
		if st == nil {
			bad(i, "not an object")
			continue
		}
		for _, inverted := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := st[inverted]; ok {
				bad(i, "%s grants everything it does not list", inverted)
			}
		}
		if st["Effect"] != Allow {
			continue // A Deny may be as wide as it likes.
		}
		root := false
		if pr, ok := st["Principal"].(map[string]any); ok {
			for _, p := range list(pr["AWS"]) {
				if p == "*" {
					bad(i, "allows any AWS principal")
				}
				root = reRootPrincipal.MatchString(p) && len(pr) == 1 && len(list(pr["AWS"])) == 1
			}
		} else if st["Principal"] == "*" {
			bad(i, "allows any principal")
		}
		actions := list(st["Action"])
		if len(actions) == 0 {
			bad(i, "has no Action")
		}
		for _, a := range actions {
			if strings.Contains(a, "*") && !(keyPolicy && root && a == "kms:*") {
				bad(i, "wildcard action %q", a)
			}
		}
		for _, r := range list(st["Resource"]) {
			if r != "*" || keyPolicy {
				continue
			}
			cond, _ := st["Condition"].(map[string]any)
			for _, a := range actions {
				key, ok := resourceWildcardActions[a]
				if !ok {
					bad(i, "Resource \"*\" for %s, which AWS lets a policy name resources for", a)
					continue
				}
				if !hasConditionKey(cond, key) {
					bad(i, "Resource \"*\" for %s without a %s condition", a, key)
				}
			}
		}
	}
	return problems
}

func hasConditionKey(cond map[string]any, key string) bool {
	for _, op := range cond {
		if m, ok := op.(map[string]any); ok {
			if _, ok := m[key]; ok {
				return true
			}
		}
	}
	return false
}

// checkResources checks every policy document and attached managed policy of the resources and
// returns the problems and how many documents of each kind and path it read.
func checkResources(resources map[string]map[string]any) ([]string, map[string]int) {
	var problems []string
	seen := map[string]int{}
	for _, name := range slices.Sorted(maps.Keys(resources)) {
		obj := resources[name]
		for _, pd := range findPolicies(name, obj) {
			seen[pd.kind+" "+pd.path]++
			problems = append(problems, checkPolicy(pd)...)
		}
		spec, _ := obj["spec"].(map[string]any)
		fp, _ := spec["forProvider"].(map[string]any)
		for _, arn := range append(list(fp["policyArn"]), list(fp["managedPolicyArns"])...) {
			if !managedPolicies[arn] {
				problems = append(problems, fmt.Sprintf("%s attaches %s, which is not an allowed AWS-managed policy", name, arn))
			}
		}
		if obj["kind"] == "Permission" && strings.Contains(fmt.Sprint(fp["action"]), "*") {
			problems = append(problems, fmt.Sprintf("%s grants wildcard action %v", name, fp["action"]))
		}
	}
	return problems, seen
}

func TestCheckPolicy(t *testing.T) {
	root := map[string]any{"AWS": "arn:aws:iam::123456789012:root"}
	st := func(s Statement) map[string]any {
		b, _ := json.Marshal(Policy(s))
		m := map[string]any{}
		_ = json.Unmarshal(b, &m)
		return m
	}
	cases := map[string]struct {
		reason string
		kind   string
		path   string
		doc    map[string]any
		want   int
	}{
		"Scoped": {
			reason: "Named actions on named resources pass.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc: st(Statement{Effect: Allow, Action: []string{"sns:Publish"}, Resource: []string{"arn:aws:sns:us-east-2:1:t"}}),
		},
		"Star": {
			reason: "Action * fails.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Action: []string{"*"}, Resource: []string{"arn:aws:sns:us-east-2:1:t"}}),
			want: 1,
		},
		"ServiceStar": {
			reason: "service:* fails.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Action: []string{"s3:*"}, Resource: []string{"arn:aws:s3:::b"}}),
			want: 1,
		},
		"PartialStar": {
			reason: "A prefix wildcard such as s3:Get* fails too.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Action: []string{"s3:Get*"}, Resource: []string{"arn:aws:s3:::b"}}),
			want: 1,
		},
		"ResourceStar": {
			reason: "Resource * for an action that can name resources fails.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Action: []string{"rds:PromoteReadReplica"}, Resource: []string{"*"}}),
			want: 1,
		},
		"PutMetricDataWithNamespace": {
			reason: "PutMetricData on * limited by namespace is the documented exception.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc: st(Statement{Effect: Allow, Action: []string{"cloudwatch:PutMetricData"}, Resource: []string{"*"},
				Condition: map[string]map[string]any{"StringEquals": {"cloudwatch:namespace": "PostgresDR"}}}),
		},
		"PutMetricDataUnlimited": {
			reason: "PutMetricData on * without the namespace condition fails.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Action: []string{"cloudwatch:PutMetricData"}, Resource: []string{"*"}}),
			want: 1,
		},
		"KeyPolicyRoot": {
			reason: "A key policy's root statement with kms:* on * is what AWS requires.",
			kind:   "kms.aws.upbound.io/Key", path: "spec.forProvider.policy",
			doc: st(Statement{Effect: Allow, Principal: root, Action: []string{"kms:*"}, Resource: []string{"*"}}),
		},
		"KeyPolicyOtherPrincipal": {
			reason: "kms:* for anyone but the account root fails, even in a key policy.",
			kind:   "kms.aws.upbound.io/ReplicaKey", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Principal: map[string]any{"Service": "sns.amazonaws.com"}, Action: []string{"kms:*"}, Resource: []string{"*"}}),
			want: 1,
		},
		"KmsStarOutsideKeyPolicy": {
			reason: "kms:* for root outside a key policy fails.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Principal: root, Action: []string{"kms:*"}, Resource: []string{"*"}}),
			want: 2,
		},
		"AnyPrincipal": {
			reason: "Allowing any AWS principal fails.",
			kind:   "s3.aws.upbound.io/BucketPolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Allow, Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}}),
			want: 1,
		},
		"DenyAnyPrincipal": {
			reason: "A Deny for any principal (insecure transport) passes.",
			kind:   "s3.aws.upbound.io/BucketPolicy", path: "spec.forProvider.policy",
			doc:  st(Statement{Effect: Deny, Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}}),
			want: 0,
		},
		"NotAction": {
			reason: "NotAction fails: it grants everything it does not list.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}}},
			want: 1,
		},
		"StringForms": {
			reason: "Single strings instead of lists are read too.",
			kind:   "iam.aws.upbound.io/RolePolicy", path: "spec.forProvider.policy",
			doc:  map[string]any{"Statement": map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}},
			want: 2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkPolicy(policyDoc{resource: "r", kind: tc.kind, path: tc.path, doc: tc.doc})
			if len(got) != tc.want {
				t.Errorf("\n%s\ngot %d problems, want %d:\n%s", tc.reason, len(got), tc.want, strings.Join(got, "\n"))
			}
		})
	}
}

// policyKinds are the policy documents the function must write, so that the check below cannot
// pass by reading nothing.
var policyKinds = []string{ //nolint:gochecknoglobals // A constant list.
	"iam.aws.upbound.io/Role spec.forProvider.assumeRolePolicy",
	"iam.aws.upbound.io/RolePolicy spec.forProvider.policy",
	"kms.aws.upbound.io/Key spec.forProvider.policy",
	"kms.aws.upbound.io/ReplicaKey spec.forProvider.policy",
}

// TestNoWildcardPolicies parses every policy document the function desires, on the first pass
// and once everything is observed, in each failover state, and fails on a wildcard outside the
// allow-list above.
func TestNoWildcardPolicies(t *testing.T) {
	const regions = `"regions":{"primary":"us-east-1","dr":"us-east-2"}`
	cases := map[string]struct {
		reason  string
		spec    string
		passes  int // -1: nothing observed; 0: converged
		promote bool
		want    []string
	}{
		"FirstPass":           {"Nothing observed: roles and the primary key's policy.", `{` + regions + `}`, -1, false, nil},
		"ConvergedAutomatic":  {"Everything observed, automatic failover.", `{` + regions + `,"failover":{"mode":"Automatic"},"monitoring":{"notificationEmails":["dba@example.com"]}}`, 0, false, policyKinds},
		"ConvergedManual":     {"Everything observed, manual failover.", `{` + regions + `}`, 0, false, policyKinds},
		"ConvergedExistZone":  {"Everything observed, records in an existing zone.", `{` + regions + `,"failover":{"mode":"Automatic","zoneID":"Z0EXISTING1"}}`, 0, false, nil},
		"ConvergedSwitchover": {"Everything observed after a planned switchover.", `{` + regions + `,"activeRegion":"us-east-2","failover":{"mode":"Automatic"}}`, 0, false, policyKinds},
		"ConvergedPromoted":   {"Everything observed, then the replica promoted out of band.", `{` + regions + `,"failover":{"mode":"Automatic"}}`, 0, true, policyKinds},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := observedAfter(t, tc.spec, tc.passes, tc.promote)
			rsp := runFn(t, newRequest(testInput, testXR(tc.spec), observed))
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() != fnv1.Severity_SEVERITY_NORMAL {
					t.Fatalf("\n%s\nunexpected results: %v", tc.reason, rsp.GetResults())
				}
			}
			resources := map[string]map[string]any{}
			for n, r := range rsp.GetDesired().GetResources() {
				resources[n] = r.GetResource().AsMap()
			}
			problems, seen := checkResources(resources)
			for _, p := range problems {
				t.Errorf("\n%s\n%s", tc.reason, p)
			}
			if len(seen) == 0 {
				t.Errorf("\n%s\nno policy documents found in %d desired resources", tc.reason, len(resources))
			}
			for _, k := range tc.want {
				if seen[k] == 0 {
					t.Errorf("\n%s\nno %s in the output: is every builder wired into RunFunction?", tc.reason, k)
				}
			}
			t.Logf("%s: checked %v", name, seen)
		})
	}
}

// observedAfter returns what is observed of the XR with the spec after passes reconciles (every
// resource ready with passes 0, nothing with passes < 0), with the DR replica promoted out of
// band when promoted.
func observedAfter(t *testing.T, spec string, passes int, promoted bool) map[string]string {
	t.Helper()
	if passes < 0 {
		return nil
	}
	observed := converge(t, testInput, testXR(spec), passes)
	if promoted {
		observed[string(DBInstanceName(RoleDR))] = promote(t, observed[string(DBInstanceName(RoleDR))])
	}
	return observed
}

// promote returns an observed replica (JSON) as provider-aws reports it once promoted: without
// a replication source.
func promote(t *testing.T, replica string) string {
	t.Helper()
	obj := map[string]any{}
	if err := json.Unmarshal([]byte(replica), &obj); err != nil {
		t.Fatalf("cannot read the observed replica: %v", err)
	}
	at, _ := obj["status"].(map[string]any)["atProvider"].(map[string]any)
	if _, ok := at["replicateSourceDb"]; !ok {
		t.Fatal("the observed replica has no replication source to drop")
	}
	delete(at, "replicateSourceDb")
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNoWildcardPoliciesBuilders checks the monitoring, DNS and Lambda builders' output on its
// own in every failover state, so that their policies are checked however RunFunction wires them.
func TestNoWildcardPoliciesBuilders(t *testing.T) {
	for _, mode := range []string{"Automatic", "Manual"} {
		p := testPlan(t, strings.Replace(builderSpec, "Automatic", mode, 1))
		for state, promoted := range map[string]bool{"Replicating": false, "PromotedOutOfBand": true} {
			t.Run(mode+"/"+state, func(t *testing.T) {
				observed := dataLayer(t, p, promoted)
				d, _ := settle(t, p, observed, lambdaBuild(t, p, DetectFailover(p, observed)))
				resources := map[string]map[string]any{}
				for _, n := range d.Order {
					cd, err := composed.From(d.Resources[n])
					if err != nil {
						t.Fatal(err)
					}
					resources[string(n)] = cd.Object
				}
				problems, seen := checkResources(resources)
				for _, pr := range problems {
					t.Error(pr)
				}
				for _, k := range []string{"iam.aws.upbound.io/Role spec.forProvider.assumeRolePolicy", "iam.aws.upbound.io/RolePolicy spec.forProvider.policy"} {
					if seen[k] != 2 {
						t.Errorf("found %d documents of %s, want one per Lambda (2)", seen[k], k)
					}
				}
			})
		}
	}
}
