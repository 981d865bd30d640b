package contract

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArtifactName(t *testing.T) {
	cases := map[string]struct {
		reason         string
		function, arch string
		want           string
		wantLambdaArch string
	}{
		"LagARM": {
			reason:   "The monitor for Graviton.",
			function: FunctionReplicationLag, arch: ArchARM64,
			want: "replication-lag-arm64.zip", wantLambdaArch: "arm64",
		},
		"FailoverAMD": {
			reason:   "The failover Lambda for x86: the file says amd64, Lambda says x86_64.",
			function: FunctionFailover, arch: ArchAMD64,
			want: "failover-amd64.zip", wantLambdaArch: "x86_64",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := []string{ArtifactName(tc.function, tc.arch), LambdaArchitecture(tc.arch)}
			if diff := cmp.Diff([]string{tc.want, tc.wantLambdaArch}, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
