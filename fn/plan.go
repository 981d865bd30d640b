package fn

import (
	"maps"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// DefaultProviderConfigName is used when neither the claim nor the Input names one.
const DefaultProviderConfigName = "default"

// Tag keys the function puts on every AWS resource.
const (
	TagName       = "Name"
	TagXR         = "pgdr.io/xr"
	TagRole       = "pgdr.io/role"
	TagManagedBy  = "managed-by"
	managedByThis = "function-postgres-dr"
)

// Plan is everything a reconcile computes from the spec before it builds resources.
type Plan struct {
	XRName         string
	Spec           v1alpha1.XPostgresDRSpec
	Input          *inputv1alpha1.Input
	Names          Names
	ProviderConfig string
	Regions        map[Role]RegionPlan
}

// RegionPlan is one region's part of the plan.
type RegionPlan struct {
	Role     Role
	Region   string
	AZs      []string
	Net      NetworkPlan
	PeerCIDR string
}

// NewPlan computes the plan of a validated spec.
func NewPlan(xrName, claimName string, s v1alpha1.XPostgresDRSpec, in *inputv1alpha1.Input) (*Plan, error) {
	p := &Plan{XRName: xrName, Spec: s, Input: in, Names: NewNames(xrName, claimName), Regions: map[Role]RegionPlan{}}
	p.ProviderConfig = s.ProviderConfigName
	if p.ProviderConfig == "" && in != nil {
		p.ProviderConfig = in.ProviderConfigName
	}
	if p.ProviderConfig == "" {
		p.ProviderConfig = DefaultProviderConfigName
	}
	n := s.Network
	for _, r := range []struct {
		role         Role
		region, cidr string
		peer         string
		azs          []string
	}{
		{RolePrimary, s.Regions.Primary, n.PrimaryCIDR, n.DRCIDR, n.PrimaryAZs},
		{RoleDR, s.Regions.DR, n.DRCIDR, n.PrimaryCIDR, n.DRAZs},
	} {
		net, err := PlanCIDRs(r.cidr, n.SubnetPrefix, n.AZCount)
		if err != nil {
			return nil, err
		}
		azs, err := AvailabilityZones(r.region, n.AZCount, r.azs)
		if err != nil {
			return nil, err
		}
		p.Regions[r.role] = RegionPlan{Role: r.role, Region: r.region, AZs: azs, Net: net, PeerCIDR: r.peer}
	}
	return p, nil
}

// Tags returns the tags of an AWS resource: the Input's default tags, then the function's own.
func (p *Plan) Tags(role Role, name string) map[string]*string {
	t := map[string]*string{}
	if p.Input != nil {
		for k, v := range maps.All(p.Input.DefaultTags) {
			t[k] = ptr(v)
		}
	}
	t[TagName] = ptr(name)
	t[TagXR] = ptr(p.XRName)
	t[TagRole] = ptr(string(role))
	t[TagManagedBy] = ptr(managedByThis)
	return t
}

// DefaultSecretsNamespace keeps the generated password and connection secrets when the Input
// names no namespace.
const DefaultSecretsNamespace = "crossplane-system"

// PasswordKey is the key of the generated master password in its Kubernetes Secret.
const PasswordKey = "password"

// SecretsNamespace is where the function keeps Kubernetes Secrets.
func (p *Plan) SecretsNamespace() string {
	if p.Input != nil && p.Input.SecretsNamespace != "" {
		return p.Input.SecretsNamespace
	}
	return DefaultSecretsNamespace
}

// PasswordSecretRef is where provider-aws writes the master password it generates.
func (p *Plan) PasswordSecretRef() *xpv1.SecretKeySelector {
	return &xpv1.SecretKeySelector{
		SecretReference: xpv1.SecretReference{Name: p.Names.Base + "-master-password", Namespace: p.SecretsNamespace()},
		Key:             PasswordKey,
	}
}

// ConnectionSecretRef is where provider-aws writes a database instance's connection details.
func (p *Plan) ConnectionSecretRef(role Role) *xpv1.SecretReference {
	return &xpv1.SecretReference{Name: p.Names.Base + "-" + string(role) + "-db", Namespace: p.SecretsNamespace()}
}

// AZLetter is the short suffix of an AZ used in resource names: its last character.
func AZLetter(az string) string {
	return az[len(az)-1:]
}

func ptr[T any](v T) *T { return &v }
