// Package v1alpha1 contains the API of the PostgresDR composite resource: the XR XPostgresDR and
// its claim PostgresDRClaim. These Go types are the one source of truth: the XRD's schema is
// generated from them and the function parses the XR into them.
// +kubebuilder:object:generate=true
// +groupName=pgdr.io
// +versionName=v1alpha1
package v1alpha1

import "k8s.io/apimachinery/pkg/runtime/schema"

// Group, version and kinds of the API.
const (
	Group     = "pgdr.io"
	Version   = "v1alpha1"
	XRKind    = "XPostgresDR"
	ClaimKind = "PostgresDRClaim"
)

// SchemeGroupVersion is the group version of the XR.
var SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}
