package fn

import (
	"fmt"
	"maps"
	"net/netip"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// defaultProviderConfigName is used when neither the claim nor the Input names one.
const defaultProviderConfigName = "default"

// Tag keys the function puts on every AWS resource.
const (
	tagName       = "Name"
	tagXR         = "pgdr.io/xr"
	tagRole       = "pgdr.io/role"
	tagManagedBy  = "managed-by"
	managedByThis = "function-postgres-dr"
)

// xrPlan is everything a reconcile computes from the spec before it builds resources.
type xrPlan struct {
	XRName         string
	Spec           v1alpha1.XPostgresDRSpec
	Input          *inputv1alpha1.Input
	Names          awsNames
	ProviderConfig string
	// Flavour is the API the resources are composed in: cluster-scoped for the claim's XR,
	// namespaced for a PostgresDR.
	Flavour flavour
	Regions map[Role]regionPlan
	// Gen is the generation of each region's current instance.
	Gen map[Role]int
	// LambdaRole is the region the failover path (the Lambdas, their network, schedule, trigger
	// and alarms) lives in: the one that does not hold the writer, so that it works when the
	// writer's region is gone. It moves with the roles.
	LambdaRole Role
	// PathArmed is false while no replica lives in LambdaRole's region: then no region hosts the
	// failover path, nor the network only it needs.
	PathArmed bool
}

// Instance is the resource name of a region's current database instance.
func (p *xrPlan) Instance(r Role) resource.Name { return instanceName(r, p.Gen[r]) }

// InstanceID is the RDS identifier of a region's current database instance.
func (p *xrPlan) InstanceID(r Role) string { return p.Names.DBInstance(r, p.Gen[r]) }

// RoleOf is the role of a region of the spec.
func (p *xrPlan) RoleOf(region string) Role {
	if region == p.Regions[RoleDR].Region {
		return RoleDR
	}
	return RolePrimary
}

// regionPlan is one region's part of the plan.
type regionPlan struct {
	Role     Role
	Region   string
	AZs      []string
	Net      networkPlan
	PeerCIDR string
	// Existing is the team's network in Existing mode, nil in Managed mode. Net.VPC is its
	// CIDR then, and AZs and subnets are the team's.
	Existing *v1alpha1.ExistingRegionNetwork
}

// newPlan computes the plan of a validated spec.
func newPlan(xrName, claimName string, s v1alpha1.XPostgresDRSpec, in *inputv1alpha1.Input) (*xrPlan, error) {
	p := &xrPlan{XRName: xrName, Spec: s, Input: in, Names: newNames(xrName, claimName), Regions: map[Role]regionPlan{},
		Gen: map[Role]int{RolePrimary: max(1, s.Generations.Primary), RoleDR: max(1, s.Generations.DR)}, LambdaRole: RoleDR, PathArmed: true,
		Flavour: clusterFlavour{}}
	p.ProviderConfig = providerConfigFor(s.ProviderConfigName, in)
	n := s.Network
	if n.Mode == v1alpha1.NetworkExisting && n.Existing != nil {
		return p, planExisting(p, s)
	}
	for _, r := range []struct {
		role         Role
		region, cidr string
		peer         string
		azs          []string
	}{
		{RolePrimary, s.Regions.Primary, n.PrimaryCIDR, n.DRCIDR, n.PrimaryAZs},
		{RoleDR, s.Regions.DR, n.DRCIDR, n.PrimaryCIDR, n.DRAZs},
	} {
		net, err := planCIDRs(r.cidr, n.SubnetPrefix, n.AZCount)
		if err != nil {
			return nil, err
		}
		azs, err := availabilityZones(r.region, n.AZCount, r.azs)
		if err != nil {
			return nil, err
		}
		p.Regions[r.role] = regionPlan{Role: r.role, Region: r.region, AZs: azs, Net: net, PeerCIDR: r.peer}
	}
	return p, nil
}

// planExisting plans the regions of an Existing network: its VPCs' CIDRs, no subnets of ours.
func planExisting(p *xrPlan, s v1alpha1.XPostgresDRSpec) error {
	e := s.Network.Existing
	for _, r := range []struct {
		role      Role
		region    string
		net, peer *v1alpha1.ExistingRegionNetwork
	}{
		{RolePrimary, s.Regions.Primary, &e.Primary, &e.DR},
		{RoleDR, s.Regions.DR, &e.DR, &e.Primary},
	} {
		vpc, err := netip.ParsePrefix(r.net.CIDRBlock)
		if err != nil {
			return fmt.Errorf("cannot parse %q as an IPv4 CIDR such as 10.20.0.0/16", r.net.CIDRBlock)
		}
		p.Regions[r.role] = regionPlan{Role: r.role, Region: r.region, Net: networkPlan{VPC: vpc.Masked()}, PeerCIDR: r.peer.CIDRBlock, Existing: r.net}
	}
	return nil
}

// Existing reports whether the databases live in the team's own network.
func (p *xrPlan) Existing() bool { return p.Regions[RolePrimary].Existing != nil }

// providerConfigFor is the provider config the XR names, else the Input's, else default.
func providerConfigFor(name string, in *inputv1alpha1.Input) string {
	if name == "" && in != nil {
		name = in.ProviderConfigName
	}
	if name == "" {
		name = defaultProviderConfigName
	}
	return name
}

// Tags returns the tags of an AWS resource: the Input's default tags, then the function's own.
func (p *xrPlan) Tags(role Role, name string) map[string]*string {
	t := map[string]*string{}
	if p.Input != nil {
		for k, v := range maps.All(p.Input.DefaultTags) {
			t[k] = new(v)
		}
	}
	t[tagName] = new(name)
	t[tagXR] = new(p.XRName)
	t[tagRole] = new(string(role))
	t[tagManagedBy] = new(managedByThis)
	return t
}

// AccountID is the AWS account the provider config manages, from the Input.
func (p *xrPlan) AccountID() string {
	if p.Input == nil {
		return ""
	}
	return p.Input.AccountID
}

// defaultSecretsNamespace keeps the generated password and connection secrets when the Input
// names no namespace.
const defaultSecretsNamespace = "crossplane-system"

// passwordKey is the key of the generated master password in its Kubernetes Secret.
const passwordKey = "password"

// SecretsNamespace is where the function keeps Kubernetes Secrets.
func (p *xrPlan) SecretsNamespace() string {
	if p.Input != nil && p.Input.SecretsNamespace != "" {
		return p.Input.SecretsNamespace
	}
	return defaultSecretsNamespace
}

// PasswordSecretRef is where provider-aws writes the master password it generates.
func (p *xrPlan) PasswordSecretRef() *xpv1.SecretKeySelector {
	return &xpv1.SecretKeySelector{
		SecretReference: xpv1.SecretReference{Name: p.Names.Base + "-master-password", Namespace: p.SecretsNamespace()},
		Key:             passwordKey,
	}
}

// ConnectionSecretRef is where provider-aws writes a database instance's connection details.
func (p *xrPlan) ConnectionSecretRef(role Role) *xpv1.SecretReference {
	return &xpv1.SecretReference{Name: p.Names.Base + "-" + string(role) + "-db", Namespace: p.SecretsNamespace()}
}

// azLetter is the short suffix of an AZ used in resource names: its last character.
func azLetter(az string) string {
	return az[len(az)-1:]
}
