package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/rego"
	"sigs.k8s.io/yaml"
)

// policyQuery reads what the security policy (policy/*.rego, package pgdr.security) decides about
// one render.
const policyQuery = `deny := data.pgdr.security.deny
waived := data.pgdr.security.waived
checked := data.pgdr.security.checked
documents := data.pgdr.security.document_kinds`

// preparedPolicy compiles the policy once, in strict mode, for every test of this file.
var preparedPolicy = sync.OnceValues(func() (rego.PreparedEvalQuery, error) { //nolint:gochecknoglobals // Compiled once.
	return rego.New(
		rego.Query(policyQuery),
		rego.Load([]string{"policy"}, nil),
		rego.Strict(true),
	).PrepareForEval(context.Background())
})

// convergedGoldens are the renders of a converged XR: nothing is awaited there, so the policy
// must hold in full, with nothing waived.
var convergedGoldens = []string{"ready", "promoted", "switchover", "existing-ready", "namespaced-ready", "namespaced-promoted"} //nolint:gochecknoglobals // A constant list.

// requiredDocuments are the policy documents a converged render holds, so that the policy cannot
// pass by reading none of them.
var requiredDocuments = []string{ //nolint:gochecknoglobals // A constant list.
	"iam.aws.upbound.io/Role spec.forProvider.assumeRolePolicy",
	"iam.aws.upbound.io/RolePolicy spec.forProvider.policy",
	"kms.aws.upbound.io/Key spec.forProvider.policy",
	"kms.aws.upbound.io/ReplicaKey spec.forProvider.policy",
	"s3.aws.upbound.io/BucketPolicy spec.forProvider.policy",
}

// verdict is what the policy decided about one render.
type verdict struct {
	deny, waived, documents []string
	checked                 map[string]int
}

// evalPolicy evaluates the policy over a render: the XR first, then the composed resources.
func evalPolicy(t testing.TB, render []map[string]any) verdict {
	t.Helper()
	pq, err := preparedPolicy()
	if err != nil {
		t.Fatalf("cannot compile policy/: %v", err)
	}
	if len(render) == 0 || (render[0]["kind"] != "XPostgresDR" && render[0]["kind"] != "PostgresDR") {
		t.Fatal("a render starts with the XR")
	}
	input := map[string]any{"xr": render[0], "resources": render[1:]}
	rs, err := pq.Eval(context.Background(), rego.EvalInput(input))
	if err != nil {
		t.Fatalf("cannot evaluate policy: %v", err)
	}
	if len(rs) != 1 {
		t.Fatalf("policy query has %d results, want 1", len(rs))
	}
	b := rs[0].Bindings
	v := verdict{deny: strs(t, b["deny"]), waived: strs(t, b["waived"]), documents: strs(t, b["documents"]), checked: map[string]int{}}
	counts, ok := b["checked"].(map[string]any)
	if !ok {
		t.Fatalf("checked is %T, want an object", b["checked"])
	}
	for k, n := range counts {
		var i int
		if _, err := fmt.Sscan(fmt.Sprint(n), &i); err != nil {
			t.Fatalf("checked[%q] = %v: %v", k, n, err)
		}
		v.checked[k] = i
	}
	return v
}

// strs reads a set of strings from a binding, sorted.
func strs(t testing.TB, v any) []string {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("binding is %T, want a set", v)
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	slices.Sort(out)
	return out
}

// reDocSep separates the documents of a multi-document YAML file.
var reDocSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// renders caches the documents of each golden render, as JSON.
var renders sync.Map //nolint:gochecknoglobals // A cache.

// readRender reads a golden render (multi-document YAML) into fresh objects, which a test may
// change.
func readRender(t testing.TB, file string) []map[string]any {
	t.Helper()
	docs, ok := renders.Load(file)
	if !ok {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var js [][]byte
		for _, doc := range reDocSep.Split(string(b), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatalf("cannot read %s: %v", file, err)
			}
			js = append(js, j)
		}
		docs, _ = renders.LoadOrStore(file, js)
	}
	var out []map[string]any
	for _, j := range docs.([][]byte) { //nolint:forcetypeassert // Stored above.
		obj := map[string]any{}
		if err := json.Unmarshal(j, &obj); err != nil {
			t.Fatalf("cannot read %s: %v", file, err)
		}
		out = append(out, obj)
	}
	return out
}

