package fn

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/function-sdk-go/resource"
)

func TestConnectionDetails(t *testing.T) {
	observed := converge(t, testInput, testXR(testSpec), 0)
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
			want: map[string][]byte{
				ConnEndpoint:       []byte(endpoint(t, observed, RolePrimary)),
				ConnReaderEndpoint: []byte(endpoint(t, observed, RoleDR)),
				ConnPort:           []byte("5432"),
				ConnUsername:       []byte("pgadmin"),
				ConnDatabase:       []byte("app"),
			},
		},
		"Password": {
			reason:   "The password provider-aws generated, from the primary's observed connection details, and nothing else secret.",
			observed: observed,
			password: "pa55-from-provider",
			spec:     testSpec,
			want: map[string][]byte{
				ConnEndpoint:       []byte(endpoint(t, observed, RolePrimary)),
				ConnReaderEndpoint: []byte(endpoint(t, observed, RoleDR)),
				ConnPort:           []byte("5432"),
				ConnUsername:       []byte("pgadmin"),
				ConnPassword:       []byte("pa55-from-provider"),
				ConnDatabase:       []byte("app"),
			},
		},
		"SwitchedOver": {
			reason:   "After a switchover the DR instance is the endpoint and the old primary the reader.",
			observed: observed,
			spec:     `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`,
			want: map[string][]byte{
				ConnEndpoint:       []byte(endpoint(t, observed, RoleDR)),
				ConnReaderEndpoint: []byte(endpoint(t, observed, RolePrimary)),
				ConnPort:           []byte("5432"),
				ConnUsername:       []byte("pgadmin"),
				ConnDatabase:       []byte("app"),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newRequest(testInput, testXR(tc.spec), tc.observed)
			if tc.password != "" {
				req.Observed.Resources[string(DBInstanceName(RolePrimary))].ConnectionDetails = map[string][]byte{ConnPassword: []byte(tc.password), "username": []byte("pgadmin")}
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
