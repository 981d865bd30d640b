package fn

import (
	"encoding/json"
)

// policyDocument is an IAM (or KMS key, or S3 bucket) policy document. Every policy the function
// writes is built from these types, so a test can parse them all back and check them.
type policyDocument struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

// statement is one statement of a policy document.
type statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]any            `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Effects.
const (
	allow = "Allow"
	deny  = "Deny"
)

// policy returns a policy document of the statements, in the current policy language version.
func policy(statements ...statement) policyDocument {
	return policyDocument{Version: "2012-10-17", Statement: statements}
}

// JSON encodes the document. The types cannot fail to encode.
func (d policyDocument) JSON() *string {
	b, _ := json.Marshal(d) //nolint:errchkjson // Strings, slices and maps of strings only.
	s := string(b)
	return &s
}

// assumeRole is the trust policy that lets an AWS service assume a role.
func assumeRole(service string) policyDocument {
	return policy(statement{
		Effect:    allow,
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	})
}

// assumeRoleFor is the trust policy that lets an AWS service assume a role only on behalf of
// the account's own resources (aws:SourceAccount): another account's resource cannot make the
// service act as this role (the confused deputy).
func assumeRoleFor(service, account string) policyDocument {
	d := assumeRole(service)
	d.Statement[0].Condition = map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}}
	return d
}