// TestSecurityPolicy evaluates the security policy over every golden render, each state of the
// example: no deny, nothing waived once converged, and something read of every kind it checks.
func TestSecurityPolicy(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	total := map[string]int{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		names = append(names, name)
		t.Run(name, func(t *testing.T) {
			v := evalPolicy(t, readRender(t, f))
			for _, d := range v.deny {
				t.Errorf("deny: %s", d)
			}
			converged := slices.Contains(convergedGoldens, name)
			if converged && len(v.waived) > 0 {
				t.Errorf("a converged render awaits nothing, yet the policy waived: %v", v.waived)
			}
			for _, k := range []string{"IAM policy documents", "S3 buckets", "security group ingress rules", "XR status fields"} {
				if v.checked[k] == 0 {
					t.Errorf("checked no %s: does the policy still read this render?", k)
				}
			}
			if converged {
				// A namespaced render's documents are the same, in the *.aws.m.upbound.io groups.
				docs := make([]string, 0, len(v.documents))
				for _, d := range v.documents {
					docs = append(docs, strings.Replace(d, ".aws.m.upbound.io/", ".aws.upbound.io/", 1))
				}
				for _, k := range requiredDocuments {
					if !slices.Contains(docs, k) {
						t.Errorf("no %s among the policy documents checked %v", k, v.documents)
					}
				}
			}
			for k, n := range v.checked {
				total[k] += n
			}
			t.Logf("checked %v; waived %v", v.checked, v.waived)
		})
	}
	for _, want := range append([]string{"first-pass", "pass2", "pass3"}, convergedGoldens...) {
		if !slices.Contains(names, want) {
			t.Errorf("no golden render %s.yaml in testdata/golden", want)
		}
	}
	for k, n := range total {
		if n == 0 {
			t.Errorf("no golden render has any %s: the policy's rules on them never ran", k)
		}
	}
}

// resourceIndex is the index in a render of the composed resource with a composition-resource
// name.
func resourceIndex(t *testing.T, render []map[string]any, name string) int {
	t.Helper()
	for i, r := range render {
		if ann, ok := r["metadata"].(map[string]any)["annotations"].(map[string]any); ok && ann["crossplane.io/composition-resource-name"] == name {
			return i
		}
	}
	t.Fatalf("no composed resource %s in the render", name)
	return -1
}

// resourceNamed returns the composed resource of a render with a composition-resource name.
func resourceNamed(t *testing.T, render []map[string]any, name string) map[string]any {
	t.Helper()
	return render[resourceIndex(t, render, name)]
}

// forProvider returns spec.forProvider of a composed resource.
func forProvider(t *testing.T, render []map[string]any, name string) map[string]any {
	t.Helper()
	fp, ok := resourceNamed(t, render, name)["spec"].(map[string]any)["forProvider"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no spec.forProvider", name)
	}
	return fp
}

// withoutResource returns the render without a composed resource.
func withoutResource(t *testing.T, render []map[string]any, name string) []map[string]any {
	t.Helper()
	i := resourceIndex(t, render, name)
	return slices.Delete(render, i, i+1)
}

// editStatements edits the statements of the JSON policy document in a forProvider field.
func editStatements(t *testing.T, render []map[string]any, name, field string, edit func(sts []map[string]any)) {
	t.Helper()
	fp := forProvider(t, render, name)
	doc := struct {
		Version   string           `json:"Version"`
		Statement []map[string]any `json:"Statement"`
	}{}
	if err := json.Unmarshal([]byte(fmt.Sprint(fp[field])), &doc); err != nil {
		t.Fatalf("%s.%s is not a policy document: %v", name, field, err)
	}
	edit(doc.Statement)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	fp[field] = string(b)
}

