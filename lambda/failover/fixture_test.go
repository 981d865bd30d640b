package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/jackc/pgx/v5"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/awsfake"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// Names of the fixture's AWS resources.
const (
	alarmName    = "orders-dr-failover"
	replicaID    = "orders-dr"
	zoneID       = "ZPGDR0000000001"
	recordName   = "db.orders.example.com"
	setID        = "orders-primary"
	drEndpoint   = "orders-dr.c0ffee12.us-west-2.rds.amazonaws.com"
	primaryEndpt = "orders.c0ffee12.us-east-1.rds.amazonaws.com"
)

// fixture is a real primary and standby, the AWS fake whose RDS side acts on the standby, and
// the failover Lambda's environment.
type fixture struct {
	pair *pgtest.Pair
	aws  *awsfake.Server
	env  map[string]string
}

func newFixture(t testing.TB, withPG bool) *fixture {
	t.Helper()
	var p *pgtest.Pair
	if withPG {
		p = pgtest.Start(t)
	}
	return newFixtureWith(t, p)
}

// newFixtureWith makes a fixture on a pair the caller owns, or without PostgreSQL when p is nil.
func newFixtureWith(t testing.TB, p *pgtest.Pair) *fixture {
	t.Helper()
	f := &fixture{aws: awsfake.New(t), pair: p}
	f.aws.AddHostedZone(zoneID, "orders.example.com")
	f.aws.PutRecord(zoneID, awsfake.Record{Name: recordName, Type: "CNAME", SetIdentifier: setID, Failover: "PRIMARY", TTL: 30, Values: []string{primaryEndpt}, HealthCheckID: "hc-primary"})
	f.aws.PutRecord(zoneID, awsfake.Record{Name: recordName, Type: "CNAME", SetIdentifier: "orders-secondary", Failover: "SECONDARY", TTL: 30, Values: []string{drEndpoint}})
	f.env = map[string]string{
		contract.EnvAlarmName: alarmName, contract.EnvReplicaInstanceID: replicaID,
		contract.EnvPrimaryHost: "127.0.0.1", contract.EnvPrimaryPort: "1",
		contract.EnvReplicaHost: "127.0.0.1", contract.EnvReplicaPort: "1",
		contract.EnvDBName: pgtest.DBName, contract.EnvHostedZoneID: zoneID,
		contract.EnvRecordName: recordName, contract.EnvRecordSetIdentifier: setID,
		contract.EnvTopicARN:     f.aws.AddTopic("orders-dr"),
		contract.EnvPollInterval: "100ms", contract.EnvPromoteTimeout: "60s", contract.EnvConnectTimeout: "2s",
		contract.EnvDBSecretARN: "arn:aws:secretsmanager:us-west-2:111122223333:secret:unused-AbCdEf",
	}
	if p != nil {
		f.env[contract.EnvPrimaryPort] = strconv.Itoa(f.pair.Primary.Port)
		f.env[contract.EnvReplicaPort] = strconv.Itoa(f.pair.Standby.Port)
		f.env[contract.EnvSSLRootCert] = f.pair.CAFile
		f.env[contract.EnvDBSecretARN] = f.aws.AddSecret("rds!db-orders", fmt.Sprintf(`{"username":%q,"password":%q}`, f.pair.User, f.pair.Password))
		f.aws.AddInstance(&awsfake.Instance{
			ID: replicaID, SourceID: "arn:aws:rds:us-east-1:111122223333:db:orders",
			Address: drEndpoint, Port: f.pair.Standby.Port, Backend: f.pair.Standby,
		})
	}
	return f
}

func (f *fixture) handler() *Handler {
	return NewHandler(f.aws.AWSConfig(), func(k string) (string, bool) { v, ok := f.env[k]; return v, ok }, nil)
}

// alarmPayload is the EventBridge event of an alarm state change, as JSON.
func alarmPayload(name, state string, at time.Time) []byte {
	ev := alarmEvent(name, state, at.UTC().Format("2006-01-02T15:04:05.000-0700"))
	b, _ := json.Marshal(ev)
	return b
}

// invoke runs the handler in process through aws-lambda-go's lambda.NewHandler.
func invoke(ctx context.Context, h *Handler, payload []byte) (Summary, error) {
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, payload)
	if err != nil {
		return Summary{}, err
	}
	var s Summary
	if err := json.Unmarshal(out, &s); err != nil {
		return Summary{}, fmt.Errorf("cannot decode the summary %s: %w", out, err)
	}
	return s, nil
}

// load writes rows from several connections until the primary stops answering, and records
// which commits were acknowledged.
type load struct {
	mu     sync.Mutex
	acked  []int64
	next   atomic.Int64
	errs   []error
	wg     sync.WaitGroup
	start  time.Time
	stopAt time.Time
}

func startLoad(t testing.TB, f *fixture, writers int) *load {
	t.Helper()
	ctx := context.Background()
	if err := f.pair.Primary.Exec(ctx, "CREATE TABLE rpo (id bigint PRIMARY KEY, writer int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"); err != nil {
		t.Fatal(err)
	}
	if err := f.pair.Primary.Exec(ctx, "GRANT ALL ON rpo TO "+f.pair.User); err != nil {
		t.Fatal(err)
	}
	l := &load{start: time.Now()}
	for w := range writers {
		c, err := pgx.ConnectConfig(ctx, f.pair.Primary.App())
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
		l.wg.Go(func() {
			defer c.Close(context.Background())
			for {
				id := l.next.Add(1)
				if _, err := c.Exec(ctx, "INSERT INTO rpo (id, writer) VALUES ($1, $2)", id, w); err != nil {
					l.mu.Lock()
					l.errs = append(l.errs, err)
					l.mu.Unlock()
					return
				}
				l.mu.Lock()
				l.acked = append(l.acked, id)
				l.mu.Unlock()
			}
		})
	}
	return l
}

// wait waits for the writers, which stop at their first error.
func (l *load) wait() {
	l.wg.Wait()
	l.stopAt = time.Now()
}

// rpo counts the acknowledged commits missing on the promoted standby.
func (l *load) rpo(t testing.TB, f *fixture) (lost, acked int) {
	t.Helper()
	c, err := f.pair.Standby.Admin(context.Background(), pgtest.DBName)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	rows, err := c.Query(context.Background(), "SELECT id FROM rpo")
	if err != nil {
		t.Fatal(err)
	}
	present := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		present[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, id := range l.acked {
		if !present[id] {
			lost++
		}
	}
	return lost, len(l.acked)
}
