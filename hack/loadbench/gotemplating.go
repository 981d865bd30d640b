package main

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// The annotations function-go-templating reads from what its template renders.
const (
	goTemplatingResourceName = "gotemplating.fn.crossplane.io/composition-resource-name"
	goTemplatingReady        = "gotemplating.fn.crossplane.io/ready"
)

// goTemplatingRequest returns base with the input that makes function-go-templating desire what
// rsp desires: the same composed resources, ready as they are, and the XR's status, from a
// static inline template. A static template is the least work function-go-templating can do for
// that answer (a real one computes names, CIDRs and wiring too): comparing with it favours
// function-go-templating.
func goTemplatingRequest(base *fnv1.RunFunctionRequest, rsp *fnv1.RunFunctionResponse) (*fnv1.RunFunctionRequest, error) {
	var docs []string
	if xr := rsp.GetDesired().GetComposite().GetResource(); xr != nil {
		if status, ok := xr.GetFields()["status"]; ok {
			observed := base.GetObserved().GetComposite().GetResource().GetFields()
			y, err := yaml.Marshal(map[string]any{
				"apiVersion": observed["apiVersion"].GetStringValue(),
				"kind":       observed["kind"].GetStringValue(),
				"status":     status.AsInterface(),
			})
			if err != nil {
				return nil, errors.Wrap(err, "cannot render the XR's status")
			}
			docs = append(docs, string(y))
		}
	}
	names := make([]string, 0, len(rsp.GetDesired().GetResources()))
	for n := range rsp.GetDesired().GetResources() {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		r := rsp.GetDesired().GetResources()[n]
		obj := r.GetResource().AsMap()
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		ann, _ := meta["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			meta["annotations"] = ann
		}
		ann[goTemplatingResourceName] = n
		switch r.GetReady() {
		case fnv1.Ready_READY_TRUE:
			ann[goTemplatingReady] = "True"
		case fnv1.Ready_READY_FALSE:
			ann[goTemplatingReady] = "False"
		case fnv1.Ready_READY_UNSPECIFIED:
		}
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot render composed resource %q", n)
		}
		docs = append(docs, string(y))
	}
	tmpl := "---\n" + strings.Join(docs, "---\n")
	in := map[string]any{
		"apiVersion": "gotemplating.fn.crossplane.io/v1beta1",
		"kind":       "GoTemplate",
		"source":     "Inline",
		"inline":     map[string]any{"template": tmpl},
	}
	// The text must hold no template action: where it holds the default delimiters (a template
	// of its own, say), others are chosen.
	switch {
	case !strings.Contains(tmpl, "{{") && !strings.Contains(tmpl, "}}"):
	case !strings.Contains(tmpl, "[[%") && !strings.Contains(tmpl, "%]]"):
		in["delims"] = map[string]any{"left": "[[%", "right": "%]]"}
	default:
		return nil, errors.New("the desired resources hold both {{ }} and [[% %]]: no delimiters left for a static template")
	}
	input, err := structpb.NewStruct(in)
	if err != nil {
		return nil, errors.Wrap(err, "cannot build function-go-templating's input")
	}
	req := proto.CloneOf(base)
	req.Input = input
	return req, nil
}
