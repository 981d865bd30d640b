package fn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// problems are the field paths and bad values of an error list, in its order.
func problems(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s: %v", e.Field, e.Type, e.BadValue))
	}
	return out
}

// TestValidateParameters checks which PostgreSQL parameter names are accepted. PostgreSQL docs,
// Customized Options (https://www.postgresql.org/docs/current/runtime-config-custom.html):
// "Custom options have two-part names: an extension name, then a dot, then the parameter name
// proper". Terraform sends and reads back every name lowercased (expandParameters and
// flattenParameters: `strings.ToLower(...)`, internal/service/rds/flex.go of the fork provider-aws
// v2.5.0 compiles in), so only a lowercase name can match what is observed.
func TestValidateParameters(t *testing.T) {
	path := field.NewPath("spec", "postgres", "parameters")
	cases := map[string]struct {
		reason string
		params map[string]string
		want   []string
	}{
		"None": {
			reason: "No extra parameters.",
		},
		"Valid": {
			reason: "Core parameters, extensions' dotted ones and rds.force_ssl kept at 1 are accepted.",
			params: map[string]string{
				"work_mem": "65536", "log_min_duration_statement": "250", "shared_preload_libraries": "pg_stat_statements,auto_explain",
				"pg_stat_statements.track": "all", "auto_explain.log_min_duration": "1000", "rds.force_ssl": "1", "pgaudit.log": "ddl",
			},
		},
		"Capitals": {
			reason: "A name with capitals: Terraform would read it back lowercase and never match.",
			params: map[string]string{"Work_Mem": "65536"},
			want:   []string{"spec.postgres.parameters[Work_Mem] Invalid value: Work_Mem"},
		},
		"BadCharacters": {
			reason: "Hyphens, a trailing dot, a leading digit and spaces are no parameter names; the errors come in name order.",
			params: map[string]string{"work-mem": "1", "pgaudit.": "ddl", "2pc": "on", "log statement": "all", "work_mem": "1"},
			want: []string{
				"spec.postgres.parameters[2pc] Invalid value: 2pc",
				"spec.postgres.parameters[log statement] Invalid value: log statement",
				"spec.postgres.parameters[pgaudit.] Invalid value: pgaudit.",
				"spec.postgres.parameters[work-mem] Invalid value: work-mem",
			},
		},
		"ForceSSLOff": {
			reason: "rds.force_ssl must stay 1.",
			params: map[string]string{"rds.force_ssl": "0"},
			want:   []string{"spec.postgres.parameters[rds.force_ssl] Invalid value: 0"},
		},
		"ForceSSLCapitals": {
			reason: "RDS.FORCE_SSL is refused for its name: it cannot slip past the value check.",
			params: map[string]string{"RDS.FORCE_SSL": "0"},
			want:   []string{"spec.postgres.parameters[RDS.FORCE_SSL] Invalid value: RDS.FORCE_SSL"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, problems(validateParameters(path, tc.params)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\nvalidateParameters: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestValidateProviderConfigName checks provider config names: a ProviderConfig is a Kubernetes
// object, and its name a DNS-1123 subdomain ("must consist of lower case alphanumeric characters,
// '-' or '.', and must start and end with an alphanumeric character", at most 253 characters:
// k8s.io/apimachinery/pkg/util/validation IsDNS1123Subdomain, as the API server checks names).
func TestValidateProviderConfigName(t *testing.T) {
	path := field.NewPath("spec", "providerConfigName")
	long := strings.Repeat("a", 253)
	cases := map[string]struct {
		reason string
		name   string
		want   []string
	}{
		"Empty":      {"Empty: the Input's, or default.", "", nil},
		"Simple":     {"A plain name.", "aws", nil},
		"Dotted":     {"Hyphens and dots inside.", "aws-prod.eu-west-1", nil},
		"Longest":    {"253 characters.", long, nil},
		"TooLong":    {"254 characters.", long + "a", []string{"spec.providerConfigName Too long: <value omitted>"}},
		"Capitals":   {"Capitals.", "AWS", []string{"spec.providerConfigName Invalid value: AWS"}},
		"Underscore": {"An underscore.", "aws_prod", []string{"spec.providerConfigName Invalid value: aws_prod"}},
		"EdgeHyphen": {"A leading hyphen.", "-aws", []string{"spec.providerConfigName Invalid value: -aws"}},
		"EmptyLabel": {"Two dots in a row.", "aws..prod", []string{"spec.providerConfigName Invalid value: aws..prod"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, problems(validateProviderConfigName(path, tc.name)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\nvalidateProviderConfigName(%q): -want, +got:\n%s", tc.reason, tc.name, diff)
			}
		})
	}
}

// TestValidateInputProviderConfigName checks that the Input's provider config name is held to
// the same rule as the claim's.
func TestValidateInputProviderConfigName(t *testing.T) {
	cases := map[string]struct {
		reason string
		name   string
		want   []string
	}{
		"Valid":   {"A ProviderConfig's name.", "aws", nil},
		"Invalid": {"A name with a space.", "aws prod", []string{"input.providerConfigName Invalid value: aws prod"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := builderInput()
			in.ProviderConfigName = tc.name
			if diff := cmp.Diff(tc.want, problems(validateInput(in)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\nvalidateInput: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
