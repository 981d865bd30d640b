package secrets

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/lambda/internal/awsfake"
)

func TestFetch(t *testing.T) {
	type want struct {
		creds  Credentials
		err    string
		region string
	}
	cases := map[string]struct {
		reason string
		name   string
		value  string
		id     string // the ARN to fetch; empty means the stored secret's ARN
		want   want
	}{
		"RDSManagedSecret": {
			reason: "An RDS-managed master user secret gives username and password.",
			name:   "rds!db-1234", value: `{"username":"postgres","password":"s3cr3t"}`,
			want: want{creds: Credentials{Username: "postgres", Password: "s3cr3t"}, region: "us-west-2"},
		},
		"OtherRegion": {
			reason: "A secret ARN in another region is fetched from that region.",
			name:   "arn:aws:secretsmanager:eu-central-1:111122223333:secret:db-AbCdEf", value: `{"username":"u","password":"p"}`,
			want: want{creds: Credentials{Username: "u", Password: "p"}, region: "eu-central-1"},
		},
		"NotFound": {
			reason: "A missing secret is named, with the variable that points at it.",
			name:   "db", value: `{}`, id: "arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf",
			want: want{err: "cannot read secret arn:aws:secretsmanager:us-west-2:111122223333:secret:gone-AbCdEf (DB_SECRET_ARN): ", region: "us-west-2"},
		},
		"NoPassword": {
			reason: "A secret without a password says so.",
			name:   "db", value: `{"username":"u"}`,
			want: want{err: "secret arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf (DB_SECRET_ARN) has no password", region: "us-west-2"},
		},
		"PasswordOnly": {
			reason: "A secret that is no JSON object is the password alone (the user name comes from DB_USERNAME).",
			name:   "db", value: `hunter2`,
			want: want{creds: Credentials{Password: "hunter2"}, region: "us-west-2"},
		},
		"BrokenJSON": {
			reason: "A secret that starts like JSON but is not is refused without quoting it.",
			name:   "db", value: `{hunter2`,
			want: want{err: "secret arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf (DB_SECRET_ARN) is not a JSON object with string fields username and password", region: "us-west-2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := awsfake.New(t)
			arn := s.AddSecret(tc.name, tc.value)
			if tc.id != "" {
				arn = tc.id
			}
			c, err := Fetch(t.Context(), secretsmanager.NewFromConfig(s.AWSConfig()), arn)
			got := want{creds: c}
			if err != nil {
				got.err = err.Error()
				if strings.HasPrefix(got.err, tc.want.err) && tc.want.err != "" {
					got.err = tc.want.err // the SDK's own wording follows the prefix
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error quotes the secret: %v", err)
				}
			}
			if calls := s.Calls(); len(calls) > 0 {
				got.region = calls[0].Region
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nFetch(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCredentialsString(t *testing.T) {
	c := Credentials{Username: "u", Password: "s3cr3t"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("formatted credentials show the password: %s", s)
		}
	}
}

func TestSourceCaches(t *testing.T) {
	s := awsfake.New(t)
	arn := s.AddSecret("db", `{"username":"u","password":"p"}`)
	clock := time.Unix(0, 0)
	src := &Source{Client: secretsmanager.NewFromConfig(s.AWSConfig()), TTL: time.Minute, Now: func() time.Time { return clock }}
	get := func() {
		t.Helper()
		if _, err := src.Get(t.Context(), arn); err != nil {
			t.Fatalf("Get(...): %v", err)
		}
	}
	get()
	get()
	clock = clock.Add(30 * time.Second)
	get()
	if got := s.CallCount("secretsmanager", "GetSecretValue"); got != 1 {
		t.Errorf("within the TTL: GetSecretValue calls = %d, want 1", got)
	}
	clock = clock.Add(31 * time.Second)
	get()
	src.Forget(arn)
	get()
	if got := s.CallCount("secretsmanager", "GetSecretValue"); got != 3 {
		t.Errorf("after expiry and Forget: GetSecretValue calls = %d, want 3", got)
	}
}

func TestPlainPasswordWithUsername(t *testing.T) {
	cases := map[string]struct {
		reason   string
		secret   string
		username string
		want     Credentials
		wantErr  string
	}{
		"PlainPassword": {
			reason:   "A secret holding only the password takes the user name from DB_USERNAME.",
			secret:   "s3cr3t-pa55",
			username: "pgadmin",
			want:     Credentials{Username: "pgadmin", Password: "s3cr3t-pa55"},
		},
		"JSONWins": {
			reason:   "A JSON secret's user name wins over DB_USERNAME.",
			secret:   `{"username":"app","password":"pw"}`,
			username: "pgadmin",
			want:     Credentials{Username: "app", Password: "pw"},
		},
		"NoUsername": {
			reason:  "A plain password without DB_USERNAME is an error naming DB_USERNAME, not the password.",
			secret:  "s3cr3t-pa55",
			wantErr: "set DB_USERNAME",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := Parse("arn:aws:secretsmanager:us-east-2:123456789012:secret:x", tc.secret)
			if err == nil {
				c, err = WithUsername(c, tc.username)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), tc.secret) {
					t.Fatalf("\n%s\nerr = %v, want one containing %q and not the secret", tc.reason, err, tc.wantErr)
				}
				return
			}
			if err != nil || c != tc.want {
				t.Errorf("\n%s\ngot %v %v, want %v", tc.reason, c, err, tc.want)
			}
		})
	}
}
