package fn

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation/field"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// Input's group, version and kind as the Composition must spell them.
const (
	inputAPIVersion = "fn.pgdr.io/v1alpha1"
	inputKind       = "Input"
)

var reAccountID = regexp.MustCompile(`^[0-9]{12}$`)

// parseInput reads and checks the function's Input from the Composition's pipeline step.
func parseInput(req *fnv1.RunFunctionRequest) (*inputv1alpha1.Input, error) {
	if req.GetInput() == nil {
		return nil, fmt.Errorf("the pipeline step has no input: add input with apiVersion %s and kind %s to the Composition's step", inputAPIVersion, inputKind)
	}
	in := &inputv1alpha1.Input{}
	if err := decode(req.GetInput().AsMap(), "input", in); err != nil {
		return nil, fmt.Errorf("cannot parse the pipeline step's input as %s %s: %w", inputAPIVersion, inputKind, err)
	}
	if in.APIVersion != inputAPIVersion || in.Kind != inputKind {
		return nil, fmt.Errorf("input: Invalid value: %q: the pipeline step's input must have apiVersion %s and kind %s", in.APIVersion+"/"+in.Kind, inputAPIVersion, inputKind)
	}
	if errs := validateInput(in); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return in, nil
}

// validateInput checks the Input's fields.
func validateInput(in *inputv1alpha1.Input) field.ErrorList {
	var errs field.ErrorList
	ip := field.NewPath("input")
	if !reAccountID.MatchString(in.AccountID) {
		errs = append(errs, field.Invalid(ip.Child("accountID"), in.AccountID, "set the 12-digit AWS account id the provider config manages, such as 123456789012"))
	}
	seen := map[string]bool{}
	for i, a := range in.LambdaArtifacts {
		ap := ip.Child("lambdaArtifacts").Index(i)
		switch {
		case !knownRegion(a.Region):
			errs = append(errs, field.NotSupported(ap.Child("region"), a.Region, sortedRegions()))
		case seen[a.Region]:
			errs = append(errs, field.Duplicate(ap.Child("region"), a.Region))
		}
		seen[a.Region] = true
		if a.Bucket == "" {
			errs = append(errs, field.Required(ap.Child("bucket"), "name the S3 bucket in "+a.Region+" that holds the Lambda zips built by make lambda"))
		}
	}
	for i, c := range in.AllowedInstanceClasses {
		if !reInstanceClass.MatchString(c) {
			errs = append(errs, field.Invalid(ip.Child("allowedInstanceClasses").Index(i), c, "must be an RDS instance class such as db.r6g.large"))
		}
	}
	errs = append(errs, validateProviderConfigName(ip.Child("providerConfigName"), in.ProviderConfigName)...)
	for k := range in.DefaultTags {
		if len(k) > 128 || k == "" {
			errs = append(errs, field.Invalid(ip.Child("defaultTags").Key(k), k, "tag keys must be 1 to 128 characters"))
		}
	}
	return errs
}
