package awsfake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

const snsXMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"

// Message is one message published to an SNS topic.
type Message struct {
	TopicARN  string
	Subject   string
	Message   string
	MessageID string
}

// AddTopic creates an SNS topic and returns its ARN.
func (s *Server) AddTopic(name string) string {
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.Region, s.Account, name)
	s.mu.Lock()
	s.topics[arn] = true
	s.mu.Unlock()
	return arn
}

// Messages returns the messages published so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

func (s *Server) serveSNS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method != http.MethodPost {
		s.record(r, "sns", "", "MalformedQueryString")
		queryError(w, http.StatusBadRequest, snsXMLNS, "MalformedQueryString", "cannot parse the form body")
		return
	}
	op := form.Get("Action")
	if op != "Publish" || form.Get("Version") != "2010-03-31" {
		s.record(r, "sns", op, "InvalidAction")
		queryError(w, http.StatusBadRequest, snsXMLNS, "InvalidAction", "the fake does not serve "+op+" "+form.Get("Version"))
		return
	}
	m := Message{TopicARN: form.Get("TopicArn"), Subject: form.Get("Subject"), Message: form.Get("Message"), MessageID: requestID()}
	s.mu.Lock()
	exists := s.topics[m.TopicARN]
	s.mu.Unlock()
	switch {
	case !exists:
		s.record(r, "sns", op, "NotFound")
		queryError(w, http.StatusNotFound, snsXMLNS, "NotFound", "Topic does not exist")
		return
	case m.Message == "":
		s.record(r, "sns", op, "InvalidParameter")
		queryError(w, http.StatusBadRequest, snsXMLNS, "InvalidParameter", "Invalid parameter: Empty message")
		return
	case !validSubject(m.Subject):
		s.record(r, "sns", op, "InvalidParameter")
		queryError(w, http.StatusBadRequest, snsXMLNS, "InvalidParameter",
			"Invalid parameter: Subject must be ASCII text without line breaks or control characters, shorter than 100 characters")
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	s.record(r, "sns", op, "")
	writeXML(w, http.StatusOK, fmt.Appendf(nil,
		`<PublishResponse xmlns="%s"><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishResponse>`,
		snsXMLNS, m.MessageID, requestID()))
}

// validSubject applies SNS's rules for a subject: ASCII, no control characters, under 100
// characters, starting with a letter, digit or punctuation mark.
func validSubject(s string) bool {
	if s == "" {
		return true
	}
	if len(s) >= 100 || s[0] == ' ' {
		return false
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
