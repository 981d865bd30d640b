package awsfake

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPublish(t *testing.T) {
	type want struct {
		messages []Message
		errCode  string
	}
	cases := map[string]struct {
		reason  string
		topic   string
		subject string
		want    want
	}{
		"Published": {
			reason:  "A message to an existing topic is kept.",
			subject: "failover done",
			want:    want{messages: []Message{{Subject: "failover done", Message: "body"}}},
		},
		"NoTopic": {
			reason: "A message to an unknown topic is a NotFound error.",
			topic:  "arn:aws:sns:us-west-2:111122223333:other",
			want:   want{errCode: "NotFound"},
		},
		"BadSubject": {
			reason:  "SNS refuses a subject with a line break or of 100 characters or more.",
			subject: strings.Repeat("x", 100),
			want:    want{errCode: "InvalidParameter"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			topic := s.AddTopic("dr")
			if tc.topic != "" {
				topic = tc.topic
			}
			_, err := sns.NewFromConfig(s.AWSConfig()).Publish(t.Context(), &sns.PublishInput{
				TopicArn: aws.String(topic), Subject: aws.String(tc.subject), Message: aws.String("body")})
			got := want{messages: s.Messages()}
			if ae, ok := errors.AsType[smithy.APIError](err); ok {
				got.errCode = ae.ErrorCode()
			} else if err != nil {
				t.Fatalf("Publish(...): %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}), cmpopts.IgnoreFields(Message{}, "TopicARN", "MessageID")); diff != "" {
				t.Errorf("%s\nPublish(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
