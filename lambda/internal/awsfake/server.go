// Package awsfake is a wire-level fake of the AWS APIs the Lambdas call, for tests: CloudWatch
// (smithy RPCv2 CBOR), RDS and SNS (awsQuery), Route53 (restXml) and Secrets Manager (JSON 1.1).
// The real AWS SDK clients talk to it unchanged through AWS_ENDPOINT_URL (or an aws.Config's
// BaseEndpoint). Its RDS side acts on a real PostgreSQL standby through a Backend.
//
// Nothing real exists here for these APIs, so this fake stands in for them. It keeps what it
// was sent so tests can assert on it, and it answers errors in each protocol's own shape.
package awsfake

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Defaults of a new Server.
const (
	DefaultRegion  = "us-west-2"
	DefaultAccount = "111122223333"
)

// Call is one request the fake answered.
type Call struct {
	Service   string // the SigV4 signing name: monitoring, rds, sns, route53, secretsmanager
	Operation string
	Error     string // the error code the fake answered with, if any
	Region    string // the region the request was signed for
}

// Server is the fake. Create it with New; it stops when the test ends.
type Server struct {
	// URL is the endpoint to give the SDK (AWS_ENDPOINT_URL).
	URL     string
	Region  string
	Account string

	srv *httptest.Server

	mu        sync.Mutex
	calls     []Call
	batches   []MetricBatch
	secrets   map[string]secret
	instances map[string]*Instance
	topics    map[string]bool
	messages  []Message
	zones     map[string]*zone
	changes   []RecordChange
	faults    map[string]*Fault
}

// Cleanup is the part of testing.TB that New needs.
type Cleanup interface {
	Cleanup(func())
}

// New starts a fake on a free loopback port; it stops when t's test ends.
func New(t Cleanup) *Server {
	s := &Server{
		Region:    DefaultRegion,
		Account:   DefaultAccount,
		secrets:   map[string]secret{},
		instances: map[string]*Instance{},
		topics:    map[string]bool{},
		zones:     map[string]*zone{},
		faults:    map[string]*Fault{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the fake and waits for running promotions.
func (s *Server) Close() {
	s.srv.Close()
	s.WaitPromotions()
}

// WaitPromotions waits until no promotion runs.
func (s *Server) WaitPromotions() {
	s.mu.Lock()
	insts := make([]*Instance, 0, len(s.instances))
	for _, i := range s.instances {
		insts = append(insts, i)
	}
	s.mu.Unlock()
	for _, i := range insts {
		i.wait()
	}
}

// AWSConfig returns an SDK configuration that sends every service's requests to the fake, with
// static credentials and at most two attempts per call.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEFAKEFAKE", "fake-secret-access-key", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2 })
		},
	}
}

// Env is the environment a process needs to send its SDK calls to the fake.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_REGION=" + s.Region,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_ACCESS_KEY_ID=AKIDFAKEFAKEFAKE",
		"AWS_SECRET_ACCESS_KEY=fake-secret-access-key",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=2",
	}
}

// Calls returns the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCount returns how many requests for service's operation were answered without an error.
func (s *Server) CallCount(service, operation string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Service == service && c.Operation == operation && c.Error == "" {
			n++
		}
	}
	return n
}

func (s *Server) record(r *http.Request, service, op, errCode string) {
	region := ""
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: service, Operation: op, Error: errCode, Region: region})
	s.mu.Unlock()
}

// The SigV4 Authorization header names the service in its credential scope.
var scopeRE = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		http.Error(w, "MissingAuthenticationToken: request is not signed with SigV4", http.StatusForbidden)
		return
	}
	body, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch service := m[2]; service {
	case "monitoring":
		s.serveCloudWatch(w, r, body)
	case "rds":
		s.serveRDS(w, r, body)
	case "sns":
		s.serveSNS(w, r, body)
	case "route53":
		s.serveRoute53(w, r, body)
	case "secretsmanager":
		s.serveSecretsManager(w, r, body)
	default:
		s.record(r, service, "", "UnknownService")
		http.Error(w, fmt.Sprintf("the fake does not serve %q", service), http.StatusNotImplemented)
	}
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("cannot read gzip body: %w", err)
		}
		rd = z
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("cannot read body: %w", err)
	}
	return b, nil
}

// headerRequestID is AWS's x-amzn-RequestId response header in its canonical form, as
// Header.Set sends it; the SDK reads it case-insensitively.
const headerRequestID = "X-Amzn-Requestid"

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set(headerRequestID, requestID())
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), body...))
}

// queryError writes an awsQuery / restXml error response.
func queryError(w http.ResponseWriter, status int, xmlns, code, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlns, typ, xmlEscape(code), xmlEscape(msg), requestID())
	writeXML(w, status, b.Bytes())
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func now() time.Time { return time.Now().UTC() }