// TestSecurityPolicyCatches breaks a copy of a golden render, one thing at a time, and checks the
// policy denies exactly that: the policy can fail, and says where and why.
func TestSecurityPolicyCatches(t *testing.T) {
	type render = []map[string]any
	cases := map[string]struct {
		reason string
		golden string // ready unless set
		mutate func(t *testing.T, r render) render
		want   []string
	}{
		"IngressFromAnywhere": {
			reason: "PostgreSQL open to the internet is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "primary-sgr-database-pg-vpc")["cidrIpv4"] = "0.0.0.0/0"
				return r
			},
			want: []string{"primary-sgr-database-pg-vpc (ec2.aws.upbound.io/SecurityGroupIngressRule) ec2-open-ingress: cidrIpv4 is 0.0.0.0/0: ingress from anywhere"},
		},
		"IngressFromAnywhereIPv6": {
			reason: "::/0 is anywhere too.",
			mutate: func(t *testing.T, r render) render {
				fp := forProvider(t, r, "dr-sgr-endpoints-https-vpc")
				delete(fp, "cidrIpv4")
				fp["cidrIpv6"] = "::/0"
				return r
			},
			want: []string{"dr-sgr-endpoints-https-vpc (ec2.aws.upbound.io/SecurityGroupIngressRule) ec2-open-ingress: cidrIpv6 is ::/0: ingress from anywhere"},
		},
		"PubliclyAccessible": {
			reason: "A public database is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "primary-db-instance")["publiclyAccessible"] = true
				return r
			},
			want: []string{"primary-db-instance (rds.aws.upbound.io/Instance) rds-publicly-accessible: spec.forProvider.publiclyAccessible is true, want false"},
		},
		"UnencryptedReplica": {
			reason: "An unencrypted (here: unset) replica is denied.",
			mutate: func(t *testing.T, r render) render {
				delete(forProvider(t, r, "dr-db-instance"), "storageEncrypted")
				return r
			},
			want: []string{"dr-db-instance (rds.aws.upbound.io/Instance) rds-storage-encrypted: spec.forProvider.storageEncrypted is null, want true"},
		},
		"NoDeletionProtection": {
			reason: "The XR asks for deletion protection; an instance without it is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "primary-db-instance")["deletionProtection"] = false
				return r
			},
			want: []string{"primary-db-instance (rds.aws.upbound.io/Instance) rds-deletion-protection: spec.forProvider.deletionProtection is false, want true: the XR's spec.deletionProtection is not false, and spec.retireInstance does not name it"},
		},
		"DeletionProtectionOff": {
			reason: "With the XR's spec.deletionProtection false, an instance without it passes.",
			mutate: func(t *testing.T, r render) render {
				r[0]["spec"].(map[string]any)["deletionProtection"] = false //nolint:forcetypeassert // The golden's XR.
				forProvider(t, r, "primary-db-instance")["deletionProtection"] = false
				return r
			},
		},
		"ReplicaFinalSnapshot": {
			reason: "A read replica that names a final snapshot cannot be deleted.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "dr-db-instance")["finalSnapshotIdentifier"] = "dr-final"
				return r
			},
			want: []string{"dr-db-instance (rds.aws.upbound.io/Instance) rds-replica-final-snapshot: a read replica must skip the final snapshot and name none: RDS refuses to delete it otherwise"},
		},
		"SkipFinalSnapshot": {
			reason: "Deleting without a final snapshot is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "primary-db-instance")["skipFinalSnapshot"] = true
				return r
			},
			want: []string{"primary-db-instance (rds.aws.upbound.io/Instance) rds-skip-final-snapshot: spec.forProvider.skipFinalSnapshot is true, want false"},
		},
		"TLSNotForced": {
			reason: "A parameter group with rds.force_ssl 0 fails the instance that uses it.",
			mutate: func(t *testing.T, r render) render {
				for _, p := range forProvider(t, r, "dr-db-parameter-group")["parameter"].([]any) { //nolint:forcetypeassert // The golden's.
					if p := p.(map[string]any); p["name"] == "rds.force_ssl" { //nolint:forcetypeassert // The golden's.
						p["value"] = "0"
					}
				}
				return r
			},
			want: []string{"dr-db-instance (rds.aws.upbound.io/Instance) rds-force-ssl: its parameter group dr-db-parameter-group does not set rds.force_ssl = 1"},
		},
		"UnknownParameterGroup": {
			reason: "An instance whose parameter group cannot be read is denied.",
			mutate: func(t *testing.T, r render) render {
				fp := forProvider(t, r, "primary-db-instance")
				delete(fp, "parameterGroupNameSelector")
				fp["parameterGroupName"] = "default.postgres16"
				return r
			},
			want: []string{"primary-db-instance (rds.aws.upbound.io/Instance) rds-force-ssl: no parameterGroupNameSelector selects a composed ParameterGroup, so rds.force_ssl = 1 cannot be verified"},
		},
		"ServiceStarAction": {
			reason: "s3:* in a role policy is denied.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "dr-lambda-failover-policy", "policy", func(sts []map[string]any) {
					sts[0]["Action"] = append(sts[0]["Action"].([]any), "s3:*") //nolint:forcetypeassert // The golden's.
				})
				return r
			},
			want: []string{`dr-lambda-failover-policy (iam.aws.upbound.io/RolePolicy) iam-wildcard-action: spec.forProvider.policy statement 0: wildcard action "s3:*"`},
		},
		"StarActionAndResource": {
			reason: "Action * on Resource * (a single string each) is denied twice over.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "primary-backup-replication-policy", "policy", func(sts []map[string]any) {
					sts[1]["Action"], sts[1]["Resource"] = "*", "*"
				})
				return r
			},
			want: []string{
				`primary-backup-replication-policy (iam.aws.upbound.io/RolePolicy) iam-wildcard-action: spec.forProvider.policy statement 1: wildcard action "*"`,
				`primary-backup-replication-policy (iam.aws.upbound.io/RolePolicy) iam-wildcard-resource: spec.forProvider.policy statement 1: Resource "*" for *, which AWS lets a policy name resources for`,
			},
		},
		"PutMetricDataUnlimited": {
			reason: "cloudwatch:PutMetricData on * is allowed only with the namespace condition.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "dr-lambda-replication-lag-policy", "policy", func(sts []map[string]any) {
					delete(sts[0], "Condition")
				})
				return r
			},
			want: []string{`dr-lambda-replication-lag-policy (iam.aws.upbound.io/RolePolicy) iam-wildcard-resource: spec.forProvider.policy statement 0: Resource "*" for cloudwatch:PutMetricData without a cloudwatch:namespace condition`},
		},
		"KeyAdministeredByService": {
			reason: "kms:* in a key policy is allowed for the account root only.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "primary-kms-key", "policy", func(sts []map[string]any) {
					sts[0]["Principal"] = map[string]any{"Service": "sns.amazonaws.com"}
				})
				return r
			},
			want: []string{`primary-kms-key (kms.aws.upbound.io/Key) iam-wildcard-action: spec.forProvider.policy statement 0: wildcard action "kms:*"`},
		},
		"AssumableByAnyone": {
			reason: "A role anyone may assume is denied.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "dr-lambda-failover-role", "assumeRolePolicy", func(sts []map[string]any) {
					sts[0]["Principal"] = map[string]any{"AWS": "*"}
				})
				return r
			},
			want: []string{"dr-lambda-failover-role (iam.aws.upbound.io/Role) iam-any-principal: spec.forProvider.assumeRolePolicy statement 0: allows any principal"},
		},
		"NotAction": {
			reason: "NotAction grants everything it does not list.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "dr-lambda-failover-policy", "policy", func(sts []map[string]any) {
					sts[3]["NotAction"] = sts[3]["Action"]
					delete(sts[3], "Action")
				})
				return r
			},
			want: []string{
				"dr-lambda-failover-policy (iam.aws.upbound.io/RolePolicy) iam-inverted-element: spec.forProvider.policy statement 3: NotAction grants everything it does not list",
				"dr-lambda-failover-policy (iam.aws.upbound.io/RolePolicy) iam-no-action: spec.forProvider.policy statement 3: has no Action",
			},
		},
		"AdministratorAccess": {
			reason: "Only the allow-listed AWS-managed policies may be attached.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "dr-db-monitoring-policy")["policyArn"] = "arn:aws:iam::aws:policy/AdministratorAccess"
				return r
			},
			want: []string{"dr-db-monitoring-policy (iam.aws.upbound.io/RolePolicyAttachment) iam-managed-policy: attaches arn:aws:iam::aws:policy/AdministratorAccess, which is not an allowed AWS-managed policy"},
		},
		"InvokeAnything": {
			reason: "A Lambda permission with a wildcard action is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "dr-lambda-failover-alarm-permission")["action"] = "lambda:*"
				return r
			},
			want: []string{`dr-lambda-failover-alarm-permission (lambda.aws.upbound.io/Permission) lambda-permission-wildcard: grants wildcard action "lambda:*"`},
		},
		"NoPublicAccessBlock": {
			reason: "A bucket without its public access block is denied.",
			mutate: func(t *testing.T, r render) render {
				return withoutResource(t, r, "primary-backup-bucket-public-access-block")
			},
			want: []string{"primary-backup-bucket (s3.aws.upbound.io/Bucket) s3-public-access-block: no BucketPublicAccessBlock selects it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true"},
		},
		"PublicPolicyAllowed": {
			reason: "A public access block with one flag off is denied, and does not count for its bucket.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "dr-backup-bucket-public-access-block")["blockPublicPolicy"] = false
				return r
			},
			want: []string{
				"dr-backup-bucket (s3.aws.upbound.io/Bucket) s3-public-access-block: no BucketPublicAccessBlock selects it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true",
				"dr-backup-bucket-public-access-block (s3.aws.upbound.io/BucketPublicAccessBlock) s3-public-access-block: blockPublicPolicy is false, want true",
			},
		},
		"NoEncryption": {
			reason: "A converged bucket without its encryption configuration is denied: nothing is awaited.",
			mutate: func(t *testing.T, r render) render {
				return withoutResource(t, r, "dr-backup-bucket-encryption")
			},
			want: []string{"dr-backup-bucket (s3.aws.upbound.io/Bucket) s3-encryption: no BucketServerSideEncryptionConfiguration selects it with aws:kms, a KMS key and bucketKeyEnabled true, and status.waitingFor does not say its encryption is awaited"},
		},
		"AES256": {
			reason: "SSE-S3 instead of SSE-KMS is denied.",
			mutate: func(t *testing.T, r render) render {
				rule := forProvider(t, r, "primary-backup-bucket-encryption")["rule"].([]any)[0].(map[string]any) //nolint:forcetypeassert // The golden's.
				rule["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "AES256"}
				return r
			},
			want: []string{
				"primary-backup-bucket (s3.aws.upbound.io/Bucket) s3-encryption: no BucketServerSideEncryptionConfiguration selects it with aws:kms, a KMS key and bucketKeyEnabled true, and status.waitingFor does not say its encryption is awaited",
				"primary-backup-bucket-encryption (s3.aws.upbound.io/BucketServerSideEncryptionConfiguration) s3-encryption: every rule must apply sseAlgorithm aws:kms with a KMS key and bucketKeyEnabled true",
			},
		},
		"NoBucketKey": {
			reason: "SSE-KMS without bucket keys is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "dr-backup-bucket-encryption")["rule"].([]any)[0].(map[string]any)["bucketKeyEnabled"] = false //nolint:forcetypeassert // The golden's.
				return r
			},
			want: []string{
				"dr-backup-bucket (s3.aws.upbound.io/Bucket) s3-encryption: no BucketServerSideEncryptionConfiguration selects it with aws:kms, a KMS key and bucketKeyEnabled true, and status.waitingFor does not say its encryption is awaited",
				"dr-backup-bucket-encryption (s3.aws.upbound.io/BucketServerSideEncryptionConfiguration) s3-encryption: every rule must apply sseAlgorithm aws:kms with a KMS key and bucketKeyEnabled true",
			},
		},
		"EncryptionAwaitedFirstPass": {
			reason: "On the first pass the DR bucket's encryption waits for the DR key, as status.waitingFor says: passes.",
			golden: "first-pass",
			mutate: func(_ *testing.T, r render) render { return r },
		},
		"EncryptionNotAwaited": {
			reason: "The same first pass, had the function not said it awaits the DR key: denied.",
			golden: "first-pass",
			mutate: func(t *testing.T, r render) render {
				st := r[0]["status"].(map[string]any)                                             //nolint:forcetypeassert // The golden's XR.
				st["waitingFor"] = slices.DeleteFunc(st["waitingFor"].([]any), func(w any) bool { //nolint:forcetypeassert // The golden's XR.
					return strings.Contains(fmt.Sprint(w), "to encrypt the DR backup bucket")
				})
				return r
			},
			want: []string{"dr-backup-bucket (s3.aws.upbound.io/Bucket) s3-encryption: no BucketServerSideEncryptionConfiguration selects it with aws:kms, a KMS key and bucketKeyEnabled true, and status.waitingFor does not say its encryption is awaited"},
		},
		"PlainHTTPAllowed": {
			reason: "A bucket policy without the TLS condition does not make the bucket TLS-only.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "primary-backup-bucket-policy", "policy", func(sts []map[string]any) {
					delete(sts[0], "Condition")
				})
				return r
			},
			want: []string{"primary-backup-bucket (s3.aws.upbound.io/Bucket) s3-tls-only: no BucketPolicy selects it that denies object access to any principal on the bucket and its objects when aws:SecureTransport is false"},
		},
		"TLSPolicyListsActions": {
			reason: "A TLS-only statement that lists actions leaves the others (GetObjectVersion, ListBucketVersions...) open over plain HTTP: it must deny s3:*.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "primary-backup-bucket-policy", "policy", func(sts []map[string]any) {
					sts[0]["Action"] = []any{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
				})
				return r
			},
			want: []string{"primary-backup-bucket (s3.aws.upbound.io/Bucket) s3-tls-only: no BucketPolicy selects it that denies object access to any principal on the bucket and its objects when aws:SecureTransport is false"},
		},
		"TLSPolicyOnBucketOnly": {
			reason: "A TLS-only statement that leaves the objects out is not enough.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "dr-backup-bucket-policy", "policy", func(sts []map[string]any) {
					sts[0]["Resource"] = sts[0]["Resource"].([]any)[:1] //nolint:forcetypeassert // The golden's.
				})
				return r
			},
			want: []string{"dr-backup-bucket (s3.aws.upbound.io/Bucket) s3-tls-only: no BucketPolicy selects it that denies object access to any principal on the bucket and its objects when aws:SecureTransport is false"},
		},
		"PublicRead": {
			reason: "A bucket policy that allows anyone to read is denied, even beside the TLS statement.",
			mutate: func(t *testing.T, r render) render {
				editStatements(t, r, "primary-backup-bucket-policy", "policy", func(sts []map[string]any) {
					sts[0]["Effect"] = "Allow"
				})
				return r
			},
			want: []string{
				"primary-backup-bucket (s3.aws.upbound.io/Bucket) s3-tls-only: no BucketPolicy selects it that denies object access to any principal on the bucket and its objects when aws:SecureTransport is false",
				"primary-backup-bucket-policy (s3.aws.upbound.io/BucketPolicy) iam-any-principal: spec.forProvider.policy statement 0: allows any principal",
				`primary-backup-bucket-policy (s3.aws.upbound.io/BucketPolicy) iam-wildcard-action: spec.forProvider.policy statement 0: wildcard action "s3:*"`,
			},
		},
		"ForceDestroy": {
			reason: "A bucket that deletion would empty is denied.",
			mutate: func(t *testing.T, r render) render {
				forProvider(t, r, "dr-backup-bucket")["forceDestroy"] = true
				return r
			},
			want: []string{"dr-backup-bucket (s3.aws.upbound.io/Bucket) s3-force-destroy: spec.forProvider.forceDestroy is true, want false: deleting the XR must not empty the backups"},
		},
		"UnencryptedTopicAndLogs": {
			reason: "A topic and a log group without the pair's key are denied.",
			mutate: func(t *testing.T, r render) render {
				delete(forProvider(t, r, "primary-sns-topic"), "kmsMasterKeyId")
				delete(forProvider(t, r, "dr-lambda-failover-logs"), "kmsKeyId")
				return r
			},
			want: []string{
				"dr-lambda-failover-logs (cloudwatchlogs.aws.upbound.io/Group) logs-kms: spec.forProvider has no kmsKeyId (nor a reference or selector for one): the log group must be encrypted with the pair's KMS key",
				"primary-sns-topic (sns.aws.upbound.io/Topic) sns-kms: spec.forProvider has no kmsMasterKeyId: the topic must be encrypted with the pair's KMS key",
			},
		},
		"PasswordInLambdaEnv": {
			reason: "A password in a Lambda environment is denied by its name, without repeating it.",
			mutate: func(t *testing.T, r render) render {
				vars := forProvider(t, r, "dr-lambda-failover")["environment"].(map[string]any)["variables"].(map[string]any) //nolint:forcetypeassert // The golden's.
				vars["DB_PASSWORD"] = "hunter2"
				vars["REPLICA_SECRET_ARN"] = "arn:aws:secretsmanager:us-east-2:123456789012:secret:other-abcdef"
				return r
			},
			want: []string{"dr-lambda-failover (lambda.aws.upbound.io/Function) lambda-env-secret: environment variable DB_PASSWORD is named like a secret: pass its ARN (a *_ARN variable) and read it at run time"},
		},
		"SecretValueInLambdaEnv": {
			reason: "Credentials under innocent names are denied by their look.",
			mutate: func(t *testing.T, r render) render {
				vars := forProvider(t, r, "dr-lambda-replication-lag")["environment"].(map[string]any)["variables"].(map[string]any) //nolint:forcetypeassert // The golden's.
				vars["AWS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
				vars["PRIMARY_DSN"] = "postgres://pgadmin:hunter2@primary:5432/orders"
				vars["CACHE_SEED"] = "q8Xv2LrT9kZp4WmN7bYc3HdF6gJs1AeU"
				return r
			},
			want: []string{
				"dr-lambda-replication-lag (lambda.aws.upbound.io/Function) lambda-env-secret: environment variable AWS_KEY_ID holds what looks like an AWS access key id",
				"dr-lambda-replication-lag (lambda.aws.upbound.io/Function) lambda-env-secret: environment variable CACHE_SEED holds what looks like a long random-looking string",
				"dr-lambda-replication-lag (lambda.aws.upbound.io/Function) lambda-env-secret: environment variable PRIMARY_DSN holds what looks like a URL with a password",
			},
		},
		"PlaintextPasswordInSpec": {
			reason: "A plaintext secret field in any composed resource is denied.",
			mutate: func(t *testing.T, r render) render {
				fp := forProvider(t, r, "primary-db-master-secret-version")
				delete(fp, "secretStringSecretRef")
				fp["secretString"] = "hunter2"
				return r
			},
			want: []string{"primary-db-master-secret-version (secretsmanager.aws.upbound.io/SecretVersion) spec-plaintext-secret: spec.forProvider.secretString is a plaintext secret: use its SecretRef"},
		},
		"PasswordInStatus": {
			reason: "The XR's status never holds a password, nor anything that looks like a credential.",
			mutate: func(t *testing.T, r render) render {
				st := r[0]["status"].(map[string]any)                                                                 //nolint:forcetypeassert // The golden's XR.
				st["primary"].(map[string]any)["masterPassword"] = "hunter2"                                          //nolint:forcetypeassert // The golden's XR.
				st["dr"].(map[string]any)["endpoint"] = "postgres://pgadmin:hunter2@orders-db.us-east-2.example:5432" //nolint:forcetypeassert // The golden's XR.
				return r
			},
			want: []string{
				"orders-db-7k2xp (pgdr.io/XPostgresDR) xr-status-secret: status.dr.endpoint holds what looks like a URL with a password",
				"orders-db-7k2xp (pgdr.io/XPostgresDR) xr-status-secret: status.primary.masterPassword is named like a secret: status must never hold one",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			golden := tc.golden
			if golden == "" {
				golden = "ready"
			}
			r := tc.mutate(t, readRender(t, filepath.Join("testdata", "golden", golden+".yaml")))
			got := evalPolicy(t, r).deny
			if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
				t.Errorf("\n%s\ndeny (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// cmpEmpty compares nil and empty lists equal.
var cmpEmpty = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore()) //nolint:gochecknoglobals // A constant option.

// TestPolicyFormatted fails on a Rego file of policy/ that opa fmt would change.
func TestPolicyFormatted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("policy", "*.rego"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Rego files in policy/: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := format.Source(f, src)
		if err != nil {
			t.Fatalf("cannot format %s: %v", f, err)
		}
		if diff := cmp.Diff(string(src), string(got)); diff != "" {
			t.Errorf("%s is not formatted as opa fmt would (-have, +want):\n%s", f, diff)
		}
	}
}

// BenchmarkSecurityPolicy evaluates the prepared policy over the ready render, the largest.
func BenchmarkSecurityPolicy(b *testing.B) {
	r := readRender(b, filepath.Join("testdata", "golden", "ready.yaml"))
	if v := evalPolicy(b, r); len(v.deny) > 0 {
		b.Fatalf("deny: %v", v.deny)
	}
	for b.Loop() {
		evalPolicy(b, r)
	}
}

// TestSecurityPolicyVariants evaluates the security policy over converged XRs whose spec differs
// from the example where the graph differs: the goldens cover the example's states, these the
// other modes. Rendered in-process, with the stand-in observing each pass.
func TestSecurityPolicyVariants(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   map[string]any // merged into the example XR's spec
	}{
		"ManualFailover": {
			reason: "Manual failover: no EventBridge rule invokes the failover Lambda.",
			spec:   map[string]any{"failover": map[string]any{"mode": "Manual"}},
		},
		"ExistingZone": {
			reason: "The failover records in an existing zone: the Lambda's Route53 grant names that zone.",
			spec:   map[string]any{"failover": map[string]any{"mode": "Automatic", "zoneID": "Z0EXISTING1"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			xr := readYAML(t, "examples/xr.yaml")
			spec, _ := xr["spec"].(map[string]any)
			maps.Copy(spec, tc.spec)
			_, rsp := converge(t, xr, 0)
			render := []map[string]any{xr}
			xr["status"] = rsp.GetDesired().GetComposite().GetResource().AsMap()["status"]
			for _, n := range slices.Sorted(maps.Keys(rsp.GetDesired().GetResources())) {
				r := rsp.GetDesired().GetResources()[n].GetResource().AsMap()
				// As crossplane render gives them: named by their composition-resource name.
				md, _ := r["metadata"].(map[string]any)
				if md == nil {
					md = map[string]any{}
					r["metadata"] = md
				}
				ann, _ := md["annotations"].(map[string]any)
				if ann == nil {
					ann = map[string]any{}
					md["annotations"] = ann
				}
				ann["crossplane.io/composition-resource-name"] = n
				render = append(render, r)
			}
			v := evalPolicy(t, render)
			for _, d := range v.deny {
				t.Errorf("\n%s\ndeny: %s", tc.reason, d)
			}
			if len(v.waived) > 0 {
				t.Errorf("\n%s\na converged render awaits nothing, yet the policy waived: %v", tc.reason, v.waived)
			}
			for _, k := range requiredDocuments {
				if !slices.Contains(v.documents, k) {
					t.Errorf("\n%s\nno %s among the policy documents checked %v", tc.reason, k, v.documents)
				}
			}
		})
	}
}
