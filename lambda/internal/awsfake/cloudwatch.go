package awsfake

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// cloudWatchPath is where CloudWatch's smithy RPCv2 CBOR protocol sends an operation.
const cloudWatchPath = "/service/GraniteServiceVersion20100801/operation/"

// Datum is one metric datum sent with PutMetricData.
type Datum struct {
	MetricName        string
	Dimensions        map[string]string
	Value             float64
	Unit              string
	Timestamp         time.Time
	StorageResolution int64
}

// MetricBatch is one PutMetricData request.
type MetricBatch struct {
	Namespace string
	Data      []Datum
	Received  time.Time
}

// Value returns the value of the named metric in the batch, and whether it is there.
func (b MetricBatch) Value(name string) (float64, bool) {
	for _, d := range b.Data {
		if d.MetricName == name {
			return d.Value, true
		}
	}
	return 0, false
}

// Names returns the sorted names of the metrics in the batch.
func (b MetricBatch) Names() []string {
	n := make([]string, 0, len(b.Data))
	for _, d := range b.Data {
		n = append(n, d.MetricName)
	}
	slices.Sort(n)
	return n
}

// MetricBatches returns the PutMetricData requests received so far, in order.
func (s *Server) MetricBatches() []MetricBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

func (s *Server) serveCloudWatch(w http.ResponseWriter, r *http.Request, body []byte) {
	op, ok := strings.CutPrefix(r.URL.Path, cloudWatchPath)
	if !ok || r.Method != http.MethodPost || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		s.record(r, "monitoring", r.URL.Path, "UnknownOperationException")
		cborError(w, http.StatusNotFound, "UnknownOperationException", "not a smithy RPCv2 CBOR request: "+r.Method+" "+r.URL.Path)
		return
	}
	if op != "PutMetricData" {
		s.record(r, "monitoring", op, "UnknownOperationException")
		cborError(w, http.StatusBadRequest, "UnknownOperationException", "the fake does not serve "+op)
		return
	}
	b, err := decodePutMetricData(body)
	if err != nil {
		s.record(r, "monitoring", op, "InvalidParameterValue")
		cborError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	b.Received = now()
	s.mu.Lock()
	s.batches = append(s.batches, b)
	s.mu.Unlock()
	s.record(r, "monitoring", op, "")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set(headerRequestID, requestID())
	w.WriteHeader(http.StatusOK)
}

func cborError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{
		"__type":  cbor.String("com.amazonaws.cloudwatch#" + code),
		"message": cbor.String(msg),
	}))
}

// decodePutMetricData reads a PutMetricData request and checks it as CloudWatch would.
func decodePutMetricData(body []byte) (MetricBatch, error) {
	v, err := cbor.Decode(body)
	if err != nil {
		return MetricBatch{}, fmt.Errorf("cannot decode CBOR body: %w", err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return MetricBatch{}, fmt.Errorf("body is a %T, not a map", v)
	}
	ns, _ := m["Namespace"].(cbor.String)
	if ns == "" || strings.HasPrefix(string(ns), "AWS/") {
		return MetricBatch{}, fmt.Errorf("namespace %q is empty or reserved", ns)
	}
	list, _ := m["MetricData"].(cbor.List)
	if len(list) == 0 || len(list) > 1000 {
		return MetricBatch{}, fmt.Errorf("MetricData has %d items, want 1 to 1000", len(list))
	}
	b := MetricBatch{Namespace: string(ns)}
	for i, item := range list {
		dm, ok := item.(cbor.Map)
		if !ok {
			return MetricBatch{}, fmt.Errorf("MetricData[%d] is a %T, not a map", i, item)
		}
		d, err := decodeDatum(dm)
		if err != nil {
			return MetricBatch{}, fmt.Errorf("MetricData[%d]: %w", i, err)
		}
		b.Data = append(b.Data, d)
	}
	return b, nil
}

func decodeDatum(m cbor.Map) (Datum, error) {
	name, _ := m["MetricName"].(cbor.String)
	if name == "" {
		return Datum{}, fmt.Errorf("MetricName is missing")
	}
	d := Datum{MetricName: string(name), Dimensions: map[string]string{}}
	dims, _ := m["Dimensions"].(cbor.List)
	for _, dv := range dims {
		dm, _ := dv.(cbor.Map)
		k, _ := dm["Name"].(cbor.String)
		val, _ := dm["Value"].(cbor.String)
		if k == "" || val == "" {
			return Datum{}, fmt.Errorf("dimension with empty name or value")
		}
		d.Dimensions[string(k)] = string(val)
	}
	if v, ok := m["Value"]; ok {
		f, err := cbor.AsFloat64(v)
		if err != nil {
			return Datum{}, fmt.Errorf("value: %w", err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Datum{}, fmt.Errorf("value %v is not finite", f)
		}
		d.Value = f
	} else if _, ok := m["Values"]; !ok {
		if _, ok := m["StatisticValues"]; !ok {
			return Datum{}, fmt.Errorf("no Value, Values or StatisticValues")
		}
	}
	if u, ok := m["Unit"].(cbor.String); ok {
		d.Unit = string(u)
	}
	if ts, ok := m["Timestamp"]; ok {
		t, err := cbor.AsTime(ts)
		if err != nil {
			return Datum{}, fmt.Errorf("timestamp: %w", err)
		}
		d.Timestamp = t
	}
	if sr, ok := m["StorageResolution"]; ok {
		i, err := cbor.AsInt64(sr)
		if err != nil || (i != 1 && i != 60) {
			return Datum{}, fmt.Errorf("StorageResolution must be 1 or 60")
		}
		d.StorageResolution = i
	}
	return d, nil
}
