package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

type secret struct {
	arn, name, value string
	created          time.Time
}

// AddSecret stores a secret with the given name and SecretString and returns its ARN (in the
// fake's region unless name is already an ARN).
func (s *Server) AddSecret(name, value string) string {
	arn := name
	if !strings.HasPrefix(name, "arn:") {
		arn = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", s.Region, s.Account, name)
	}
	s.mu.Lock()
	s.secrets[arn] = secret{arn: arn, name: name, value: value, created: now()}
	s.mu.Unlock()
	return arn
}

func (s *Server) serveSecretsManager(w http.ResponseWriter, r *http.Request, body []byte) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "secretsmanager.")
	if !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		s.record(r, "secretsmanager", target, "UnknownOperationException")
		jsonError(w, "UnknownOperationException", "not an awsJson1_1 request")
		return
	}
	if op != "GetSecretValue" {
		s.record(r, "secretsmanager", op, "UnknownOperationException")
		jsonError(w, "UnknownOperationException", "the fake does not serve "+op)
		return
	}
	var in struct {
		SecretId string
	}
	if err := json.Unmarshal(body, &in); err != nil || in.SecretId == "" {
		s.record(r, "secretsmanager", op, "InvalidParameterException")
		jsonError(w, "InvalidParameterException", "SecretId is required")
		return
	}
	s.mu.Lock()
	sec, found := s.secrets[in.SecretId]
	if !found {
		for _, v := range s.secrets {
			if v.name == in.SecretId {
				sec, found = v, true
			}
		}
	}
	s.mu.Unlock()
	if !found {
		s.record(r, "secretsmanager", op, "ResourceNotFoundException")
		jsonError(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	s.record(r, "secretsmanager", op, "")
	writeJSON(w, http.StatusOK, map[string]any{
		"ARN":           sec.arn,
		"Name":          sec.name,
		"SecretString":  sec.value,
		"VersionId":     "00000000-0000-0000-0000-000000000001",
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(sec.created.UnixMilli()) / 1000,
	})
}

// jsonError writes an awsJson1_1 error response. Secrets Manager answers every error the fake
// serves with 400 Bad Request.
func jsonError(w http.ResponseWriter, code, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"__type": code, "Message": msg})
}

// writeJSON writes an awsJson1_1 response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("cannot encode the response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set(headerRequestID, requestID())
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
