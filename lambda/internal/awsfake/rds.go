package awsfake

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

const rdsXMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"

// A Backend is the real database server behind a fake RDS instance.
type Backend interface {
	// InRecovery reports pg_is_in_recovery().
	InRecovery(ctx context.Context) (bool, error)
	// Promote runs pg_promote() and returns once the server has left recovery.
	Promote(ctx context.Context) error
}

// Instance is a fake RDS DB instance backed by a real PostgreSQL server. Describe reports it as
// a read replica of SourceID while its Backend is in recovery.
type Instance struct {
	ID       string
	SourceID string
	Address  string
	Port     int
	Backend  Backend
	// ExtraPromoteTime keeps the instance "modifying" this long after the Backend finished
	// promoting, as RDS does while it reconfigures the instance.
	ExtraPromoteTime time.Duration

	mu          sync.Mutex
	promoting   bool
	promoteEr   error
	done        chan struct{}
	backupUntil time.Time
}

// backingUp reports whether a backup started with Server.BackUp still runs. i.mu is held.
func (i *Instance) backingUp() bool {
	return time.Now().Before(i.backupUntil)
}

func (i *Instance) wait() {
	i.mu.Lock()
	d := i.done
	i.mu.Unlock()
	if d != nil {
		<-d
	}
}

// AddInstance registers a fake RDS instance.
func (s *Server) AddInstance(i *Instance) {
	s.mu.Lock()
	s.instances[i.ID] = i
	s.mu.Unlock()
}

// BackUp makes the instance back up for d from now, as RDS does in the instance's backup window:
// DescribeDBInstances reports it backing-up, and PromoteReadReplica is refused with
// InvalidDBInstanceState until the backup ends, then it is available again. RDS's API reference
// of PromoteReadReplica: "a read replica cannot be promoted to a standalone instance when it is
// in the backing-up status". The Backend is not touched: it stays a standby.
func (s *Server) BackUp(id string, d time.Duration) error {
	s.mu.Lock()
	i := s.instances[id]
	s.mu.Unlock()
	if i == nil {
		return fmt.Errorf("no instance %s", id)
	}
	i.mu.Lock()
	i.backupUntil = time.Now().Add(d)
	i.mu.Unlock()
	return nil
}

