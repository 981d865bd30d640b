package fn

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/crossplane/function-sdk-go/resource"
)

// Role is a region's part in the pair: the region that holds the primary database or the one
// that holds the DR copy. Roles are fixed by spec.regions; which one is active can change.
type Role string

// Roles.
const (
	RolePrimary Role = "primary"
	RoleDR      Role = "dr"
)

// roles in the order resources are built.
var roles = []Role{RolePrimary, RoleDR} //nolint:gochecknoglobals // A constant list.

// Peer returns the other role.
func (r Role) Peer() Role {
	if r == RolePrimary {
		return RoleDR
	}
	return RolePrimary
}

// AWS name length limits.
const (
	maxRDSName    = 63
	maxBucketName = 63
	maxIAMName    = 64
	maxLambdaName = 64
	maxBaseName   = 24
	hashLen       = 6
)

// awsNames computes every AWS name of one XR. It is the one place names are made: deterministic
// from the claim's (or XR's) name and a short hash of the XR's name, and within AWS limits.
type awsNames struct {
	// Base is the prefix of every name: the claim name, cut to fit, and the hash.
	Base string
}

// newNames returns the names of the XR with the supplied name, claimed (if at all) under the
// supplied claim name.
func newNames(xrName, claimName string) awsNames {
	display := claimName
	if display == "" {
		display = xrName
	}
	sum := sha256.Sum256([]byte(xrName))
	h := hex.EncodeToString(sum[:])[:hashLen]
	return awsNames{Base: sanitize(display, maxBaseName) + "-" + h}
}

// Resource is the name of an AWS resource of the given purpose in a region, used where AWS
// allows 255 characters (security groups, alarms, topics, tags).
func (n awsNames) Resource(role Role, purpose string) string {
	return n.Base + "-" + string(role) + "-" + purpose
}

// DBInstance is the RDS identifier of a region's database instance of a generation.
func (n awsNames) DBInstance(role Role, gen int) string {
	return fit(n.Base+"-"+string(role)+"-db", maxRDSName-len(genSuffix(gen))) + genSuffix(gen)
}

// genSuffix ends the names of a generation's instance and what only it uses: nothing for the
// first, so that a pair made before generations keeps its names; -g<n> after.
func genSuffix(gen int) string {
	if gen <= 1 {
		return ""
	}
	return "-g" + strconv.Itoa(gen)
}

// RDSGroup is the name of an RDS subnet or parameter group of a region.
func (n awsNames) RDSGroup(role Role, purpose string) string {
	return fit(n.Base+"-"+string(role)+"-"+purpose, maxRDSName)
}

// reservedBucketPrefixes are the prefixes S3 refuses at the start of a general purpose bucket's
// name (xn-- cannot occur: sanitize leaves no two hyphens in a row).
var reservedBucketPrefixes = []string{"sthree-", "amzn-s3-demo-"} //nolint:gochecknoglobals // A constant list.

// Bucket is the name of a region's backup bucket: <claim>-<hash>-backup-<account>-<region>. S3
// names are global across every account of a partition, so the account is part of the name, and
// the claim's part is cut so that the whole fits S3's 63 characters; the hash, the account and
// the region are never cut. An existing bucket keeps the name it was created with (see
// bucketAWSName): this is the name of a new one.
func (n awsNames) Bucket(account, region string) string {
	suffix := "-backup-" + region
	if account != "" {
		suffix = "-backup-" + account + "-" + region
	}
	claim, hash := n.Base[:len(n.Base)-hashLen-1], n.Base[len(n.Base)-hashLen:]
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(claim+"-", p) {
			claim = "x" + claim
		}
	}
	if keep := maxBucketName - len(suffix) - len(hash) - 1; len(claim) > keep {
		claim = strings.TrimRight(claim[:keep], "-")
	}
	return claim + "-" + hash + suffix
}

// IAM is the name of an IAM role or policy.
func (n awsNames) IAM(role Role, purpose string) string {
	return fit(n.Base+"-"+string(role)+"-"+purpose, maxIAMName)
}

// Lambda is the name of a Lambda function.
func (n awsNames) Lambda(role Role, purpose string) string {
	return fit(n.Base+"-"+string(role)+"-"+purpose, maxLambdaName)
}

// KMSAlias is the alias of a region's key.
func (n awsNames) KMSAlias(role Role) string {
	return "alias/" + n.Base + "-" + string(role)
}

// resourceName is the composition-resource name of a composed resource: the role, then the
// parts, e.g. primary-subnet-database-a. It is stable across reconciles and spec changes.
func resourceName(role Role, parts ...string) resource.Name {
	return resource.Name(string(role) + "-" + strings.Join(parts, "-"))
}

// sanitize lowercases s, keeps letters, digits and single hyphens, starts it with a letter and
// cuts it to at most max characters.
func sanitize(s string, limit int) string {
	var b strings.Builder
	prevHyphen := true
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if b.Len() == 0 && r >= '0' && r <= '9' {
				b.WriteString("x")
			}
			b.WriteRune(r)
			prevHyphen = false
		case !prevHyphen:
			b.WriteByte('-')
			prevHyphen = true
		}
		if b.Len() >= limit {
			break
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > limit {
		out = strings.TrimRight(out[:limit], "-")
	}
	if out == "" {
		out = "pgdr"
	}
	return out
}

// fit cuts a name to the limit, keeping it from ending in a hyphen. Base is short enough that
// every name the function makes fits; this is a guard, not a plan.
func fit(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return strings.TrimRight(s[:limit], "-")
}
