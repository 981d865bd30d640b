package heartbeat

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

func TestHeartbeat(t *testing.T) {
	p := pgtest.Start(t)
	ctx := t.Context()
	connect := func(n *pgtest.Node) *pgx.Conn {
		t.Helper()
		c, err := pgx.ConnectConfig(ctx, n.App())
		if err != nil {
			t.Fatalf("connect to %s: %v", n.Name, err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	primary, standby := connect(p.Primary), connect(p.Standby)

	type result struct {
		seq           int64
		seen          bool
		beatErr       string
		waitedAtLeast bool
	}
	steps := []struct {
		name   string
		reason string
		setup  func() error
		on     *pgx.Conn
		wait   time.Duration
		want   result
	}{
		{
			name: "FirstBeat", reason: "The first beat creates the table; the standby sees it within the wait.",
			on: primary, wait: 5 * time.Second, want: result{seq: 1, seen: true},
		},
		{
			name: "SecondBeat", reason: "The counter goes up by one.",
			on: primary, wait: 5 * time.Second, want: result{seq: 2, seen: true},
		},
		{
			name: "ReplayPaused", reason: "With replay paused the beat is not seen; Wait gives up after the wait.",
			setup: func() error { return p.Standby.PauseReplay(ctx) },
			on:    primary, wait: 300 * time.Millisecond, want: result{seq: 3, seen: false, waitedAtLeast: true},
		},
		{
			name: "Resumed", reason: "Once replay resumes the beat arrives.",
			setup: func() error { return p.Standby.ResumeReplay(ctx) },
			on:    primary, wait: 5 * time.Second, want: result{seq: 4, seen: true},
		},
		{
			name: "StandbyReadOnly", reason: "A standby refuses the beat: it is not writable.",
			on: standby, want: result{beatErr: "read-only transaction"},
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.setup != nil {
				if err := s.setup(); err != nil {
					t.Fatal(err)
				}
			}
			var got result
			seq, err := Beat(ctx, s.on)
			if err != nil {
				got.beatErr = err.Error()
				if strings.Contains(got.beatErr, s.want.beatErr) && s.want.beatErr != "" {
					got.beatErr = s.want.beatErr
				}
			} else {
				got.seq = seq
				seen, waited, st, err := Wait(ctx, standby, seq, s.wait, 10*time.Millisecond)
				if err != nil {
					t.Fatalf("Wait(...): %v", err)
				}
				if seen && (st.Seq != seq || time.Since(st.WrittenAt) > 10*time.Second) {
					t.Errorf("Wait(...): heartbeat %+v, want seq %d written just now", st, seq)
				}
				got.seen, got.waitedAtLeast = seen, !seen && waited >= s.wait
			}
			if diff := cmp.Diff(s.want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", s.reason, diff)
			}
		})
	}
}
