package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestParseConcurrency(t *testing.T) {
	type want struct {
		c   []int
		err bool
	}
	cases := map[string]struct {
		reason string
		arg    string
		want   want
	}{
		"Default":  {reason: "The default list.", arg: "1,4", want: want{c: []int{1, 4}}},
		"Spaces":   {reason: "Spaces around the numbers are fine.", arg: " 2 , 8", want: want{c: []int{2, 8}}},
		"Zero":     {reason: "Zero goroutines make no calls.", arg: "1,0", want: want{err: true}},
		"Garbage":  {reason: "Not a number.", arg: "four", want: want{err: true}},
		"Trailing": {reason: "An empty element is a mistake, not a default.", arg: "1,", want: want{err: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := parseConcurrency(tc.arg)
			if diff := cmp.Diff(tc.want, want{c: c, err: err != nil}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nparseConcurrency(%q): -want, +got (error %v):\n%s", tc.reason, tc.arg, err, diff)
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	desired := &fnv1.State{Resources: map[string]*fnv1.Resource{"vpc": {}}}
	cases := map[string]struct {
		reason  string
		rsp     *fnv1.RunFunctionResponse
		wantErr bool
	}{
		"Desired": {reason: "Composed resources and no fatal result.", rsp: &fnv1.RunFunctionResponse{Desired: desired, Results: []*fnv1.Result{{Severity: fnv1.Severity_SEVERITY_WARNING}}}},
		"Fatal":   {reason: "A fatal result is a failed reconcile, however fast.", rsp: &fnv1.RunFunctionResponse{Desired: desired, Results: []*fnv1.Result{{Severity: fnv1.Severity_SEVERITY_FATAL, Message: "bad"}}}, wantErr: true},
		"Nothing": {reason: "Nothing desired is not the reconcile to measure.", rsp: &fnv1.RunFunctionResponse{}, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := checkResponse(tc.rsp)
			if diff := cmp.Diff(tc.wantErr, err != nil); diff != "" {
				t.Errorf("\n%s\ncheckResponse(...): got error %v; -want error, +got:\n%s", tc.reason, err, diff)
			}
		})
	}
}
