package fn

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewNames(t *testing.T) {
	cases := map[string]struct {
		reason    string
		xr, claim string
		wantBase  string
	}{
		"Claim": {
			reason:   "The claim's name leads, then a hash of the XR's name.",
			xr:       "orders-db-7k2xp",
			claim:    "orders-db",
			wantBase: "orders-db-",
		},
		"NoClaim": {
			reason:   "An XR without a claim uses its own name.",
			xr:       "billing",
			wantBase: "billing-",
		},
		"Sanitised": {
			reason:   "Uppercase, dots and a leading digit are made valid.",
			xr:       "x",
			claim:    "9Orders.DB__prod",
			wantBase: "x9orders-db-prod-",
		},
		"Long": {
			reason:   "A long claim name is cut to 24 characters.",
			xr:       "x",
			claim:    strings.Repeat("abcdefghij", 10),
			wantBase: "abcdefghijabcdefghijabcd-",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := newNames(tc.xr, tc.claim)
			if !strings.HasPrefix(n.Base, tc.wantBase) || len(n.Base) != len(tc.wantBase)+hashLen {
				t.Errorf("\n%s\nNewNames(%q, %q).Base = %q, want %q + %d hex digits", tc.reason, tc.xr, tc.claim, n.Base, tc.wantBase, hashLen)
			}
			if diff := cmp.Diff(n, newNames(tc.xr, tc.claim)); diff != "" {
				t.Errorf("\n%s\nNewNames is not deterministic:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNamesWithinLimits checks every name the function makes against AWS's rules for the longest
// claim name, in the longest region.
func TestNamesWithinLimits(t *testing.T) {
	n := newNames(strings.Repeat("z", 253), strings.Repeat("a-", 60))
	rds := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	bucket := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	for _, role := range roles {
		checks := []struct {
			what, name string
			limit      int
			re         *regexp.Regexp
		}{
			{"rds instance", n.DBInstance(role, 1), maxRDSName, rds},
			{"rds group", n.RDSGroup(role, "params"), maxRDSName, rds},
			{"bucket", n.Bucket("123456789012", "ap-southeast-4"), maxBucketName, bucket},
			{"iam", n.IAM(role, "replication-lag"), maxIAMName, rds},
			{"lambda", n.Lambda(role, "replication-lag"), maxLambdaName, rds},
		}
		for _, c := range checks {
			if len(c.name) > c.limit || !c.re.MatchString(c.name) {
				t.Errorf("%s name %q (%d characters) breaks AWS's rules (at most %d, %s)", c.what, c.name, len(c.name), c.limit, c.re)
			}
		}
	}
	if newNames("a", "").Base == newNames("b", "").Base {
		t.Error("two XRs got the same base name")
	}
}

// TestBucketName checks the backup buckets' names against S3's rules. S3 User Guide, "General
// purpose bucket naming rules" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
// "Bucket names must be between 3 (min) and 63 (max) characters long", "can consist only of
// lowercase letters, numbers, periods (.), and hyphens (-)", "must begin and end with a letter or
// number", "must not start with the prefix sthree-", "must not start with the prefix
// amzn-s3-demo-", and are "unique across all AWS accounts in all the AWS Regions within a
// partition". Terraform checks the same length and characters before it calls S3
// (validBucketName, internal/service/s3/bucket.go of the fork provider-aws v2.5.0 compiles in).
func TestBucketName(t *testing.T) {
	const account = "123456789012"
	s3Name := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	cases := map[string]struct {
		reason         string
		xr, claim      string
		account        string
		region         string
		want           string // the whole name, or
		wantPrefix     string // its start and
		wantSuffix     string // its end
		wantClaimChars int    // and how much of the claim's name it keeps
	}{
		"Account": {
			reason:  "The account id is part of the name: the claim's name, the XR's hash, backup, the account, the region.",
			xr:      "orders-x1",
			claim:   "orders",
			account: account,
			region:  "us-east-1",
			want:    "orders-0c614a-backup-123456789012-us-east-1",
		},
		"OtherAccount": {
			reason:  "The same claim in another account gets another name: S3's namespace is shared by every account.",
			xr:      "orders-x1",
			claim:   "orders",
			account: "210987654321",
			region:  "us-east-1",
			want:    "orders-0c614a-backup-210987654321-us-east-1",
		},
		"LongClaim": {
			reason:         "A 100-character claim name in the longest region: the claim's part is cut to fit 63 characters; hash, account and region stay whole.",
			xr:             "x",
			claim:          strings.Repeat("abcdefghij", 10),
			account:        account,
			region:         "ap-southeast-4",
			wantPrefix:     "abcdefghijabcdefghija-",
			wantSuffix:     "-backup-123456789012-ap-southeast-4",
			wantClaimChars: 21,
		},
		"LongClaimHyphen": {
			reason:         "A cut that would end in a hyphen drops it: no two hyphens in a row.",
			xr:             "x",
			claim:          "abcdefghijklmnopqrst-uvwxyz", // the 21st character is the hyphen
			account:        account,
			region:         "ap-southeast-4",
			wantPrefix:     "abcdefghijklmnopqrst-",
			wantSuffix:     "-backup-123456789012-ap-southeast-4",
			wantClaimChars: 20,
		},
		"ReservedSthree": {
			reason:     "A claim named sthree would make a name S3 refuses: it gets an x in front.",
			xr:         "x",
			claim:      "sthree",
			account:    account,
			region:     "us-east-2",
			wantPrefix: "xsthree-",
			wantSuffix: "-backup-123456789012-us-east-2",
		},
		"ReservedDemo": {
			reason:     "A claim starting amzn-s3-demo- gets an x in front.",
			xr:         "x",
			claim:      "amzn-s3-demo-orders",
			account:    account,
			region:     "us-east-2",
			wantPrefix: "xamzn-s3-demo-orders-",
			wantSuffix: "-backup-123456789012-us-east-2",
		},
		"NotReserved": {
			reason:     "sthreeish is no reserved prefix: it stays.",
			xr:         "x",
			claim:      "sthreeish",
			account:    account,
			region:     "us-east-2",
			wantPrefix: "sthreeish-",
			wantSuffix: "-backup-123456789012-us-east-2",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := newNames(tc.xr, tc.claim).Bucket(tc.account, tc.region)
			if tc.want != "" {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("\n%s\nBucket(%q, %q): -want, +got:\n%s", tc.reason, tc.account, tc.region, diff)
				}
			}
			if !strings.HasPrefix(got, tc.wantPrefix) || !strings.HasSuffix(got, tc.wantSuffix) {
				t.Errorf("\n%s\nBucket(%q, %q) = %q, want %q...%q", tc.reason, tc.account, tc.region, got, tc.wantPrefix, tc.wantSuffix)
			}
			if tc.wantClaimChars > 0 {
				if claim := got[:len(got)-len(tc.wantSuffix)-hashLen-1]; len(claim) != tc.wantClaimChars {
					t.Errorf("\n%s\nBucket(%q, %q) = %q keeps %d characters of the claim (%q), want %d", tc.reason, tc.account, tc.region, got, len(claim), claim, tc.wantClaimChars)
				}
			}
			if len(got) > maxBucketName || !s3Name.MatchString(got) || strings.Contains(got, "--") {
				t.Errorf("\n%s\nBucket(%q, %q) = %q (%d characters) breaks S3's naming rules", tc.reason, tc.account, tc.region, got, len(got))
			}
			for _, p := range append(slices.Clone(reservedBucketPrefixes), "xn--") {
				if strings.HasPrefix(got, p) {
					t.Errorf("\n%s\nBucket(%q, %q) = %q starts with the reserved prefix %q", tc.reason, tc.account, tc.region, got, p)
				}
			}
		})
	}
}
