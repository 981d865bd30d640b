package fn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	protectionv1beta1 "github.com/crossplane/crossplane/apis/v2/protection/v1beta1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// AWS refuses to delete what something still uses: a primary that has a read replica, a DB
// subnet group, security group, parameter group or key of a live instance, the role of a live
// Lambda. Crossplane deletes a claim's composed resources all at once, so ClusterUsages say what
// must wait for what: Crossplane refuses the delete of a used resource until its user is gone,
// then replays it (replayDeletion). Usages need Crossplane's webhooks (they are on by default).

// usageName is the resource name of the usage that keeps of until by is gone.
// It is also a label value (labelResource), so a longer one is cut and ends in a hash of the whole.
func usageName(of, by resource.Name) resource.Name {
	n := fmt.Sprintf("usage-%s-by-%s", of, by)
	if len(n) <= validation.LabelValueMaxLength {
		return resource.Name(n)
	}
	sum := sha256.Sum256([]byte(n))
	return resource.Name(strings.TrimRight(n[:validation.LabelValueMaxLength-hashLen-1], "-") + "-" + hex.EncodeToString(sum[:])[:hashLen])
}

// buildUsages adds a ClusterUsage for each dependency AWS enforces at deletion between desired
// resources: both must be desired, or the usage's selectors would resolve to nothing.
func buildUsages(p *xrPlan, st failoverState, d *desiredState) {
	type use struct{ of, by resource.Name }
	var uses []use
	if st.Armed(p) {
		uses = append(uses, use{st.Current(p, st.Writer).Name(), st.Current(p, st.Standby()).Name()})
	}
	for _, i := range st.Instances {
		role, db := i.Role, i.Name()
		sg := securityGroupName(role, sgDatabase)
		if i.As == asFenced {
			sg = securityGroupName(role, sgFenced)
		}
		for _, of := range []resource.Name{
			resourceName(role, "db-subnet-group"), parameterGroupName(role, i.Gen), sg, keyName(role), resourceName(role, "db-monitoring-role"),
		} {
			uses = append(uses, use{of, db})
		}
		for _, lt := range logExportTypes {
			uses = append(uses, use{dbLogGroupName(role, i.Gen, lt), db})
		}
	}
	for _, f := range []string{contract.FunctionReplicationLag, contract.FunctionFailover} {
		uses = append(uses, use{lambdaPart(p, f, "role"), lambdaName(p, f)})
	}
	for _, u := range uses {
		of, okOf := d.Resources[u.of]
		by, okBy := d.Resources[u.by]
		if !okOf || !okBy {
			continue
		}
		d.AddUsage(usageName(u.of, u.by), &protectionv1beta1.ClusterUsage{
			Spec: protectionv1beta1.ClusterUsageSpec{
				Of:             usageTarget(d, u.of, gvkOf(of)),
				By:             new(usageTarget(d, u.by, gvkOf(by))),
				Reason:         new(fmt.Sprintf("AWS refuses to delete %s while %s uses it", u.of, u.by)),
				ReplayDeletion: new(true),
			},
		})
	}
}

// gvkOf returns the kind of a typed resource from the scheme the function composes with.
func gvkOf(mr managed) schema.GroupVersionKind {
	gvks, _, err := composed.Scheme.ObjectKinds(mr)
	if err != nil || len(gvks) == 0 {
		return schema.GroupVersionKind{}
	}
	return gvks[0]
}

// usageTarget selects the named resource of the same XR, of the kind, for a usage.
func usageTarget(d *desiredState, name resource.Name, gvk schema.GroupVersionKind) protectionv1beta1.Resource {
	s := d.Select(name)
	return protectionv1beta1.Resource{
		APIVersion:       gvk.GroupVersion().String(),
		Kind:             gvk.Kind,
		ResourceSelector: &protectionv1beta1.ResourceSelector{MatchLabels: s.MatchLabels, MatchControllerRef: s.MatchControllerRef},
	}
}
