package awsfake

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const route53XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"

// Record is a Route53 resource record set. Names end with a dot and are lower case.
type Record struct {
	Name          string
	Type          string
	SetIdentifier string
	Failover      string
	TTL           int64
	Values        []string
	HealthCheckID string
}

func (r Record) key() string { return r.Name + "|" + r.Type + "|" + r.SetIdentifier }

// RecordChange is one change applied by ChangeResourceRecordSets.
type RecordChange struct {
	ZoneID string
	Action string
	Record Record
}

type zone struct {
	name    string
	records map[string]Record
}

// AddHostedZone creates a hosted zone with the given ID and domain name.
func (s *Server) AddHostedZone(id, name string) {
	s.mu.Lock()
	s.zones[id] = &zone{name: fqdn(name), records: map[string]Record{}}
	s.mu.Unlock()
}

// PutRecord sets a record in a zone, as if created earlier (it is not recorded as a change).
func (s *Server) PutRecord(zoneID string, r Record) {
	r.Name = fqdn(r.Name)
	s.mu.Lock()
	s.zones[zoneID].records[r.key()] = r
	s.mu.Unlock()
}

// Record returns the record with this name, type and set identifier in a zone.
func (s *Server) Record(zoneID, name, typ, setID string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[zoneID]
	if z == nil {
		return Record{}, false
	}
	r, ok := z.records[Record{Name: fqdn(name), Type: typ, SetIdentifier: setID}.key()]
	return r, ok
}

// RecordChanges returns the changes applied so far, in order.
func (s *Server) RecordChanges() []RecordChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}

// Fault is how the fake answers a request instead of serving it: late, with an error, or both.
type Fault struct {
	// Delay holds the answer back this long, or until the client gives up; a request the
	// client gave up on changes nothing and is recorded with the error code NoAnswer.
	Delay time.Duration
	// Status, Code and Message are the error answered after Delay, in the service's own error
	// shape: 503 ServiceUnavailable or 500 InternalFailure for a failing service, 400 Throttling
	// ("Rate exceeded") for Route53's throttling. With no Code the request is served after Delay.
	Status  int
	Code    string
	Message string
}

// FailRoute53 makes the fake answer every request of a Route53 operation (ListResourceRecordSets,
// ChangeResourceRecordSets) with f, until it is called again with a nil f. It stands in for
// an impaired Route53 control plane, which lives in us-east-1.
func (s *Server) FailRoute53(operation string, f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		delete(s.faults, "route53|"+operation)
		return
	}
	s.faults["route53|"+operation] = f
}

// fault applies the fault set for an operation, if any, and reports whether it answered the
// request.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, service, op, xmlns string) bool {
	s.mu.Lock()
	f := s.faults[service+"|"+op]
	s.mu.Unlock()
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		select {
		case <-r.Context().Done():
			s.record(r, service, op, "NoAnswer")
			return true
		case <-time.After(f.Delay):
		}
	}
	if f.Code == "" {
		return false
	}
	s.record(r, service, op, f.Code)
	queryError(w, f.Status, xmlns, f.Code, f.Message)
	return true
}

