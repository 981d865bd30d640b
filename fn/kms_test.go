package fn

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	kmsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/kms/v1beta1"

	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// kmsSpec puts the keys in other regions than the shared builder spec, so that a region taken
// from the wrong place shows.
const kmsSpec = `{"regions":{"primary":"eu-west-1","dr":"eu-central-1"}}`

// kmsAccount is an account other than the stand-in's, so that the policies' account shows it
// comes from the Input.
const kmsAccount = "210987654321"

func withAccount(in *inputv1alpha1.Input) { in.AccountID = kmsAccount }

const (
	primaryKeyARN = "arn:aws:kms:eu-west-1:210987654321:key/mrk-1111aaaa2222bbbb3333cccc4444dddd"
	drKeyARN      = "arn:aws:kms:eu-central-1:210987654321:key/mrk-1111aaaa2222bbbb3333cccc4444dddd"
)

// observedKeys returns the observed keys of the plan: the primary key with primaryARN and, when
// drARN is not empty, the replica key with drARN.
func observedKeys(t *testing.T, p *xrPlan, primaryARN, drARN string) observedState {
	t.Helper()
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildKMS(p, observedState{}, d)
	o := observedState{keyName(RolePrimary): observedFixture(t, keyName(RolePrimary), d.Resources[keyName(RolePrimary)], map[string]any{"arn": primaryARN})}
	if drARN == "" {
		return o
	}
	d = newDesired(clusterFlavour{}, p.ProviderConfig)
	buildKMS(p, o, d)
	o[keyName(RoleDR)] = observedFixture(t, keyName(RoleDR), d.Resources[keyName(RoleDR)], map[string]any{"arn": drARN})
	return o
}

