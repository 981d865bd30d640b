package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NamespacedKind is the kind of the namespaced XR (Crossplane v2, no claim).
const NamespacedKind = "PostgresDR"

// PostgresDR is XPostgresDR for Crossplane v2's namespaced composite resources: it lives in the
// team's namespace, composes the namespaced provider-aws resources (*.aws.m.upbound.io) there,
// and composes its connection details as a Secret beside it. It has no claim.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=crossplane
type PostgresDR struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PostgresDRSpec    `json:"spec"`
	Status XPostgresDRStatus `json:"status,omitempty"`
}

// PostgresDRSpec is XPostgresDRSpec, and what only a namespaced XR needs.
// The embedded spec's rules apply as they are (controller-gen carries them over).
// +kubebuilder:validation:XValidation:rule="has(self.awsNameBase) == has(oldSelf.awsNameBase) && (!has(self.awsNameBase) || self.awsNameBase == oldSelf.awsNameBase)",message="spec.awsNameBase cannot be set, changed or removed once the PostgresDR exists: every AWS name would change"
// +kubebuilder:validation:XValidation:rule="!has(self.providerConfigName)",message="spec.providerConfigName is for the claim: a PostgresDR names its provider config with spec.providerConfigRef (kind and name)"
type PostgresDRSpec struct {
	XPostgresDRSpec `json:",inline"`

	// ProviderConfigRef is the provider-aws provider config the composed resources use: a
	// ClusterProviderConfig, or a ProviderConfig in this namespace. Empty name means the one the
	// platform team set in the function's Input, else default.
	// +kubebuilder:default={kind: ClusterProviderConfig}
	// +optional
	ProviderConfigRef ProviderConfigRef `json:"providerConfigRef,omitempty"`

	// AWSNameBase is the prefix of every AWS name the function gives (RDS identifiers, buckets,
	// IAM roles, key aliases, log groups...). Empty means the XR's name and a hash of its
	// namespace and name. To adopt a claim's AWS resources, set it to the base that claim's XR
	// used: its status.primary.instance without the "-primary-db" suffix. It is fixed at creation.
	// +kubebuilder:validation:MaxLength=31
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9-]*-[0-9a-f]{6}$`
	// +optional
	AWSNameBase string `json:"awsNameBase,omitempty"`

	// ConnectionSecretName is the Secret, in this namespace, the function composes with the
	// connection details (the keys a claim's connection secret has). Empty means <name>-conn.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$`
	// +optional
	ConnectionSecretName string `json:"connectionSecretName,omitempty"`
}

// ProviderConfigRef names a namespaced provider-aws provider config.
type ProviderConfigRef struct {
	// Kind is ClusterProviderConfig or ProviderConfig (aws.m.upbound.io).
	// +kubebuilder:validation:Enum=ClusterProviderConfig;ProviderConfig
	// +kubebuilder:default=ClusterProviderConfig
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name is the provider config's name.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$`
	// +optional
	Name string `json:"name,omitempty"`
}

// Provider config kinds of the namespaced provider-aws.
const (
	KindClusterProviderConfig = "ClusterProviderConfig"
	KindProviderConfig        = "ProviderConfig"
)
