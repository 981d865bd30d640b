package fn

import (
	"maps"

	protectionv1beta1 "github.com/crossplane/crossplane/apis/v2/protection/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
)

// managed is what the function needs of a typed provider-aws managed resource.
type managed interface {
	runtime.Object
	metav1.Object
	SetProviderConfigReference(r *xpv1.Reference)
}

// desiredState collects the managed resources one reconcile asks for, and what it waits for.
type desiredState struct {
	flavour        flavour
	providerConfig string
	Resources      map[resource.Name]managed
	Order          []resource.Name
	Usages         map[resource.Name]*protectionv1beta1.ClusterUsage
	UsageOrder     []resource.Name
	Waiting        []string
	// Retired are observed instances the user confirmed for deletion and AWS reports
	// unprotected: not desired, so that Crossplane deletes them.
	Retired []resource.Name
	empty   map[resource.Name][]string
	err     error
}

// newDesired returns an empty collection whose resources use the named provider config.
func newDesired(f flavour, providerConfig string) *desiredState {
	return &desiredState{flavour: f, providerConfig: providerConfig, Resources: map[resource.Name]managed{}}
}

// Add asks for a managed resource under a composition-resource name, labelled so that other
// resources of the XR can select it. A name already desired is refused: two builders asking for
// one name would silently lose one of the two resources. Err reports the first refusal.
func (d *desiredState) Add(name resource.Name, mr managed) {
	if _, ok := d.Resources[name]; ok {
		if d.err == nil {
			d.err = errors.Errorf("composed resource %q is desired twice (%T, then %T): each composition-resource name must be built once", name, d.Resources[name], mr)
		}
		return
	}
	l := mr.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[labelResource] = string(name)
	mr.SetLabels(l)
	mr.SetProviderConfigReference(d.flavour.ProviderConfigRef(d.providerConfig))
	d.Order = append(d.Order, name)
	d.Resources[name] = mr
}

// SetEmpty records a field of the named resource that must reach the provider as an empty
// object, which a typed struct cannot carry: composed.From omits a field that would encode as {}
// (go-json-experiment's omitempty). The path is a fieldpath, e.g. spec.forProvider.rule[0].filter.
func (d *desiredState) SetEmpty(name resource.Name, path string) {
	if d.empty == nil {
		d.empty = map[resource.Name][]string{}
	}
	d.empty[name] = append(d.empty[name], path)
}

// AddUsage asks for a ClusterUsage under a composition-resource name. A usage is no cloud
// resource: it is Ready as soon as it exists, and does not gate the XR's readiness.
func (d *desiredState) AddUsage(name resource.Name, u *protectionv1beta1.ClusterUsage) {
	if _, ok := d.Usages[name]; ok || d.Resources[name] != nil {
		if d.err == nil {
			d.err = errors.Errorf("composed resource %q is desired twice: each composition-resource name must be built once", name)
		}
		return
	}
	if d.Usages == nil {
		d.Usages = map[resource.Name]*protectionv1beta1.ClusterUsage{}
	}
	u.SetLabels(map[string]string{labelResource: string(name)})
	d.UsageOrder = append(d.UsageOrder, name)
	d.Usages[name] = u
}

// Err returns the first name Add refused, as an error.
func (d *desiredState) Err() error {
	return d.err
}

// Wait records that a resource is withheld until something is observed.
func (d *desiredState) Wait(what string) {
	d.Waiting = append(d.Waiting, what)
}

// Select returns a selector of the named resource of the same XR.
func (d *desiredState) Select(name resource.Name) *xpv1.Selector {
	return d.flavour.Selector(map[string]string{labelResource: string(name)})
}

// SelectAll returns a selector of every resource of the same XR that carries the labels.
func (d *desiredState) SelectAll(labels map[string]string) *xpv1.Selector {
	return d.flavour.Selector(labels)
}

// AddLabelled is Add with extra labels that SelectAll can select on.
func (d *desiredState) AddLabelled(name resource.Name, mr managed, labels map[string]string) {
	l := mr.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, labels)
	mr.SetLabels(l)
	d.Add(name, mr)
}

// named sets the AWS name of a resource whose provider-aws kind takes its name from the
// external-name annotation (IAM roles, buckets, RDS groups, aliases, log groups...), so that the
// name is the one Names computed rather than the one Crossplane generates.
func named[T managed](mr T, externalName string) T {
	a := mr.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[meta.AnnotationKeyExternalName] = externalName
	mr.SetAnnotations(a)
	return mr
}

// toComposed returns the desired resources as the SDK sends them, each Ready once it is observed
// Ready, and the usages, Ready at once.
func (d *desiredState) toComposed(o observedState) (map[resource.Name]*resource.DesiredComposed, error) {
	out := make(map[resource.Name]*resource.DesiredComposed, len(d.Order)+len(d.UsageOrder))
	add := func(name resource.Name, obj runtime.Object, ready resource.Ready) error {
		cd, err := composed.From(obj)
		if err != nil {
			return errors.Wrapf(err, "cannot convert composed resource %q", name)
		}
		// Nothing of a status is desired; composed.From gives status.observedGeneration: 0 (an
		// int the JSON encoder does not omit).
		delete(cd.Object, "status")
		if err := d.flavour.Compose(cd); err != nil {
			return errors.Wrapf(err, "cannot compose %q in its flavour", name)
		}
		for _, path := range d.empty[name] {
			if err := cd.SetValue(path, map[string]any{}); err != nil {
				return errors.Wrapf(err, "cannot set %s of composed resource %q", path, name)
			}
		}
		out[name] = &resource.DesiredComposed{Resource: cd, Ready: ready}
		return nil
	}
	for _, name := range d.Order {
		if err := add(name, d.Resources[name], readiness(o, name)); err != nil {
			return nil, err
		}
	}
	for _, name := range d.UsageOrder {
		if err := add(name, d.Usages[name], resource.ReadyTrue); err != nil {
			return nil, err
		}
	}
	return out, nil
}
