package fn

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/function-sdk-go/resource"
)

func TestConnectionDetails(t *testing.T) {
	observed := converge(t, testInput, testXR(testSpec), 0)
	// details are the connection details with the writer's and the reader's endpoints.
	details := func(writer, reader Role, extra map[string][]byte) map[string][]byte {
		d := map[string][]byte{
			connEndpoint:       []byte(endpoint(t, observed, writer)),
			connReaderEndpoint: []byte(endpoint(t, observed, reader)),
			connPort:           []byte("5432"),
			connUsername:       []byte("pgadmin"),
			connDatabase:       []byte("app"),
		}
		maps.Copy(d, extra)
		return d
	}
	cases := map[string]struct {
		reason   string
		observed map[string]string
		password string
		spec     string
		want     map[string][]byte
	}{
		"NothingObserved": {
			reason: "No instance observed: no connection details yet.",
			spec:   testSpec,
			want:   nil,
		},
		"Replicating": {
			reason:   "The primary is the endpoint, the replica the reader endpoint.",
			observed: observed,
			spec:     testSpec,
			want:     details(RolePrimary, RoleDR, nil),
		},
		"Password": {
			reason:   "The password provider-aws generated, from the primary's observed connection details, and nothing else secret.",
			observed: observed,
			password: "pa55-from-provider",
			spec:     testSpec,
			want:     details(RolePrimary, RoleDR, map[string][]byte{connPassword: []byte("pa55-from-provider")}),
		},
		"SwitchedOver": {
			reason:   "After a switchover the DR instance is the endpoint and the old primary the reader.",
			observed: observed,
			spec:     `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`,
			want:     details(RoleDR, RolePrimary, nil),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newRequest(testInput, testXR(tc.spec), tc.observed)
			if tc.password != "" {
				req.Observed.Resources[string(DBInstanceName(RolePrimary))].ConnectionDetails = map[string][]byte{connPassword: []byte(tc.password), "username": []byte("pgadmin")}
			}
			rsp := runFn(t, req)
			got := rsp.GetDesired().GetComposite().GetConnectionDetails()
			if diff := cmp.Diff(tc.want, got, protocmp.Transform(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\nconnection details: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func endpoint(t *testing.T, observed map[string]string, role Role) string {
	t.Helper()
	return observedField(t, observed, DBInstanceName(role), "status.atProvider.address")
}

func observedField(t *testing.T, observed map[string]string, name resource.Name, path string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(observed[string(name)]), &m); err != nil {
		t.Fatal(err)
	}
	s, _ := get(m, path).(string)
	if s == "" {
		t.Fatalf("%s has no %s", name, path)
	}
	return s
}
