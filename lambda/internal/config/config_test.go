package config

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

func env(kv map[string]string) Lookup {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func with(base map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, base)
	for k, v := range changes {
		if v == "<unset>" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

var dbEnv = map[string]string{
	contract.EnvPrimaryHost: "primary.example.internal",
	contract.EnvPrimaryPort: "5432",
	contract.EnvReplicaHost: "replica.example.internal",
	contract.EnvReplicaPort: "5433",
	contract.EnvDBName:      "app",
	contract.EnvDBSecretARN: "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf",
	contract.EnvSSLRootCert: "/ca.pem",
}

var wantDB = DB{
	Primary:        Endpoint{Host: "primary.example.internal", Port: 5432},
	Replica:        Endpoint{Host: "replica.example.internal", Port: 5433},
	Name:           "app",
	SecretARN:      "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf",
	SSLMode:        "verify-full",
	SSLRootCert:    "/ca.pem",
	ConnectTimeout: 3 * time.Second,
}

func TestLoadLag(t *testing.T) {
	lagEnv := with(dbEnv, map[string]string{contract.EnvPairName: "orders"})
	type want struct {
		c   Lag
		err string
	}
	cases := map[string]struct {
		reason string
		env    map[string]string
		want   want
	}{
		"Defaults": {
			reason: "Optional variables take the contract's defaults.",
			env:    lagEnv,
			want:   want{c: Lag{DB: wantDB, PairName: "orders", Namespace: "PostgresDR", HeartbeatWait: 2 * time.Second}},
		},
		"Overrides": {
			reason: "Optional variables override the defaults; a bare number is seconds.",
			env: with(lagEnv, map[string]string{
				contract.EnvMetricNamespace: "Custom", contract.EnvSSLMode: "verify-ca",
				contract.EnvConnectTimeout: "5", contract.EnvHeartbeatWait: "500ms",
			}),
			want: want{c: Lag{
				DB: func() DB {
					d := wantDB
					d.SSLMode, d.ConnectTimeout = "verify-ca", 5*time.Second
					return d
				}(),
				PairName: "orders", Namespace: "Custom", HeartbeatWait: 500 * time.Millisecond,
			}},
		},
		"Missing": {
			reason: "Every missing required variable is named in one error.",
			env:    with(lagEnv, map[string]string{contract.EnvDBName: "<unset>", contract.EnvPairName: "", contract.EnvDBSecretARN: "<unset>"}),
			want:   want{err: "cannot load the replication-lag configuration: missing environment variables: DB_NAME, DB_SECRET_ARN, PAIR_NAME"},
		},
		"Invalid": {
			reason: "Malformed values are named with the reason.",
			env:    with(lagEnv, map[string]string{contract.EnvPrimaryPort: "abc", contract.EnvSSLMode: "verify", contract.EnvConnectTimeout: "-1s"}),
			want: want{err: `cannot load the replication-lag configuration: invalid environment variables: PRIMARY_PORT="abc" is not a TCP port; ` +
				`DB_SSLMODE="verify" is not one of disable, allow, prefer, require, verify-ca, verify-full; ` +
				`CONNECT_TIMEOUT="-1s" is not a positive duration such as 30s or 10m`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := LoadLag(env(tc.env))
			got := want{c: c}
			if err != nil {
				got.err = err.Error()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nLoadLag(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestLoadFailover(t *testing.T) {
	foEnv := with(dbEnv, map[string]string{
		contract.EnvAlarmName:           "orders-dr-failover",
		contract.EnvReplicaInstanceID:   "orders-dr",
		contract.EnvHostedZoneID:        "Z0123456789ABC",
		contract.EnvRecordName:          "db.orders.example.com",
		contract.EnvRecordSetIdentifier: "orders-primary",
		contract.EnvTopicARN:            "arn:aws:sns:us-west-2:111122223333:orders-dr",
	})
	wantFO := Failover{
		DB: wantDB, AlarmName: "orders-dr-failover", ReplicaInstanceID: "orders-dr",
		HostedZoneID: "Z0123456789ABC", RecordName: "db.orders.example.com", RecordSetIdentifier: "orders-primary",
		RecordTTL: 30, TopicARN: "arn:aws:sns:us-west-2:111122223333:orders-dr",
		PromoteTimeout: 10 * time.Minute, PollInterval: 10 * time.Second, DNSTimeout: 15 * time.Second,
	}
	type want struct {
		c   Failover
		err string
	}
	cases := map[string]struct {
		reason string
		env    map[string]string
		want   want
	}{
		"Defaults": {
			reason: "Optional variables take the contract's defaults.",
			env:    foEnv,
			want:   want{c: wantFO},
		},
		"Overrides": {
			reason: "TTL, timeouts and poll interval can be set.",
			env:    with(foEnv, map[string]string{contract.EnvRecordTTL: "5", contract.EnvPromoteTimeout: "2m", contract.EnvPollInterval: "250ms", contract.EnvDNSTimeout: "5"}),
			want: want{c: func() Failover {
				f := wantFO
				f.RecordTTL, f.PromoteTimeout, f.PollInterval, f.DNSTimeout = 5, 2*time.Minute, 250*time.Millisecond, 5*time.Second
				return f
			}()},
		},
		"Missing": {
			reason: "Every missing required variable is named in one error.",
			env:    with(foEnv, map[string]string{contract.EnvAlarmName: "<unset>", contract.EnvTopicARN: "<unset>", contract.EnvReplicaPort: "<unset>"}),
			want:   want{err: "cannot load the failover configuration: missing environment variables: ALARM_NAME, REPLICA_PORT, TOPIC_ARN"},
		},
		"InvalidTTL": {
			reason: "A negative TTL is refused.",
			env:    with(foEnv, map[string]string{contract.EnvRecordTTL: "-5"}),
			want:   want{err: `cannot load the failover configuration: invalid environment variables: RECORD_TTL="-5" is not a non-negative integer`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := LoadFailover(env(tc.env))
			got := want{c: c}
			if err != nil {
				got.err = err.Error()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nLoadFailover(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDefaultSSLRootCert(t *testing.T) {
	got := DefaultSSLRootCert()
	if !strings.HasSuffix(got, "/"+contract.CABundleFile) {
		t.Errorf("DefaultSSLRootCert() = %q, want a path ending in /%s next to the executable", got, contract.CABundleFile)
	}
}
