package awsfake

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func TestGetSecretValue(t *testing.T) {
	type want struct {
		value   string
		errCode string
	}
	cases := map[string]struct {
		reason string
		id     func(arn string) string
		want   want
	}{
		"ByARN": {
			reason: "A secret is found by its ARN.",
			id:     func(arn string) string { return arn },
			want:   want{value: `{"username":"u","password":"p"}`},
		},
		"ByName": {
			reason: "A secret is found by its name.",
			id:     func(string) string { return "db" },
			want:   want{value: `{"username":"u","password":"p"}`},
		},
		"Missing": {
			reason: "An unknown secret is a ResourceNotFoundException, as in Secrets Manager.",
			id:     func(string) string { return "nope" },
			want:   want{errCode: "ResourceNotFoundException"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			arn := s.AddSecret("db", `{"username":"u","password":"p"}`)
			out, err := secretsmanager.NewFromConfig(s.AWSConfig()).GetSecretValue(t.Context(),
				&secretsmanager.GetSecretValueInput{SecretId: aws.String(tc.id(arn))})
			var got want
			var ae smithy.APIError
			switch {
			case errors.As(err, &ae):
				got.errCode = ae.ErrorCode()
			case err != nil:
				t.Fatalf("GetSecretValue(...): %v", err)
			default:
				got.value = aws.ToString(out.SecretString)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nGetSecretValue(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