func fqdn(n string) string {
	n = strings.ToLower(n)
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

type xmlRRSet struct {
	Name            string   `xml:"Name"`
	Type            string   `xml:"Type"`
	SetIdentifier   string   `xml:"SetIdentifier,omitempty"`
	Failover        string   `xml:"Failover,omitempty"`
	TTL             *int64   `xml:"TTL"`
	ResourceRecords []string `xml:"ResourceRecords>ResourceRecord>Value"`
	HealthCheckID   string   `xml:"HealthCheckId,omitempty"`
	Weight          *int64   `xml:"Weight"`
	Region          string   `xml:"Region,omitempty"`
	AliasTarget     *struct {
		DNSName string `xml:"DNSName"`
	} `xml:"AliasTarget"`
}

type xmlChangeRequest struct {
	ChangeBatch struct {
		Comment string `xml:"Comment"`
		Changes []struct {
			Action            string   `xml:"Action"`
			ResourceRecordSet xmlRRSet `xml:"ResourceRecordSet"`
		} `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

func (s *Server) serveRoute53(w http.ResponseWriter, r *http.Request, body []byte) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2013-04-01/hostedzone/")
	zoneID, tail, _ := strings.Cut(rest, "/")
	if !ok || strings.TrimSuffix(tail, "/") != "rrset" {
		s.record(r, "route53", r.Method+" "+r.URL.Path, "InvalidAction")
		queryError(w, http.StatusNotFound, route53XMLNS, "InvalidAction", "the fake does not serve "+r.Method+" "+r.URL.Path)
		return
	}
	op := "ListResourceRecordSets"
	if r.Method == http.MethodPost {
		op = "ChangeResourceRecordSets"
	}
	if s.fault(w, r, "route53", op, route53XMLNS) {
		return
	}
	region := ""
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[zoneID]
	if z == nil {
		s.calls = append(s.calls, Call{Service: "route53", Operation: op, Error: "NoSuchHostedZone", Region: region})
		queryError(w, http.StatusNotFound, route53XMLNS, "NoSuchHostedZone", "No hosted zone found with ID: "+zoneID)
		return
	}
	var code, msg string
	var out []byte
	if op == "ChangeResourceRecordSets" {
		code, msg, out = s.changeRecords(zoneID, z, body)
	} else {
		code, msg, out = listRecords(z, r)
	}
	s.calls = append(s.calls, Call{Service: "route53", Operation: op, Error: code, Region: region})
	if code != "" {
		queryError(w, http.StatusBadRequest, route53XMLNS, code, msg)
		return
	}
	writeXML(w, http.StatusOK, out)
}

// changeRecords applies a change batch atomically, with Route53's checks. s.mu is held.
func (s *Server) changeRecords(zoneID string, z *zone, body []byte) (code, msg string, out []byte) {
	var req xmlChangeRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		return "InvalidInput", "cannot parse the request: " + err.Error(), nil
	}
	if len(req.ChangeBatch.Changes) == 0 {
		return "InvalidInput", "Invalid request: Expected exactly one of [Changes]", nil
	}
	next := map[string]Record{}
	maps.Copy(next, z.records)
	var applied []RecordChange
	for _, c := range req.ChangeBatch.Changes {
		rec, err := toRecord(z, c.ResourceRecordSet)
		if err != "" {
			return "InvalidInput", err, nil
		}
		existing, exists := next[rec.key()]
		switch c.Action {
		case "CREATE":
			if exists {
				return "InvalidChangeBatch", fmt.Sprintf("[Tried to create resource record set [name='%s', type='%s', set-identifier='%s'] but it already exists]", rec.Name, rec.Type, rec.SetIdentifier), nil
			}
			next[rec.key()] = rec
		case "UPSERT":
			next[rec.key()] = rec
		case "DELETE":
			if !exists || !slices.Equal(existing.Values, rec.Values) || existing.TTL != rec.TTL {
				return "InvalidChangeBatch", fmt.Sprintf("[Tried to delete resource record set [name='%s', type='%s', set-identifier='%s'] but it was not found]", rec.Name, rec.Type, rec.SetIdentifier), nil
			}
			delete(next, rec.key())
		default:
			return "InvalidInput", "Invalid XML ; unknown Action " + c.Action, nil
		}
		applied = append(applied, RecordChange{ZoneID: zoneID, Action: c.Action, Record: rec})
	}
	z.records = next
	s.changes = append(s.changes, applied...)
	id := "C" + strings.ToUpper(strings.ReplaceAll(requestID(), "-", ""))[:20]
	return "", "", fmt.Appendf(nil,
		`<ChangeResourceRecordSetsResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id><Status>PENDING</Status><SubmittedAt>%s</SubmittedAt><Comment>%s</Comment></ChangeInfo></ChangeResourceRecordSetsResponse>`,
		route53XMLNS, id, now().Format("2006-01-02T15:04:05.000Z"), xmlEscape(req.ChangeBatch.Comment))
}

// toRecord checks a record set as Route53 does and converts it.
func toRecord(z *zone, x xmlRRSet) (Record, string) { //nolint:gocyclo // One check per rule of Route53's, in the order it applies them.
	r := Record{Name: fqdn(x.Name), Type: x.Type, SetIdentifier: x.SetIdentifier, Failover: x.Failover, Values: x.ResourceRecords, HealthCheckID: x.HealthCheckID}
	if x.TTL != nil {
		r.TTL = *x.TTL
	}
	switch {
	case x.Name == "":
		return r, "Invalid request: Missing field 'Name'"
	case r.Name != z.name && !strings.HasSuffix(r.Name, "."+z.name):
		return r, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", r.Name, z.name)
	case !slices.Contains([]string{"A", "AAAA", "CNAME", "TXT", "MX", "NS", "SOA", "SRV", "CAA", "PTR"}, r.Type):
		return r, "Invalid request: unknown Type " + r.Type
	case x.AliasTarget == nil && x.TTL == nil:
		return r, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]], but found none in Change with [Action=UPSERT, Name=" + r.Name + "]"
	case x.AliasTarget == nil && len(r.Values) == 0:
		return r, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]]"
	case r.Type == "CNAME" && len(r.Values) > 1:
		return r, "Invalid request: A CNAME record set can have only one value"
	case r.Failover != "" && r.Failover != "PRIMARY" && r.Failover != "SECONDARY":
		return r, "Invalid request: Failover must be PRIMARY or SECONDARY"
	case r.Failover != "" && r.SetIdentifier == "":
		return r, "Invalid request: Missing field 'SetIdentifier' in Change with [Action=UPSERT, Name=" + r.Name + "]"
	case r.SetIdentifier != "" && r.Failover == "" && x.Weight == nil && x.Region == "":
		return r, "Invalid request: Unexpected field 'SetIdentifier' without a routing policy"
	}
	return r, ""
}

// listRecords answers ListResourceRecordSets from the start record the query names.
func listRecords(z *zone, r *http.Request) (code, msg string, out []byte) {
	q := r.URL.Query()
	maxItems := 300
	if v := q.Get("maxitems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "InvalidInput", "maxitems must be a positive integer", nil
		}
		maxItems = min(n, 300)
	}
	recs := make([]Record, 0, len(z.records))
	for _, rec := range z.records {
		recs = append(recs, rec)
	}
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.key(), b.key()) })
	if name := q.Get("name"); name != "" {
		start := Record{Name: fqdn(name), Type: q.Get("type"), SetIdentifier: q.Get("identifier")}.key()
		i, _ := slices.BinarySearchFunc(recs, start, func(a Record, k string) int { return strings.Compare(a.key(), k) })
		recs = recs[i:]
	}
	truncated := len(recs) > maxItems
	var b bytes.Buffer
	fmt.Fprintf(&b, `<ListResourceRecordSetsResponse xmlns="%s"><ResourceRecordSets>`, route53XMLNS)
	for _, rec := range recs[:min(len(recs), maxItems)] {
		x := xmlRRSet{Name: rec.Name, Type: rec.Type, SetIdentifier: rec.SetIdentifier, Failover: rec.Failover, TTL: &rec.TTL, ResourceRecords: rec.Values, HealthCheckID: rec.HealthCheckID}
		enc, _ := xml.Marshal(struct {
			XMLName xml.Name `xml:"ResourceRecordSet"`
			xmlRRSet
		}{xmlRRSet: x})
		b.Write(enc)
	}
	fmt.Fprintf(&b, `</ResourceRecordSets><IsTruncated>%t</IsTruncated><MaxItems>%d</MaxItems>`, truncated, maxItems)
	if truncated {
		n := recs[maxItems]
		fmt.Fprintf(&b, `<NextRecordName>%s</NextRecordName><NextRecordType>%s</NextRecordType>`, xmlEscape(n.Name), n.Type)
		if n.SetIdentifier != "" {
			fmt.Fprintf(&b, `<NextRecordIdentifier>%s</NextRecordIdentifier>`, xmlEscape(n.SetIdentifier))
		}
	}
	b.WriteString(`</ListResourceRecordSetsResponse>`)
	return "", "", b.Bytes()
}