func TestBuildKMS(t *testing.T) {
	p := testPlan(t, kmsSpec, withAccount)
	type alias struct {
		Region, Name, KeySelector, KeyID string
	}
	primaryAlias := alias{"eu-west-1", "alias/" + p.Names.Base + "-primary", string(keyName(RolePrimary)), ""}
	drAlias := alias{"eu-central-1", "alias/" + p.Names.Base + "-dr", "", drKeyARN}

	cases := map[string]struct {
		reason      string
		observed    observedState
		want        []string
		wantReplica string // the replica key's primary key ARN
		wantAliases map[string]alias
		wantWaiting []string
	}{
		"NothingObserved": {
			reason:      "The primary key and its alias need nothing observed; the replica key names its primary by ARN and waits for it.",
			observed:    observedState{},
			want:        []string{"primary-kms-alias", "primary-kms-key"},
			wantAliases: map[string]alias{"primary-kms-alias": primaryAlias},
			wantWaiting: []string{"the primary KMS key's ARN (primary-kms-key), to replicate the key to eu-central-1"},
		},
		"PrimaryKeyObserved": {
			reason:      "With the primary key's ARN, its replica in the DR region; the DR alias names the replica by ARN and waits for it.",
			observed:    observedKeys(t, p, primaryKeyARN, ""),
			want:        []string{"dr-kms-key", "primary-kms-alias", "primary-kms-key"},
			wantReplica: primaryKeyARN,
			wantAliases: map[string]alias{"primary-kms-alias": primaryAlias},
			wantWaiting: []string{"the DR replica key's ARN (dr-kms-key), to alias it"},
		},
		"BothObserved": {
			reason:      "With both ARNs, the DR alias targets the replica key by its ARN (an alias's key selector finds only Keys, not ReplicaKeys).",
			observed:    observedKeys(t, p, primaryKeyARN, drKeyARN),
			want:        []string{"dr-kms-alias", "dr-kms-key", "primary-kms-alias", "primary-kms-key"},
			wantReplica: primaryKeyARN,
			wantAliases: map[string]alias{"primary-kms-alias": primaryAlias, "dr-kms-alias": drAlias},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildKMS(p, tc.observed, d)
			if err := d.Err(); err != nil {
				t.Fatalf("\n%s\nbuildKMS: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, names(d, "primary-", "dr-")); diff != "" {
				t.Errorf("\n%s\ndesired resources: -want, +got:\n%s", tc.reason, diff)
			}
			if r, ok := d.Resources[keyName(RoleDR)].(*kmsv1beta1.ReplicaKey); ok {
				if got := deref(r.Spec.ForProvider.PrimaryKeyArn); got != tc.wantReplica {
					t.Errorf("\n%s\nthe replica key replicates %q, want %q", tc.reason, got, tc.wantReplica)
				}
			}
			gotAliases := map[string]alias{}
			for n, mr := range d.Resources {
				if a, ok := mr.(*kmsv1beta1.Alias); ok {
					fp := a.Spec.ForProvider
					gotAliases[string(n)] = alias{deref(fp.Region), meta.GetExternalName(a), selectorTarget(fp.TargetKeyIDSelector), deref(fp.TargetKeyID)}
				}
			}
			if diff := cmp.Diff(tc.wantAliases, gotAliases); diff != "" {
				t.Errorf("\n%s\naliases: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantWaiting, d.Waiting); diff != "" {
				t.Errorf("\n%s\nwaiting: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestKMSKeys(t *testing.T) {
	p := testPlan(t, kmsSpec, withAccount)
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildKMS(p, observedKeys(t, p, primaryKeyARN, drKeyARN), d)

	// key is what matters of a key: where it is, what it replicates, how long it survives
	// deletion, and whose services its policy lets use it. The replica's multi-region key
	// material, usage and rotation are its primary's: a ReplicaKey has no such fields.
	type key struct {
		Kind, Region                     string
		MultiRegion, Rotation            bool
		Usage                            string
		Disabled, BypassLockoutCheck     bool
		DeletionWindowDays               float64
		Replicates                       string
		PolicyAccount, PolicyLogsService string
	}
	// policyFacts reads the administering account and the CloudWatch Logs principal of a policy.
	policyFacts := func(t *testing.T, policy *string) (account, logs string) {
		t.Helper()
		for _, s := range parsePolicy(t, deref(policy)).Statement {
			for _, v := range principalValues(s.Principal, "AWS") {
				account = strings.TrimSuffix(strings.TrimPrefix(v, "arn:aws:iam::"), ":root")
			}
			for _, v := range principalValues(s.Principal, "Service") {
				if strings.HasPrefix(v, "logs.") {
					logs = v
				}
			}
		}
		return account, logs
	}
	got := map[string]key{}
	if k, ok := d.Resources[keyName(RolePrimary)].(*kmsv1beta1.Key); ok {
		fp := k.Spec.ForProvider
		acct, logs := policyFacts(t, fp.Policy)
		got["primary"] = key{
			Kind: "Key", Region: deref(fp.Region), MultiRegion: deref(fp.MultiRegion), Rotation: deref(fp.EnableKeyRotation), Usage: deref(fp.KeyUsage),
			Disabled: fp.IsEnabled != nil && !*fp.IsEnabled, BypassLockoutCheck: deref(fp.BypassPolicyLockoutSafetyCheck),
			DeletionWindowDays: deref(fp.DeletionWindowInDays), PolicyAccount: acct, PolicyLogsService: logs,
		}
	}
	if k, ok := d.Resources[keyName(RoleDR)].(*kmsv1beta1.ReplicaKey); ok {
		fp := k.Spec.ForProvider
		acct, logs := policyFacts(t, fp.Policy)
		got["dr"] = key{
			Kind: "ReplicaKey", Region: deref(fp.Region), Disabled: fp.Enabled != nil && !*fp.Enabled, BypassLockoutCheck: deref(fp.BypassPolicyLockoutSafetyCheck),
			DeletionWindowDays: deref(fp.DeletionWindowInDays), Replicates: deref(fp.PrimaryKeyArn), PolicyAccount: acct, PolicyLogsService: logs,
		}
	}

	cases := map[string]struct {
		reason string
		want   key
	}{
		"primary": {
			reason: "The primary key: multi-region (so the DR region can hold a replica), rotated, recoverable for the longest window AWS allows (30 days), its policy for the Input's account and eu-west-1's CloudWatch Logs.",
			want: key{
				Kind: "Key", Region: "eu-west-1", MultiRegion: true, Rotation: true, Usage: "ENCRYPT_DECRYPT", DeletionWindowDays: 30,
				PolicyAccount: kmsAccount, PolicyLogsService: "logs.eu-west-1.amazonaws.com",
			},
		},
		"dr": {
			reason: "The DR key: a replica of the observed primary ARN in the DR region, enabled, the same deletion window, its own policy for eu-central-1's CloudWatch Logs.",
			want: key{
				Kind: "ReplicaKey", Region: "eu-central-1", DeletionWindowDays: 30, Replicates: primaryKeyARN,
				PolicyAccount: kmsAccount, PolicyLogsService: "logs.eu-central-1.amazonaws.com",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, got[name]); diff != "" {
				t.Errorf("\n%s\n%s key: -want, +got:\n%s", tc.reason, name, diff)
			}
		})
	}
}

// wirePolicy is a policy document as AWS reads it: Action, Resource and principal values may be
// a string or a list.
type wirePolicy struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Principal any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func parsePolicy(t *testing.T, doc string) wirePolicy {
	t.Helper()
	var p wirePolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %q is not JSON: %v", doc, err)
	}
	return p
}

// stringList reads a policy value that is a string or a list of strings.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// principalValues returns the principals of a type ("AWS", "Service") a statement names; "*"
// (anyone) counts as every type.
func principalValues(principal any, typ string) []string {
	if s, ok := principal.(string); ok {
		return []string{s}
	}
	m, _ := principal.(map[string]any)
	return stringList(m[typ])
}

func TestKeyPolicy(t *testing.T) {
	doc := parsePolicy(t, deref(keyPolicy(kmsAccount, "eu-west-1").JSON()))
	if doc.Version != "2012-10-17" {
		t.Errorf("policy language version %q, want 2012-10-17", doc.Version)
	}

	// grant is what one statement grants a principal.
	type grant struct {
		Effect     string
		Actions    []string
		Resources  []string
		Conditions map[string]map[string][]string
	}
	grants := func(typ, principal string) []grant {
		var out []grant
		for _, s := range doc.Statement {
			if !slices.Contains(principalValues(s.Principal, typ), principal) {
				continue
			}
			g := grant{Effect: s.Effect, Actions: stringList(s.Action), Resources: stringList(s.Resource)}
			slices.Sort(g.Actions)
			for op, kv := range s.Condition {
				if g.Conditions == nil {
					g.Conditions = map[string]map[string][]string{}
				}
				g.Conditions[op] = map[string][]string{}
				for k, v := range kv {
					g.Conditions[op][k] = stringList(v)
				}
			}
			out = append(out, g)
		}
		return out
	}
	cases := map[string]struct {
		reason    string
		typ, name string
		want      []grant
	}{
		"AccountRoot": {
			reason: "The account administers the key, unconditionally, so that the key never becomes unmanageable; IAM grants the key's use through it.",
			typ:    "AWS", name: "arn:aws:iam::210987654321:root",
			want: []grant{{Effect: "Allow", Actions: []string{"kms:*"}, Resources: []string{"*"}}},
		},
		// CloudWatch Logs encrypts a log group itself, with the log group's ARN as encryption
		// context: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
		"LogsOfTheRegion": {
			reason: "CloudWatch Logs of the key's own region may use the key for this account's log groups of that region only.",
			typ:    "Service", name: "logs.eu-west-1.amazonaws.com",
			want: []grant{{
				Effect:     "Allow",
				Actions:    []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"},
				Resources:  []string{"*"},
				Conditions: map[string]map[string][]string{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"arn:aws:logs:eu-west-1:210987654321:log-group:*"}}},
			}},
		},
		// CloudWatch alarms publish to a KMS-encrypted topic only if the key policy lets
		// cloudwatch.amazonaws.com decrypt and make data keys:
		// https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns
		"CloudWatch": {
			reason: "CloudWatch may decrypt and make data keys, to publish alarms to the encrypted topics; nothing more.",
			typ:    "Service", name: "cloudwatch.amazonaws.com",
			want: []grant{{Effect: "Allow", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{"*"}}},
		},
		"RDS": {
			reason: "RDS uses the key with the caller's permissions (through the account statement): no grant of its own.",
			typ:    "Service", name: "rds.amazonaws.com",
		},
		"S3": {
			reason: "S3 uses the key with the caller's permissions: no grant of its own.",
			typ:    "Service", name: "s3.amazonaws.com",
		},
		"SecretsManager": {
			reason: "Secrets Manager uses the key with the caller's permissions: no grant of its own.",
			typ:    "Service", name: "secretsmanager.amazonaws.com",
		},
		"SNS": {
			reason: "SNS is not granted the key: the publishers (CloudWatch) are.",
			typ:    "Service", name: "sns.amazonaws.com",
		},
		"LogsOfAnotherRegion": {
			reason: "CloudWatch Logs is granted per region: another region's Logs gets nothing from this key.",
			typ:    "Service", name: "logs.us-east-1.amazonaws.com",
		},
		"OtherAccount": {
			reason: "Another account (here the stand-in's) gets nothing.",
			typ:    "AWS", name: "arn:aws:iam::123456789012:root",
		},
		"Anyone": {
			reason: "No statement names every principal.",
			typ:    "AWS", name: "*",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, grants(tc.typ, tc.name)); diff != "" {
				t.Errorf("\n%s\nstatements granting %s %s: -want, +got:\n%s", tc.reason, tc.typ, tc.name, diff)
			}
		})
	}
}

func TestKeyARN(t *testing.T) {
	p := testPlan(t, kmsSpec, withAccount)
	cases := map[string]struct {
		reason   string
		observed observedState
		want     map[Role]string
	}{
		"NothingObserved": {"No key observed: no ARN.", observedState{}, map[Role]string{RolePrimary: "", RoleDR: ""}},
		"PrimaryOnly":     {"The primary key's ARN is its Key's; the DR role has none yet.", observedKeys(t, p, primaryKeyARN, ""), map[Role]string{RolePrimary: primaryKeyARN, RoleDR: ""}},
		"Both":            {"The DR role's ARN is its ReplicaKey's, not the primary's.", observedKeys(t, p, primaryKeyARN, drKeyARN), map[Role]string{RolePrimary: primaryKeyARN, RoleDR: drKeyARN}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := map[Role]string{RolePrimary: keyARN(tc.observed, RolePrimary), RoleDR: keyARN(tc.observed, RoleDR)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nkeyARN: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
