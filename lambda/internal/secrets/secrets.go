// Package secrets reads database credentials from AWS Secrets Manager. The secret's
// SecretString is either JSON with "username" and "password", or the password alone, with the
// user name in DB_USERNAME (the composition's master password secret). Neither the password nor
// the secret's text ever appears in an error or a log.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// DefaultTTL is how long a warm Lambda reuses credentials before it reads the secret again.
// A rotated password is picked up after at most this long, or at once after an
// authentication failure (see Source.Forget).
const DefaultTTL = 5 * time.Minute

// Credentials of a database user.
type Credentials struct {
	Username string
	Password string
}

// String never shows the password.
func (c Credentials) String() string {
	return fmt.Sprintf("{Username:%s Password:<redacted>}", c.Username)
}

// GoString never shows the password.
func (c Credentials) GoString() string {
	return c.String()
}

// Client is the part of the Secrets Manager API that Fetch uses.
type Client interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Fetch reads the credentials in the secret with ARN id. When the ARN names a region, the
// request goes to that region, so a Lambda can read a secret kept in another region.
func Fetch(ctx context.Context, c Client, id string) (Credentials, error) {
	var opts []func(*secretsmanager.Options)
	if a, err := arn.Parse(id); err == nil && a.Region != "" {
		opts = append(opts, func(o *secretsmanager.Options) { o.Region = a.Region })
	}
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}, opts...)
	if err != nil {
		return Credentials{}, fmt.Errorf("cannot read secret %s (%s): %w", id, contract.EnvDBSecretARN, err)
	}
	return Parse(id, aws.ToString(out.SecretString))
}

// Parse reads credentials from a secret's text. id names the secret in errors.
func Parse(id, secret string) (Credentials, error) {
	if secret == "" {
		return Credentials{}, fmt.Errorf("secret %s (%s) has no SecretString", id, contract.EnvDBSecretARN)
	}
	var v struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
	// The decoder's error may quote the secret's text, so it is not passed on.
	if !strings.HasPrefix(strings.TrimSpace(secret), "{") {
		// The password alone; WithUsername adds the user name.
		return Credentials{Password: secret}, nil
	}
	if json.Unmarshal([]byte(secret), &v) != nil {
		return Credentials{}, fmt.Errorf("secret %s (%s) is not a JSON object with string fields username and password", id, contract.EnvDBSecretARN)
	}
	var missing []string
	if v.Username == nil || *v.Username == "" {
		missing = append(missing, "username")
	}
	if v.Password == nil || *v.Password == "" {
		missing = append(missing, "password")
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("secret %s (%s) has no %s", id, contract.EnvDBSecretARN, strings.Join(missing, " and "))
	}
	return Credentials{Username: *v.Username, Password: *v.Password}, nil
}

// WithUsername completes credentials read from a secret that holds only the password with the
// user name from the environment; a user name in the secret wins.
func WithUsername(c Credentials, username string) (Credentials, error) {
	if c.Username == "" {
		c.Username = username
	}
	if c.Username == "" {
		return Credentials{}, fmt.Errorf("the secret (%s) holds only a password: set %s to the database user name", contract.EnvDBSecretARN, contract.EnvDBUsername)
	}
	return c, nil
}

// A Source fetches credentials and keeps them for TTL, so that a warm Lambda does not call
// Secrets Manager on every invocation. It is safe for concurrent use.
type Source struct {
	Client Client
	TTL    time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	cached map[string]entry
}

type entry struct {
	creds   Credentials
	fetched time.Time
}

// NewSource returns a Source that keeps credentials for DefaultTTL.
func NewSource(c Client) *Source {
	return &Source{Client: c, TTL: DefaultTTL, Now: time.Now}
}

// Get returns the credentials in secret id, from the cache when they are fresh.
func (s *Source) Get(ctx context.Context, id string) (Credentials, error) {
	if s.Client == nil {
		return Credentials{}, errors.New("cannot read secrets: no Secrets Manager client")
	}
	now := s.now()
	s.mu.Lock()
	e, ok := s.cached[id]
	s.mu.Unlock()
	if ok && now.Sub(e.fetched) < s.TTL {
		return e.creds, nil
	}
	c, err := Fetch(ctx, s.Client, id)
	if err != nil {
		return Credentials{}, err
	}
	s.mu.Lock()
	if s.cached == nil {
		s.cached = map[string]entry{}
	}
	s.cached[id] = entry{creds: c, fetched: now}
	s.mu.Unlock()
	return c, nil
}

// Forget drops the cached credentials of secret id, for example after the database refused
// them because the password was rotated.
func (s *Source) Forget(id string) {
	s.mu.Lock()
	delete(s.cached, id)
	s.mu.Unlock()
}

func (s *Source) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
