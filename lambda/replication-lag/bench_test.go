package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/rietest"
)

// BenchmarkWarmInvocation measures a warm invocation of the monitor on the local pair: two TLS
// connections with SCRAM logins, the heartbeat, the LSN reads and one PutMetricData. In process
// through lambda.NewHandler, and through the Runtime Interface Emulator with the built zip.
func BenchmarkWarmInvocation(b *testing.B) {
	f := newFixture(b, true)
	ctx := b.Context()

	b.Run("InProcess", func(b *testing.B) {
		h := f.handler()
		if _, err := invoke(ctx, h); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := invoke(ctx, h); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("RIE", func(b *testing.B) {
		dir := rietest.Unpacked(b, contract.FunctionReplicationLag)
		ca, err := os.ReadFile(f.pair.CAFile)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, contract.CABundleFile), ca, 0o644); err != nil {
			b.Fatal(err)
		}
		r := rietest.Start(b, dir, envList(f, contract.EnvSSLRootCert))
		payload := []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
		if status, body, err := r.Invoke(ctx, payload); err != nil || status != 200 {
			b.Fatalf("cold invocation: %d %v %s", status, err, body)
		}
		for b.Loop() {
			if status, body, err := r.Invoke(ctx, payload); err != nil || status != 200 {
				b.Fatalf("warm invocation: %d %v %s", status, err, body)
			}
		}
	})
}
