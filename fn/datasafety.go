package fn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
	kmsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/kms/v1beta1"
	rdsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta1"
	rdsv1beta3 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta3"
	s3v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta2"
)

// statefulKinds hold data: Crossplane deletes a composed resource the function stops desiring,
// so once one of these is observed it is desired on every reconcile, whatever the spec says.
var statefulKinds = map[schema.GroupKind]bool{ //nolint:gochecknoglobals // A constant set.
	rdsv1beta3.Instance_GroupVersionKind.GroupKind():   true,
	s3v1beta2.Bucket_GroupVersionKind.GroupKind():      true,
	kmsv1beta1.Key_GroupVersionKind.GroupKind():        true,
	kmsv1beta1.ReplicaKey_GroupVersionKind.GroupKind(): true,
}

// Stateful reports whether the named observed resource holds data.
func (o observedState) Stateful(name resource.Name) bool {
	return statefulKinds[o.GroupKind(name)]
}

// keepObserved adds to desired every observed stateful resource, but the retired instances the
// user confirmed, (every observed resource, with
// all) that the build did not desire, as observed (its spec, labels and annotations), and returns
// their names. For stateful resources it is the last line of defence: builders already keep what
// they can. With all, it keeps the graph as it stands while the pair is in a state Crossplane did
// not cause (a promotion out of band): the function turns nothing off and deletes nothing until
// the user says what the new normal is.
func keepObserved(o observedState, desired map[resource.Name]*resource.DesiredComposed, all bool, retired []resource.Name) []resource.Name {
	var kept []resource.Name
	for name, oc := range o {
		if oc.Resource == nil || (!all && !o.Stateful(name)) || slices.Contains(retired, name) {
			continue
		}
		if _, ok := desired[name]; ok {
			continue
		}
		cd := composed.New()
		cd.SetAPIVersion(oc.Resource.GetAPIVersion())
		cd.SetKind(oc.Resource.GetKind())
		cd.SetLabels(oc.Resource.GetLabels())
		cd.SetAnnotations(oc.Resource.GetAnnotations())
		if spec, ok := oc.Resource.Object["spec"]; ok {
			cd.Object["spec"] = spec
		}
		desired[name] = &resource.DesiredComposed{Resource: cd, Ready: readiness(o, name)}
		kept = append(kept, name)
	}
	slices.Sort(kept)
	return kept
}

