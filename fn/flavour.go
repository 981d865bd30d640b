package fn

import (
	"slices"
	"strings"

	protectionv1beta1 "github.com/crossplane/crossplane/apis/v2/protection/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

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
