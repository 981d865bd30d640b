package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/rietest"
)

func envList(f *fixture, drop ...string) []string {
	out := f.aws.Env()
	for _, k := range slices.Sorted(maps.Keys(f.env)) {
		if !slices.Contains(drop, k) {
			out = append(out, k+"="+f.env[k])
		}
	}
	return out
}

// TestRIE runs the built zip's bootstrap under the Lambda Runtime Interface Emulator: a false
// alarm, then a real failover after the primary is killed, switchover requests (dispatched to
// the switchover handler), then a missing setting.
func TestRIE(t *testing.T) {
	f := newFixture(t, true)
	ctx := t.Context()
	dir := rietest.Unpacked(t, contract.FunctionFailover)
	type body struct {
		Summary
		ErrorMessage string `json:"errorMessage"`
	}
	callRaw := func(t *testing.T, r *rietest.RIE, payload []byte) []byte {
		t.Helper()
		status, b, err := r.Invoke(ctx, payload)
		if err != nil || status != 200 {
			t.Fatalf("invoke: status %d, %v: %s", status, err, b)
		}
		return b
	}
	call := func(t *testing.T, r *rietest.RIE, payload []byte) body {
		t.Helper()
		b := callRaw(t, r, payload)
		var out body
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("invoke: %v: %s", err, b)
		}
		return out
	}
	type switchoverBody struct {
		contract.SwitchoverResult
		ErrorMessage string `json:"errorMessage"`
	}
	callSwitchover := func(t *testing.T, r *rietest.RIE, payload string) switchoverBody {
		t.Helper()
		b := callRaw(t, r, []byte(payload))
		var out switchoverBody
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("invoke: %v: %s", err, b)
		}
		return out
	}
	r := rietest.Start(t, dir, envList(f))

	t.Run("FalseAlarm", func(t *testing.T) {
		got := call(t, r, alarmPayload(alarmName, "ALARM", time.Now()))
		if got.Action != ActionRefused || f.aws.CallCount("rds", "PromoteReadReplica") != 0 {
			t.Errorf("false alarm: %+v, promotions %d; want refused and none", got, f.aws.CallCount("rds", "PromoteReadReplica"))
		}
	})

	t.Run("Failover", func(t *testing.T) {
		if err := f.pair.Primary.Kill(); err != nil {
			t.Fatal(err)
		}
		got := call(t, r, alarmPayload(alarmName, "ALARM", time.Now()))
		if got.Action != ActionPromoted || got.Endpoint != drEndpoint || got.Timings.WritableAt.IsZero() {
			t.Errorf("failover: %+v; want promoted to %s and writable", got, drEndpoint)
		}
		if rec, _ := f.aws.Record(zoneID, recordName, "CNAME", setID); !slices.Equal(rec.Values, []string{drEndpoint}) {
			t.Errorf("record after failover: %+v", rec)
		}
	})

	// A switchover request reaches the switchover handler through the zip's bootstrap. The
	// replica was promoted by the failover above: the switchover reports it and promotes
	// nothing.
	t.Run("Switchover", func(t *testing.T) {
		promotes := f.aws.CallCount("rds", "PromoteReadReplica")
		got := callSwitchover(t, r, `{"action":"switchover","id":"orders-rie","catchUpTimeoutSeconds":5}`)
		if got.Action != contract.ActionSwitchover || got.ID != "orders-rie" || got.Outcome != contract.SwitchoverPromoted ||
			!strings.Contains(got.Reason, "has no record of this switchover") || got.ErrorMessage != "" {
			t.Errorf("switchover: %+v; want action switchover, Promoted, found promoted", got)
		}
		if n := f.aws.CallCount("rds", "PromoteReadReplica"); n != promotes {
			t.Errorf("PromoteReadReplica calls: %d, want still %d", n, promotes)
		}
	})

	t.Run("SwitchoverInvalid", func(t *testing.T) {
		got := callSwitchover(t, r, `{"action":"switchover","id":"","catchUpTimeoutSeconds":-1}`)
		want := "invalid switchover request: id is empty; catchUpTimeoutSeconds -1 is negative (0 means the default, 1m0s)"
		if diff := cmp.Diff(want, got.ErrorMessage); diff != "" {
			t.Errorf("errorMessage: -want, +got:\n%s", diff)
		}
	})

	t.Run("MissingEnvironment", func(t *testing.T) {
		r := rietest.Start(t, dir, envList(f, contract.EnvAlarmName, contract.EnvHostedZoneID))
		got := call(t, r, alarmPayload(alarmName, "ALARM", time.Now()))
		want := "cannot load the failover configuration: missing environment variables: ALARM_NAME, HOSTED_ZONE_ID"
		if diff := cmp.Diff(want, got.ErrorMessage); diff != "" {
			t.Errorf("errorMessage: -want, +got:\n%s", diff)
		}
	})
}
