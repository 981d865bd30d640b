// Package v1alpha1 contains the input type of function-postgres-dr: what a platform team sets
// once, in the Composition, for every PostgresDR of the cluster.
// +kubebuilder:object:generate=true
// +groupName=fn.pgdr.io
// +versionName=v1alpha1
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Input configures function-postgres-dr for a platform.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories=crossplane
type Input struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// AccountID is the 12-digit AWS account the provider config manages. KMS key policies name it:
	// they let this account's RDS, S3, SNS, CloudWatch and CloudWatch Logs use the keys.
	// +kubebuilder:validation:Pattern=`^[0-9]{12}$`
	AccountID string `json:"accountID"`

	// ProviderConfigName is the provider-aws ProviderConfig used when a claim names none.
	// +kubebuilder:default="default"
	// +optional
	ProviderConfigName string `json:"providerConfigName,omitempty"`

	// SecretsNamespace is where the generated master password and the databases' connection
	// secrets are kept, as Kubernetes Secrets that only Crossplane reads.
	// +kubebuilder:default="crossplane-system"
	// +optional
	SecretsNamespace string `json:"secretsNamespace,omitempty"`

	// DefaultTags are put on every AWS resource, before the function's own tags.
	// +kubebuilder:validation:MaxProperties=40
	// +optional
	DefaultTags map[string]string `json:"defaultTags,omitempty"`

	// LambdaArtifacts says, per region, where the Lambda zips built by `make lambda` are.
	// +optional
	LambdaArtifacts []LambdaArtifacts `json:"lambdaArtifacts,omitempty"`

	// AllowedInstanceClasses limits the instance classes claims may ask for. Empty allows all.
	// +optional
	AllowedInstanceClasses []string `json:"allowedInstanceClasses,omitempty"`
}

// LambdaArtifacts locates the Lambda zips in one region (Lambda reads code only from a bucket
// in its own region).
type LambdaArtifacts struct {
	// Region is the AWS region of the bucket.
	Region string `json:"region"`
	// Bucket holds the zips.
	Bucket string `json:"bucket"`
	// ReplicationLagKey is the object key of the replication-lag monitor's zip.
	// +kubebuilder:default="replication-lag-arm64.zip"
	// +optional
	ReplicationLagKey string `json:"replicationLagKey,omitempty"`
	// FailoverKey is the object key of the failover orchestrator's zip.
	// +kubebuilder:default="failover-arm64.zip"
	// +optional
	FailoverKey string `json:"failoverKey,omitempty"`
}
