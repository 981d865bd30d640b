package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/rietest"
)

// envList turns the fixture's environment into a process environment, with the AWS fake's.
func envList(f *fixture, drop ...string) []string {
	out := f.aws.Env()
	for _, k := range slices.Sorted(maps.Keys(f.env)) {
		if !slices.Contains(drop, k) {
			out = append(out, k+"="+f.env[k])
		}
	}
	return out
}

// TestRIE runs the built zip's bootstrap under the Lambda Runtime Interface Emulator: a cold
// and a warm invocation; then, from the zip as shipped, that the default CA bundle is the RDS
// bundle next to bootstrap; then a missing setting.
func TestRIE(t *testing.T) {
	f := newFixture(t, true)
	ctx := t.Context()
	payload := []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	type body struct {
		Result
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	call := func(t *testing.T, r *rietest.RIE) body {
		t.Helper()
		status, b, err := r.Invoke(ctx, payload)
		if err != nil || status != 200 {
			t.Fatalf("invoke: status %d, %v: %s", status, err, b)
		}
		var out body
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("invoke: %v: %s", err, b)
		}
		return out
	}

	t.Run("ColdAndWarm", func(t *testing.T) {
		// The test CA stands in for the RDS bundle next to bootstrap: DB_SSLROOTCERT is unset.
		dir := rietest.Unpacked(t, contract.FunctionReplicationLag)
		ca, err := os.ReadFile(f.pair.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, contract.CABundleFile), ca, 0o644); err != nil {
			t.Fatal(err)
		}
		r := rietest.Start(t, dir, envList(f, contract.EnvSSLRootCert))
		for i := range 2 {
			got := call(t, r)
			if got.ErrorMessage != "" || !got.PrimaryReachable || !got.ReplicaReachable || got.ReplicationLagBytes == nil {
				t.Errorf("invocation %d: %+v", i, got)
			}
		}
		if n := len(f.aws.MetricBatches()); n != 2 {
			t.Errorf("PutMetricData calls = %d, want 2", n)
		}
	})

	t.Run("ShippedBundle", func(t *testing.T) {
		// The zip as shipped: the RDS bundle does not verify the test servers' certificate,
		// which shows it is the bundle in use when DB_SSLROOTCERT is unset.
		r := rietest.Start(t, rietest.Unpacked(t, contract.FunctionReplicationLag), envList(f, contract.EnvSSLRootCert))
		got := call(t, r)
		if !strings.Contains(got.ErrorMessage, "certificate signed by unknown authority") {
			t.Errorf("with the shipped RDS bundle: errorMessage %q, want certificate signed by unknown authority", got.ErrorMessage)
		}
	})

	t.Run("MissingEnvironment", func(t *testing.T) {
		r := rietest.Start(t, rietest.Unpacked(t, contract.FunctionReplicationLag), envList(f, contract.EnvPairName, contract.EnvReplicaHost))
		got := call(t, r)
		want := "cannot load the replication-lag configuration: missing environment variables: REPLICA_HOST, PAIR_NAME"
		if diff := cmp.Diff(want, got.ErrorMessage); diff != "" {
			t.Errorf("errorMessage: -want, +got:\n%s", diff)
		}
	})
}
