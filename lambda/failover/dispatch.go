package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// Kinds of payload the failover Lambda is sent.
const (
	// payloadAlarm is anything but a request object: the EventBridge alarm state change, which
	// Handle reads as before.
	payloadAlarm = "alarm"
	// payloadSwitchover is a JSON object with an "action" key: a SwitchoverRequest.
	payloadSwitchover = "switchover"
)

// requestEnvelope is a request object as the Lambda reads it: the SwitchoverRequest, and the
// key Terraform adds to the input of an Invocation whose lifecycle_scope is CRUD
// (aws_lambda_invocation: "tf": {"action": "create" | "update" | "delete", "prev_input": …}).
type requestEnvelope struct {
	contract.SwitchoverRequest

	TF *struct {
		Action string `json:"action"`
	} `json:"tf,omitempty"`
}

// request is a switchover request the Lambda acts on.
type request struct {
	contract.SwitchoverRequest

	// CatchUpTimeout is CatchUpTimeoutSeconds, or contract.DefaultCatchUpTimeout for 0.
	CatchUpTimeout time.Duration
	// Delete is Terraform's delete of a CRUD-scoped Invocation: it is not acted on.
	Delete bool
}

// classify tells a switchover request from an alarm event. A JSON object with an "action" key
// is a request (an EventBridge event has no such key); it is parsed and checked, and an error
// names each field that is wrong. Anything else is the alarm path's, which reads and judges it
// as it always did.
func classify(payload []byte) (string, request, error) {
	if !isRequest(payload) {
		return payloadAlarm, request{}, nil
	}
	r, err := parseRequest(payload)
	return payloadSwitchover, r, err
}

// isRequest reports whether a payload is a JSON object with an "action" key.
func isRequest(payload []byte) bool {
	var keys map[string]json.RawMessage
	if !bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{")) || json.Unmarshal(payload, &keys) != nil {
		return false
	}
	_, ok := keys["action"]
	return ok
}

// parseRequest reads and checks a switchover request.
func parseRequest(payload []byte) (request, error) {
	var env requestEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return request{}, fmt.Errorf("cannot read the switchover request: %w", err)
	}
	r := request{SwitchoverRequest: env.SwitchoverRequest, Delete: env.TF != nil && env.TF.Action == "delete"}
	var bad []string
	if r.Action != contract.ActionSwitchover {
		bad = append(bad, fmt.Sprintf("action %q is not %q", r.Action, contract.ActionSwitchover))
	}
	if strings.TrimSpace(r.ID) == "" {
		bad = append(bad, "id is empty")
	}
	switch t := r.CatchUpTimeoutSeconds; {
	case t < 0:
		bad = append(bad, fmt.Sprintf("catchUpTimeoutSeconds %d is negative (0 means the default, %s)", t, contract.DefaultCatchUpTimeout))
	case time.Duration(t)*time.Second > contract.MaxCatchUpTimeout:
		bad = append(bad, fmt.Sprintf("catchUpTimeoutSeconds %d is more than %d: the catch-up, PROMOTE_TIMEOUT and %s must fit in the Lambda's %s",
			t, int(contract.MaxCatchUpTimeout/time.Second), contract.SwitchoverOverhead, contract.LambdaMaxTimeout))
	case t == 0:
		r.CatchUpTimeout = contract.DefaultCatchUpTimeout
	default:
		r.CatchUpTimeout = time.Duration(t) * time.Second
	}
	if len(bad) > 0 {
		return request{}, errors.New("invalid switchover request: " + strings.Join(bad, "; "))
	}
	return r, nil
}

// Invoke is the Lambda's entry point (it makes Handler a lambda.Handler): a switchover request
// goes to Switchover, anything else to Handle, decoded and encoded by aws-lambda-go exactly as
// when Handle was the handler.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	kind, r, err := classify(payload)
	if kind == payloadAlarm {
		return lambda.NewHandler(h.Handle).Invoke(ctx, payload)
	}
	if err != nil {
		return nil, err
	}
	res, err := h.Switchover(ctx, r)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the switchover result: %w", err)
	}
	return b, nil
}
