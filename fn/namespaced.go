package fn

import (
	"encoding/base64"
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/resource/composite"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// connectionSecretResource is the composition-resource name of a namespaced XR's connection
// Secret: a Crossplane v2 XR has no connection secret of its own.
const connectionSecretResource = resource.Name("connection-secret")

// reNameBase is an AWS name base as newNames makes it: a sanitized name, then a 6-digit hash.
var reNameBase = regexp.MustCompile(`^[a-z][a-z0-9-]*-[0-9a-f]{6}$`)

// connectionSecretType is the type Crossplane gives connection secrets.
const connectionSecretType = "connection.crossplane.io/v1alpha1"

// isNamespaced reports whether the XR is the namespaced PostgresDR.
func isNamespaced(xr *composite.Unstructured) bool {
	return xr.GetKind() == v1alpha1.NamespacedKind
}

// parseNamespaced decodes what only a namespaced XR has, applies its defaults and validates it.
func parseNamespaced(spec map[string]any) (v1alpha1.PostgresDRSpec, error) {
	out := v1alpha1.PostgresDRSpec{}
	if err := decode(spec, "spec", &out); err != nil {
		return out, err
	}
	if out.ProviderConfigRef.Kind == "" {
		out.ProviderConfigRef.Kind = v1alpha1.KindClusterProviderConfig
	}
	return out, nil
}

// validateNamespaced checks the fields only a namespaced XR has, and that it uses them rather
// than the claim's.
func validateNamespaced(s v1alpha1.PostgresDRSpec) field.ErrorList {
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if s.ProviderConfigName != "" {
		errs = append(errs, field.Invalid(sp.Child("providerConfigName"), s.ProviderConfigName,
			"a PostgresDR names its provider config with spec.providerConfigRef: set providerConfigRef.name (and kind ProviderConfig for one in this namespace) instead"))
	}
	pc := sp.Child("providerConfigRef")
	if k := s.ProviderConfigRef.Kind; k != v1alpha1.KindClusterProviderConfig && k != v1alpha1.KindProviderConfig {
		errs = append(errs, field.NotSupported(pc.Child("kind"), k, []string{v1alpha1.KindClusterProviderConfig, v1alpha1.KindProviderConfig}))
	}
	errs = append(errs, validateProviderConfigName(pc.Child("name"), s.ProviderConfigRef.Name)...)
	if b := s.AWSNameBase; b != "" && (len(b) > maxBaseName+1+hashLen || !reNameBase.MatchString(b)) {
		errs = append(errs, field.Invalid(sp.Child("awsNameBase"), b,
			"must be the base of a claim's AWS names: its status.primary.instance without -primary-db, such as orders-db-d4f0ff"))
	}
	if n := s.ConnectionSecretName; n != "" {
		if len(validation.IsDNS1123Subdomain(n)) > 0 {
			errs = append(errs, field.Invalid(sp.Child("connectionSecretName"), n, "must be a Secret name: lowercase letters, digits, '-' and '.', such as orders-db-conn"))
		}
	}
	return errs
}

// namespacedPlan adapts a plan to a namespaced XR: its names hash the namespace too (two teams may
// name their XRs alike; AWS names are per account), its resources use the namespaced flavour and
// its provider config is the spec's, the Input's or default.
func namespacedPlan(p *xrPlan, ns, name string, s v1alpha1.PostgresDRSpec, in *inputv1alpha1.Input) {
	p.Names = newNames(ns+"/"+name, name)
	if s.AWSNameBase != "" {
		p.Names = awsNames{Base: s.AWSNameBase}
	}
	p.ProviderConfig = providerConfigFor(s.ProviderConfigRef.Name, in)
	secret := s.ConnectionSecretName
	if secret == "" {
		secret = name + "-conn"
	}
	p.Flavour = namespacedFlavour{providerConfigKind: s.ProviderConfigRef.Kind, connectionSecret: secret}
}

// ConnectionSecret composes the XR's connection details as a Secret in its namespace.
func (f namespacedFlavour) ConnectionSecret(details resource.ConnectionDetails) *resource.DesiredComposed {
	cd := composed.New()
	cd.SetAPIVersion("v1")
	cd.SetKind("Secret")
	cd.SetName(f.connectionSecret)
	data := make(map[string]any, len(details))
	for k, v := range details {
		data[k] = base64.StdEncoding.EncodeToString(v)
	}
	cd.Object["type"] = connectionSecretType
	cd.Object["data"] = data
	return &resource.DesiredComposed{Resource: cd, Ready: resource.ReadyTrue}
}

// ConnectionSecret is nil: Crossplane publishes a claim's connection details itself.
func (clusterFlavour) ConnectionSecret(resource.ConnectionDetails) *resource.DesiredComposed {
	return nil
}