// refuseReplacement refuses a spec change that AWS can only honour by replacing an observed
// database or its network: a region, a lower PostgreSQL major version, a VPC's CIDR or the
// subnet layout under a database.
//
//nolint:gocyclo // One check per field AWS can only change by replacing, in the order of the spec.
func refuseReplacement(p *xrPlan, o observedState) field.ErrorList {
	sp := field.NewPath("spec")
	errs := refuseGenerations(p, o)
	for _, role := range roles {
		rp := p.Regions[role]
		regionPath := sp.Child("regions", string(role))
		cidrPath := sp.Child("network", string(role)+"CIDR")
		db := observedDB(o, DBInstanceName(role))
		if r := deref(observedDB(o, p.Instance(role)).Spec.ForProvider.Region); r != "" && r != rp.Region {
			errs = append(errs, field.Invalid(regionPath, rp.Region,
				fmt.Sprintf("the %s database exists in %s: changing the region would replace it and lose its data; set it back to %s", role, r, r)))
		}
		if r := deref(db.Spec.ForProvider.Region); r != "" && r != rp.Region {
			errs = append(errs, field.Invalid(regionPath, rp.Region,
				fmt.Sprintf("the %s database exists in %s: changing the region would replace it and lose its data; set it back to %s", role, r, r)))
		}
		if v := deref(db.Status.AtProvider.EngineVersion); v != "" && role == RolePrimary {
			if major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); err == nil && p.Spec.Postgres.MajorVersion < major {
				errs = append(errs, field.Invalid(sp.Child("postgres", "majorVersion"), p.Spec.Postgres.MajorVersion,
					fmt.Sprintf("the primary runs PostgreSQL %s: RDS cannot downgrade a major version in place; set %d or higher, or restore a snapshot into a new claim", v, major)))
			}
		}
		if gb := deref(db.Spec.ForProvider.AllocatedStorage); role == RolePrimary && gb > float64(p.Spec.Postgres.StorageGB) {
			errs = append(errs, field.Invalid(sp.Child("postgres", "storageGB"), p.Spec.Postgres.StorageGB,
				fmt.Sprintf("the primary was given %.0f GiB: RDS cannot shrink allocated storage; set %.0f or more (storage autoscaling up to maxStorageGB may have grown it further)", gb, gb)))
		}
		if role == RolePrimary {
			pg := sp.Child("postgres")
			for _, f := range []struct {
				path            *field.Path
				observed, value string
			}{
				{pg.Child("databaseName"), deref(db.Spec.ForProvider.DBName), p.Spec.Postgres.DatabaseName},
				{pg.Child("username"), deref(db.Spec.ForProvider.Username), p.Spec.Postgres.Username},
			} {
				if f.observed != "" && f.observed != f.value {
					errs = append(errs, field.Invalid(f.path, f.value,
						fmt.Sprintf("the primary was created with %q: RDS can only change it by replacing the database; set it back to %q", f.observed, f.observed)))
				}
			}
		}
		if move := refuseNetworkMove(p, o, role); len(move) > 0 || rp.Existing != nil {
			errs = append(errs, move...)
			continue
		}
		for _, az := range zones(rp.Region, regionAZs[rp.Region]) {
			if !slices.Contains(rp.AZs, az) && o.Exists(subnetName(role, tierDatabase, az)) {
				errs = append(errs, field.Invalid(sp.Child("network", "azCount"), p.Spec.Network.AZCount,
					fmt.Sprintf("the %s database subnet in %s exists: removing a zone would take a subnet away from the database; keep that zone (AZ count can grow, not shrink)", role, az)))
				break
			}
		}
		if c := deref(observedAs[ec2v1beta1.VPC](o, vpcName(role)).Spec.ForProvider.CidrBlock); c != "" && c != rp.Net.VPC.String() {
			errs = append(errs, field.Invalid(cidrPath, rp.Net.VPC.String(),
				fmt.Sprintf("the %s VPC exists with %s: AWS cannot change a VPC's CIDR, and replacing it would take the database's network away; set it back to %s", role, c, c)))
			continue
		}
		for i, az := range rp.AZs {
			s := subnetName(role, tierDatabase, az)
			sub := observedAs[ec2v1beta1.Subnet](o, s).Spec.ForProvider
			if c := deref(sub.CidrBlock); c != "" && c != rp.Net.Subnets[tierDatabase][i].String() {
				errs = append(errs, field.Invalid(sp.Child("network", "subnetPrefix"), p.Spec.Network.SubnetPrefix,
					fmt.Sprintf("the %s database subnet in %s exists as %s: changing the subnet layout would replace subnets the database uses; set subnetPrefix back to %s", role, az, c, c[strings.IndexByte(c, '/')+1:])))
				break
			}
			if a := deref(sub.AvailabilityZone); a != "" && a != az {
				errs = append(errs, field.Invalid(sp.Child("network", string(role)+"AZs"), rp.AZs,
					fmt.Sprintf("the %s database subnet %s exists in %s: moving it would replace a subnet the database uses; keep the zones it has", role, s, a)))
				break
			}
		}
	}
	return errs
}

