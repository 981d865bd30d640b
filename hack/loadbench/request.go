package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"google.golang.org/protobuf/types/known/structpb"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// AnnotationResourceName is the annotation Crossplane keys a composed resource by.
const AnnotationResourceName = "crossplane.io/composition-resource-name"

// composition is the part of a Composition the load run reads: its pipeline's inputs.
type composition struct {
	Spec struct {
		Pipeline []struct {
			Step        string `json:"step"`
			FunctionRef struct {
				Name string `json:"name"`
			} `json:"functionRef"`
			Input map[string]any `json:"input"`
		} `json:"pipeline"`
	} `json:"spec"`
}

// buildRequest builds the RunFunctionRequest Crossplane would send the named function of the
// Composition for the XR, with the composed resources of observedYAML (a multi-document YAML
// stream, each document keyed by its composition-resource-name annotation; nil or empty for a
// first pass) observed. It has no meta: runLoad gives each call its own tag.
func buildRequest(xrYAML, compositionYAML, observedYAML []byte, function string) (*fnv1.RunFunctionRequest, error) {
	input, err := stepInput(compositionYAML, function)
	if err != nil {
		return nil, err
	}
	xr, err := yamlStruct(xrYAML)
	if err != nil {
		return nil, errors.Wrap(err, "cannot parse the XR")
	}
	if xr == nil {
		return nil, errors.New("the XR is empty")
	}
	observed, err := observedResources(observedYAML)
	if err != nil {
		return nil, err
	}
	return &fnv1.RunFunctionRequest{
		Input:    input,
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xr}, Resources: observed},
		Desired:  &fnv1.State{},
	}, nil
}

// stepInput returns the input of the Composition's pipeline step that calls function.
func stepInput(compositionYAML []byte, function string) (*structpb.Struct, error) {
	c := composition{}
	if err := yaml.Unmarshal(compositionYAML, &c); err != nil {
		return nil, errors.Wrap(err, "cannot parse the Composition")
	}
	for _, s := range c.Spec.Pipeline {
		if s.FunctionRef.Name != function {
			continue
		}
		if s.Input == nil {
			return nil, errors.Errorf("step %q calls %s without input", s.Step, function)
		}
		in, err := structpb.NewStruct(s.Input)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot convert the input of step %q", s.Step)
		}
		return in, nil
	}
	return nil, errors.Errorf("the Composition has no pipeline step calling function %q", function)
}

// observedResources parses a multi-document YAML stream of composed resources into the map
// Crossplane sends, keyed by each resource's composition-resource-name annotation. Empty
// documents (comments only) are skipped.
func observedResources(stream []byte) (map[string]*fnv1.Resource, error) {
	out := map[string]*fnv1.Resource{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, errors.Wrapf(err, "cannot read observed document %d", i)
		}
		s, err := yamlStruct(doc)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot parse observed document %d", i)
		}
		if s == nil {
			continue
		}
		name := s.GetFields()["metadata"].GetStructValue().GetFields()["annotations"].GetStructValue().GetFields()[AnnotationResourceName].GetStringValue()
		if name == "" {
			return nil, errors.Errorf("observed document %d has no %s annotation", i, AnnotationResourceName)
		}
		if _, dup := out[name]; dup {
			return nil, errors.Errorf("observed document %d: composed resource %q appears twice", i, name)
		}
		out[name] = &fnv1.Resource{Resource: s}
	}
}

// yamlStruct converts one YAML document into a Struct; nil when the document is empty.
func yamlStruct(doc []byte) (*structpb.Struct, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, errors.Wrap(err, "cannot decode the document as an object")
	}
	if m == nil {
		return nil, nil //nolint:nilnil // A comment-only document has no object: callers skip it.
	}
	return structpb.NewStruct(m)
}