// PromoteError returns the error of the instance's last promotion, if any.
func (s *Server) PromoteError(id string) error {
	s.mu.Lock()
	i := s.instances[id]
	s.mu.Unlock()
	if i == nil {
		return fmt.Errorf("no instance %s", id)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.promoteEr
}

type xmlEndpoint struct {
	Address string `xml:"Address"`
	Port    int    `xml:"Port"`
}

type xmlDBInstance struct {
	XMLName                               xml.Name    `xml:"DBInstance"`
	DBInstanceIdentifier                  string      `xml:"DBInstanceIdentifier"`
	DBInstanceClass                       string      `xml:"DBInstanceClass"`
	Engine                                string      `xml:"Engine"`
	DBInstanceStatus                      string      `xml:"DBInstanceStatus"`
	Endpoint                              xmlEndpoint `xml:"Endpoint"`
	ReadReplicaSourceDBInstanceIdentifier string      `xml:"ReadReplicaSourceDBInstanceIdentifier,omitempty"`
	DBInstanceArn                         string      `xml:"DBInstanceArn"`
}

func (s *Server) describe(ctx context.Context, i *Instance) xmlDBInstance {
	x := xmlDBInstance{
		DBInstanceIdentifier: i.ID,
		DBInstanceClass:      "db.r6g.large",
		Engine:               "postgres",
		Endpoint:             xmlEndpoint{Address: i.Address, Port: i.Port},
		DBInstanceArn:        fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", s.Region, s.Account, i.ID),
	}
	i.mu.Lock()
	promoting, backingUp := i.promoting, i.backingUp()
	i.mu.Unlock()
	inRecovery, err := i.Backend.InRecovery(ctx)
	switch {
	case err != nil:
		// RDS would say the instance is in trouble; the Lambda must keep waiting.
		x.DBInstanceStatus = "incompatible-network"
	case promoting:
		x.DBInstanceStatus = "modifying"
	case backingUp:
		x.DBInstanceStatus = "backing-up"
	default:
		x.DBInstanceStatus = "available"
	}
	if err == nil && inRecovery {
		x.ReadReplicaSourceDBInstanceIdentifier = i.SourceID
	}
	return x
}

func (s *Server) serveRDS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method != http.MethodPost {
		s.record(r, "rds", "", "MalformedQueryString")
		queryError(w, http.StatusBadRequest, rdsXMLNS, "MalformedQueryString", "cannot parse the form body")
		return
	}
	op := form.Get("Action")
	if form.Get("Version") != "2014-10-31" {
		s.record(r, "rds", op, "InvalidAction")
		queryError(w, http.StatusBadRequest, rdsXMLNS, "InvalidAction", "unsupported API version "+form.Get("Version"))
		return
	}
	id := form.Get("DBInstanceIdentifier")
	s.mu.Lock()
	inst := s.instances[id]
	s.mu.Unlock()
	switch op {
	case "DescribeDBInstances", "PromoteReadReplica":
	default:
		s.record(r, "rds", op, "InvalidAction")
		queryError(w, http.StatusBadRequest, rdsXMLNS, "InvalidAction", "the fake does not serve "+op)
		return
	}
	if inst == nil {
		s.record(r, "rds", op, "DBInstanceNotFound")
		queryError(w, http.StatusNotFound, rdsXMLNS, "DBInstanceNotFound", fmt.Sprintf("DBInstance %s not found.", id))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	switch op {
	case "DescribeDBInstances":
		x, _ := xml.Marshal(s.describe(ctx, inst))
		s.record(r, "rds", op, "")
		writeXML(w, http.StatusOK, fmt.Appendf(nil,
			`<DescribeDBInstancesResponse xmlns="%s"><DescribeDBInstancesResult><DBInstances>%s</DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></DescribeDBInstancesResponse>`,
			rdsXMLNS, x, requestID()))
	case "PromoteReadReplica":
		if code, msg := s.startPromotion(ctx, inst); code != "" {
			s.record(r, "rds", op, code)
			queryError(w, http.StatusBadRequest, rdsXMLNS, code, msg)
			return
		}
		x, _ := xml.Marshal(s.describe(ctx, inst))
		s.record(r, "rds", op, "")
		writeXML(w, http.StatusOK, fmt.Appendf(nil,
			`<PromoteReadReplicaResponse xmlns="%s"><PromoteReadReplicaResult>%s</PromoteReadReplicaResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PromoteReadReplicaResponse>`,
			rdsXMLNS, x, requestID()))
	}
}

// startPromotion refuses as RDS does when the instance is not a replica or is busy (promoting,
// backing up), and otherwise promotes the real standby in the background, as RDS does.
func (s *Server) startPromotion(ctx context.Context, i *Instance) (code, msg string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.promoting {
		return "InvalidDBInstanceState", fmt.Sprintf("DB instance %s is not in available state (modifying).", i.ID)
	}
	if i.backingUp() {
		return "InvalidDBInstanceState", fmt.Sprintf("DB instance %s is not in available state (backing-up).", i.ID)
	}
	inRecovery, err := i.Backend.InRecovery(ctx)
	if err != nil {
		return "InvalidDBInstanceState", fmt.Sprintf("DB instance %s is not in available state.", i.ID)
	}
	if !inRecovery {
		return "InvalidDBInstanceState", "DB Instance is not a read replica."
	}
	i.promoting, i.promoteEr = true, nil
	i.done = make(chan struct{})
	// The promotion outlives the request, as on RDS.
	go func(done chan struct{}) {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
		defer cancel()
		err := i.Backend.Promote(pctx)
		time.Sleep(i.ExtraPromoteTime)
		i.mu.Lock()
		i.promoting, i.promoteEr = false, err
		i.mu.Unlock()
		close(done)
	}(i.done)
	return "", ""
}
