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
		spec     string
		want     map[string][]byte
	}{
		"NothingObserved": {
			reason: "No instance observed: no connection details yet.",
			spec:   testSpec,
			want:   nil,
		},
		"Replicating": {
			reason:   "The primary is the endpoint, the replica the reader endpoint; the master password is never a detail, its secret's ARN is.",
			observed: observed,
			spec:     testSpec,
			want: map[string][]byte{
				ConnEndpoint:       []byte(endpoint(t, observed, RolePrimary)),
				ConnReaderEndpoint: []byte(endpoint(t, observed, RoleDR)),
				ConnPort:           []byte("5432"),
				ConnUsername:       []byte("pgadmin"),
				ConnDatabase:       []byte("app"),
				ConnSecretARN:      []byte(secretARN(t, observed)),
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
				ConnSecretARN:      []byte(secretARN(t, observed)),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(tc.spec), tc.observed))
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

func secretARN(t *testing.T, observed map[string]string) string {
	t.Helper()
	return observedField(t, observed, DBInstanceName(RolePrimary), "status.atProvider.masterUserSecret")
}

func observedField(t *testing.T, observed map[string]string, name resource.Name, path string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(observed[string(name)]), &m); err != nil {
		t.Fatal(err)
	}
	v := get(m, path)
	if l, ok := v.([]any); ok { // masterUserSecret is a list of one
		v = l[0].(map[string]any)["secretArn"]
	}
	s, _ := v.(string)
	if s == "" {
		t.Fatalf("%s has no %s", name, path)
	}
	return s
}
