package main

import (
	"context"
	"testing"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// BenchmarkFailover measures, on the local pair, the failover of a primary killed with SIGKILL
// under a write load of 4 writers: from the alarm (raised right after the kill) to the promoted
// standby taking a write, and the acknowledged commits lost. One iteration is one failover on a
// fresh pair (run with -benchtime=Nx); setup and the RPO count are outside the timer.
func BenchmarkFailover(b *testing.B) {
	var toWritable, lostCommits, lostMs, promoteToAvail float64
	for range b.N {
		b.StopTimer()
		p, err := pgtest.StartPair()
		if err != nil {
			b.Fatal(err)
		}
		func() {
			defer p.Stop()
			f := newFixtureWith(b, p)
			l := startLoad(b, f, 4)
			time.Sleep(time.Second)
			if err := p.Primary.Kill(); err != nil {
				b.Fatal(err)
			}
			alarmAt := time.Now()
			l.wait()
			h := f.handler()
			payload := alarmPayload(alarmName, "ALARM", alarmAt)
			b.StartTimer()
			s, err := invoke(context.Background(), h, payload)
			b.StopTimer()
			if err != nil || s.Action != ActionPromoted {
				b.Fatalf("failover: %+v, %v", s, err)
			}
			lost, acked := l.rpo(b, f)
			rate := float64(acked) / alarmAt.Sub(l.start).Seconds()
			toWritable += s.Timings.AlarmToWritableMs
			promoteToAvail += s.Timings.PromoteToAvailableMs
			lostCommits += float64(lost)
			lostMs += float64(lost) / rate * 1000
			b.Logf("failover: alarm to writable %.0f ms (promote to available %.0f ms); RPO %d of %d commits, %.1f ms of writes at %.0f commits/s",
				s.Timings.AlarmToWritableMs, s.Timings.PromoteToAvailableMs, lost, acked, float64(lost)/rate*1000, rate)
		}()
	}
	n := float64(b.N)
	b.ReportMetric(toWritable/n, "ms-alarm-to-writable")
	b.ReportMetric(promoteToAvail/n, "ms-promote-to-available")
	b.ReportMetric(lostCommits/n, "lost-commits")
	b.ReportMetric(lostMs/n, "lost-ms-of-writes")
}
