package fn

import (
	"regexp"
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
			{"rds instance", n.DBInstance(role), maxRDSName, rds},
			{"rds group", n.RDSGroup(role, "params"), maxRDSName, rds},
			{"bucket", n.Bucket("ap-southeast-4"), maxBucketName, bucket},
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
