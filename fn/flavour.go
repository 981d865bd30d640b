package fn

import (
	"slices"
	"strings"

	protectionv1beta1 "github.com/crossplane/crossplane/apis/v2/protection/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	cloudwatchv1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatch/v1beta2"
	cloudwatcheventsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchevents/v1beta1"
	cloudwatcheventsv1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchevents/v1beta2"
	cloudwatchlogsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/cloudwatchlogs/v1beta1"
	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
	ec2v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta2"
	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	kmsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/kms/v1beta1"
	lambdav1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta1"
	lambdav1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta2"
	rdsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta1"
	rdsv1beta3 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta3"
	route53v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta1"
	route53v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/route53/v1beta2"
	s3v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta1"
	s3v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta2"
	secretsmanagerv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/secretsmanager/v1beta1"
	snsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/sns/v1beta1"
)

// labelResource labels every composed resource with its composition-resource name, so that a
// same-region reference can select it (together with matchControllerRef).
const labelResource = "pgdr.io/resource"

// Labels that group composed resources, so that a reference to several (the database subnets of
// a region, for a DB subnet group) can select them all.
const (
	labelRole = "pgdr.io/role"
	labelTier = "pgdr.io/tier"
)

// flavour is what differs between the cluster-scoped (*.aws.upbound.io) and the namespaced
// (*.aws.m.upbound.io) flavours of provider-aws: how a resource names its provider config and
// how a reference selects its target. Builders call it and stay the same for both.
type flavour interface {
	// ProviderConfigRef returns the reference to the named provider config.
	ProviderConfigRef(name string) *xpv1.Reference
	// Selector selects the composed resources of the same XR that carry the labels.
	Selector(labels map[string]string) *xpv1.Selector
	// LabelSelector selects any managed resource that carries the labels, the team's own.
	LabelSelector(labels map[string]string) *xpv1.Selector
	// Compose turns a desired resource, built with the cluster-scoped types, into this flavour's.
	Compose(cd *composed.Unstructured) error
	// ConnectionSecret is the composed Secret that carries the connection details, or nil where
	// Crossplane publishes them from the XR's.
	ConnectionSecret(details resource.ConnectionDetails) *resource.DesiredComposed
}

// Groups of provider-aws: the cluster-scoped and the namespaced flavour of a service differ by
// this suffix, and every namespaced kind of provider-aws v2.5.0 is served as v1beta1 only.
const (
	clusterGroupSuffix    = ".aws.upbound.io"
	namespacedGroupSuffix = ".aws.m.upbound.io"
	namespacedVersion     = "v1beta1"
)

// clusterGroupKind is the cluster-scoped kind a namespaced provider-aws kind stands for, so
// that what the function knows of a kind (stateful, a composite alarm) holds in both flavours.
func clusterGroupKind(gk schema.GroupKind) schema.GroupKind {
	if svc, ok := strings.CutSuffix(gk.Group, namespacedGroupSuffix); ok {
		gk.Group = svc + clusterGroupSuffix
	}
	return gk
}

// clusterFlavour composes the cluster-scoped *.aws.upbound.io managed resources.
type clusterFlavour struct{}

// ProviderConfigRef names a cluster-scoped ProviderConfig.
func (clusterFlavour) ProviderConfigRef(name string) *xpv1.Reference {
	return &xpv1.Reference{Name: name}
}

// Selector selects by controller reference and labels.
func (clusterFlavour) Selector(labels map[string]string) *xpv1.Selector {
	t := true
	return &xpv1.Selector{MatchControllerRef: &t, MatchLabels: labels}
}

// LabelSelector selects by labels alone.
func (clusterFlavour) LabelSelector(labels map[string]string) *xpv1.Selector {
	return &xpv1.Selector{MatchLabels: labels}
}

// Compose leaves a cluster-scoped resource as built.
func (clusterFlavour) Compose(*composed.Unstructured) error { return nil }

// namespacedFlavour composes the namespaced *.aws.m.upbound.io managed resources in the XR's
// namespace (Crossplane puts every composed resource of a namespaced XR there). Their schemas
// are the cluster-scoped ones but for what a namespace changes: the provider config is named with
// its kind, secrets live in the resource's own namespace, and there is no deletion policy.
type namespacedFlavour struct {
	// providerConfigKind is ClusterProviderConfig or ProviderConfig.
	providerConfigKind string
	// connectionSecret is the name of the Secret with the connection details.
	connectionSecret string
}

