package fn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/util/validation/field"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// statefulKinds hold data: Crossplane deletes a composed resource the function stops desiring,
// so once one of these is observed it is desired on every reconcile, whatever the spec says.
var statefulKinds = map[string]bool{ //nolint:gochecknoglobals // A constant set.
	"rds.aws.upbound.io/Instance":   true,
	"s3.aws.upbound.io/Bucket":      true,
	"kms.aws.upbound.io/Key":        true,
	"kms.aws.upbound.io/ReplicaKey": true,
}

// Stateful reports whether the named observed resource holds data.
func (o Observed) Stateful(name resource.Name) bool {
	group, kind := o.Kind(name)
	return statefulKinds[group+"/"+kind]
}

// KeepObserved adds to the desired resources every observed stateful resource (every observed
// resource, with all) that the build did not desire, as observed (its spec, labels and
// annotations), and returns their names. For stateful resources it is the last line of defence:
// builders already keep what they can. With all, it keeps the graph as it stands while the pair
// is in a state Crossplane did not cause (a promotion out of band): the function turns nothing
// off and deletes nothing until the user says what the new normal is.
func KeepObserved(o Observed, desired map[string]*fnv1.Resource, all bool) []resource.Name {
	var kept []resource.Name
	for name, oc := range o {
		if oc.Resource == nil || (!all && !o.Stateful(name)) {
			continue
		}
		if _, ok := desired[string(name)]; ok {
			continue
		}
		s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		for _, f := range []string{"apiVersion", "kind", "spec"} {
			if v := o.value(name, f); v != nil {
				s.Fields[f] = v
			}
		}
		meta := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		for _, f := range []string{"labels", "annotations"} {
			if v := o.value(name, "metadata."+f); v != nil {
				meta.Fields[f] = v
			}
		}
		if len(meta.Fields) > 0 {
			s.Fields["metadata"] = structpb.NewStructValue(meta)
		}
		desired[string(name)] = &fnv1.Resource{Resource: s, Ready: Readiness(o, name)}
		kept = append(kept, name)
	}
	slices.Sort(kept)
	return kept
}

// RefuseReplacement refuses a spec change that AWS can only honour by replacing an observed
// database or its network: a region, a lower PostgreSQL major version, a VPC's CIDR or the
// subnet layout under a database.
func RefuseReplacement(p *Plan, o Observed) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	for _, role := range Roles {
		rp := p.Regions[role]
		regionPath := sp.Child("regions", string(role))
		cidrPath := sp.Child("network", string(role)+"CIDR")
		db := DBInstanceName(role)
		if r := o.String(db, "spec.forProvider.region"); r != "" && r != rp.Region {
			errs = append(errs, field.Invalid(regionPath, rp.Region,
				fmt.Sprintf("the %s database exists in %s: changing the region would replace it and lose its data; set it back to %s", role, r, r)))
		}
		if v := o.AtProvider(db, "engineVersion"); v != "" && role == RolePrimary {
			if major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); err == nil && p.Spec.Postgres.MajorVersion < major {
				errs = append(errs, field.Invalid(sp.Child("postgres", "majorVersion"), p.Spec.Postgres.MajorVersion,
					fmt.Sprintf("the primary runs PostgreSQL %s: RDS cannot downgrade a major version in place; set %d or higher, or restore a snapshot into a new claim", v, major)))
			}
		}
		if role == RolePrimary {
			pg := sp.Child("postgres")
			for _, f := range []struct {
				path            *field.Path
				observed, value string
			}{
				{pg.Child("databaseName"), o.String(db, "spec.forProvider.dbName"), p.Spec.Postgres.DatabaseName},
				{pg.Child("username"), o.String(db, "spec.forProvider.username"), p.Spec.Postgres.Username},
			} {
				if f.observed != "" && f.observed != f.value {
					errs = append(errs, field.Invalid(f.path, f.value,
						fmt.Sprintf("the primary was created with %q: RDS can only change it by replacing the database; set it back to %q", f.observed, f.observed)))
				}
			}
		}
		for _, az := range zones(rp.Region, regionAZs[rp.Region]) {
			if !slices.Contains(rp.AZs, az) && o.Exists(SubnetName(role, TierDatabase, az)) {
				errs = append(errs, field.Invalid(sp.Child("network", "azCount"), p.Spec.Network.AZCount,
					fmt.Sprintf("the %s database subnet in %s exists: removing a zone would take a subnet away from the database; keep that zone (AZ count can grow, not shrink)", role, az)))
				break
			}
		}
		if c := o.String(VPCName(role), "spec.forProvider.cidrBlock"); c != "" && c != rp.Net.VPC.String() {
			errs = append(errs, field.Invalid(cidrPath, rp.Net.VPC.String(),
				fmt.Sprintf("the %s VPC exists with %s: AWS cannot change a VPC's CIDR, and replacing it would take the database's network away; set it back to %s", role, c, c)))
			continue
		}
		for i, az := range rp.AZs {
			s := SubnetName(role, TierDatabase, az)
			if c := o.String(s, "spec.forProvider.cidrBlock"); c != "" && c != rp.Net.Subnets[TierDatabase][i].String() {
				errs = append(errs, field.Invalid(sp.Child("network", "subnetPrefix"), p.Spec.Network.SubnetPrefix,
					fmt.Sprintf("the %s database subnet in %s exists as %s: changing the subnet layout would replace subnets the database uses; set subnetPrefix back to %s", role, az, c, c[strings.IndexByte(c, '/')+1:])))
				break
			}
			if a := o.String(s, "spec.forProvider.availabilityZone"); a != "" && a != az {
				errs = append(errs, field.Invalid(sp.Child("network", string(role)+"AZs"), rp.AZs,
					fmt.Sprintf("the %s database subnet %s exists in %s: moving it would replace a subnet the database uses; keep the zones it has", role, s, a)))
				break
			}
		}
	}
	return errs
}