// refuseNetworkMove refuses to move a region's observed database to another VPC: switching
// the network mode, or the existing VPC's id. RDS moves an instance between VPCs only by a new
// subnet group, with an outage, and not while it has cross-region replicas in another VPC; the
// subnet group's subnets must all be in one VPC. So the function never does it in place.
func refuseNetworkMove(p *xrPlan, o observedState, role Role) field.ErrorList {
	if len(observedGenerations(o, role)) == 0 {
		return nil
	}
	rp := p.Regions[role]
	np := field.NewPath("spec", "network")
	inUse := deref(observedAs[rdsv1beta1.SubnetGroup](o, resourceName(role, "db-subnet-group")).Status.AtProvider.VPCID)
	managed := vpcID(o, role)
	switch {
	case rp.Existing != nil && o.Exists(vpcName(role)):
		if managed == "" {
			managed = string(vpcName(role))
		}
		return field.ErrorList{field.Invalid(np.Child("mode"), p.Spec.Network.Mode,
			fmt.Sprintf("the %s database lives in the managed VPC %s: switching to Existing would delete that network under it; set mode back to Managed (to move the database, restore a snapshot into a new claim in the existing network)", role, managed))}
	case rp.Existing != nil && inUse != "" && inUse != rp.Existing.VPCID:
		return field.ErrorList{field.Invalid(np.Child("existing", string(role), "vpcID"), rp.Existing.VPCID,
			fmt.Sprintf("the %s database lives in %s: RDS cannot move it to another VPC in place; set it back to %s", role, inUse, inUse))}
	case rp.Existing == nil && inUse != "" && managed != inUse:
		return field.ErrorList{field.Invalid(np.Child("mode"), p.Spec.Network.Mode,
			fmt.Sprintf("the %s database lives in the existing VPC %s: switching to Managed would move it into a new VPC, which RDS cannot do in place; set mode back to Existing", role, inUse))}
	}
	return nil
}

// observedGenerations returns the generations of a region's observed instances, ascending.
func observedGenerations(o observedState, r Role) []int {
	prefix := string(DBInstanceName(r))
	var gens []int
	for name := range o {
		n := string(name)
		switch {
		case n == prefix:
			gens = append(gens, 1)
		case strings.HasPrefix(n, prefix+"-g"):
			if g, err := strconv.Atoi(strings.TrimPrefix(n, prefix+"-g")); err == nil && g > 1 {
				gens = append(gens, g)
			}
		}
	}
	slices.Sort(gens)
	return gens
}

// refuseGenerations refuses a generation change that would replace or lose an instance: a
// generation lowered under an observed one, raised by more than one, raised in the writer's
// region (that replaces the writer: switch over first), or raised while an older instance is
// still kept there (retire it first).
func refuseGenerations(p *xrPlan, o observedState) field.ErrorList {
	var errs field.ErrorList
	// The writer from what is observed, not from the spec's generations: a generation raised in
	// the writer's region would hide it.
	writer := Role("")
	for _, r := range roles {
		for _, g := range observedGenerations(o, r) {
			if a := desiredAs(o, r, g); a == asWriter || a == asPromoted {
				writer = r
			}
		}
	}
	for _, r := range roles {
		path := field.NewPath("spec", "generations", string(r))
		gens := observedGenerations(o, r)
		if len(gens) == 0 {
			continue
		}
		g, top := p.Gen[r], gens[len(gens)-1]
		switch {
		case g < top:
			errs = append(errs, field.Invalid(path, g, fmt.Sprintf("the instance %s of generation %d exists: a generation cannot go back; set it to %d", p.Names.DBInstance(r, top), top, top)))
		case g > top+1:
			errs = append(errs, field.Invalid(path, g, fmt.Sprintf("the newest instance in %s is of generation %d: raise it by one at a time; set it to %d", p.Regions[r].Region, top, top+1)))
		case g == top+1 && r == writer:
			errs = append(errs, field.Invalid(path, g, fmt.Sprintf("%s holds the writer %s: a new generation there would replace it; switch over to %s first (spec.activeRegion), or set it back to %d",
				p.Regions[r].Region, p.Names.DBInstance(r, top), p.Regions[r.Peer()].Region, top)))
		case g == top+1 && len(gens) > 1:
			errs = append(errs, field.Invalid(path, g, fmt.Sprintf("%s still keeps the old instance %s: retire it first (spec.retireInstance), or set it back to %d",
				p.Regions[r].Region, p.Names.DBInstance(r, gens[len(gens)-2]), top)))
		}
	}
	return errs
}

// shortList names up to three resources, and how many more there are: for an event's message.
func shortList(names []resource.Name) string {
	const shown = 3
	s := make([]string, 0, shown)
	for _, n := range names[:min(len(names), shown)] {
		s = append(s, string(n))
	}
	if len(names) > shown {
		return strings.Join(s, ", ") + fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return strings.Join(s, ", ")
}