// ProviderConfigRef names the provider config; Compose adds its kind.
func (namespacedFlavour) ProviderConfigRef(name string) *xpv1.Reference {
	return &xpv1.Reference{Name: name}
}

// Selector selects by controller reference and labels, in the resource's namespace.
func (namespacedFlavour) Selector(labels map[string]string) *xpv1.Selector {
	return clusterFlavour{}.Selector(labels)
}

// LabelSelector selects by labels alone, in the resource's namespace.
func (namespacedFlavour) LabelSelector(labels map[string]string) *xpv1.Selector {
	return clusterFlavour{}.LabelSelector(labels)
}

// Compose moves a resource into the namespaced API groups: a provider-aws kind to its
// *.aws.m.upbound.io v1beta1 twin, a ClusterUsage to a Usage.
func (f namespacedFlavour) Compose(cd *composed.Unstructured) error {
	if cd.GetKind() == protectionv1beta1.ClusterUsageKind {
		cd.SetKind(protectionv1beta1.UsageKind)
		for _, side := range []string{"of", "by"} {
			if av, err := cd.GetString("spec." + side + ".apiVersion"); err == nil {
				if err := cd.SetString("spec."+side+".apiVersion", namespacedAPIVersion(av)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	cd.SetAPIVersion(namespacedAPIVersion(cd.GetAPIVersion()))
	spec, _ := cd.Object["spec"].(map[string]any)
	if spec == nil {
		return nil
	}
	delete(spec, "deletionPolicy")
	if pc, ok := spec["providerConfigRef"].(map[string]any); ok {
		spec["providerConfigRef"] = map[string]any{"kind": f.providerConfigKind, "name": pc["name"]}
	}
	if ws, ok := spec["writeConnectionSecretToRef"].(map[string]any); ok {
		delete(ws, "namespace")
	}
	localSecretRefs(spec["forProvider"])
	return nil
}

// namespacedAPIVersion is the namespaced twin of a provider-aws API version.
func namespacedAPIVersion(apiVersion string) string {
	group, _, _ := strings.Cut(apiVersion, "/")
	if svc, ok := strings.CutSuffix(group, clusterGroupSuffix); ok {
		return svc + namespacedGroupSuffix + "/" + namespacedVersion
	}
	return apiVersion
}

// localSecretRefs drops the namespace of every secret reference (*SecretRef): a namespaced
// resource's secrets are in its own namespace.
func localSecretRefs(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if ref, ok := c.(map[string]any); ok && strings.HasSuffix(k, "SecretRef") {
				delete(ref, "namespace")
				continue
			}
			localSecretRefs(c)
		}
	case []any:
		for _, c := range x {
			localSecretRefs(c)
		}
	}
}

// schemeBuilders register the provider-aws kinds the function composes.
var schemeBuilders = []func(*runtime.Scheme) error{ //nolint:gochecknoglobals // A constant list.
	protectionv1beta1.AddToScheme,
	cloudwatchv1beta2.AddToScheme,
	cloudwatcheventsv1beta1.AddToScheme,
	cloudwatcheventsv1beta2.AddToScheme,
	cloudwatchlogsv1beta1.AddToScheme,
	ec2v1beta1.AddToScheme,
	ec2v1beta2.AddToScheme,
	iamv1beta1.AddToScheme,
	kmsv1beta1.AddToScheme,
	lambdav1beta1.AddToScheme,
	lambdav1beta2.AddToScheme,
	rdsv1beta1.AddToScheme,
	rdsv1beta3.AddToScheme,
	route53v1beta1.AddToScheme,
	route53v1beta2.AddToScheme,
	s3v1beta1.AddToScheme,
	s3v1beta2.AddToScheme,
	secretsmanagerv1beta1.AddToScheme,
	snsv1beta1.AddToScheme,
}

// registerScheme adds the provider-aws kinds the function composes to composed.Scheme.
func registerScheme() error {
	for _, add := range schemeBuilders {
		if err := add(composed.Scheme); err != nil {
			return err
		}
	}
	return nil
}

// ComposedGroups returns the API groups of the kinds the function composes, sorted.
func ComposedGroups() []string {
	s := runtime.NewScheme()
	seen := map[string]bool{}
	for _, add := range schemeBuilders {
		_ = add(s)
	}
	for gvk := range s.AllKnownTypes() {
		if strings.HasSuffix(gvk.Group, ".upbound.io") {
			seen[gvk.Group] = true
		}
	}
	out := make([]string, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}
