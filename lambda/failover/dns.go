package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/config"
)

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// record returns the PRIMARY failover record, or nil when there is none.
func (h *Handler) record(ctx context.Context, c config.Failover) (*types.ResourceRecordSet, error) {
	out, err := h.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId:          aws.String(c.HostedZoneID),
		StartRecordName:       aws.String(c.RecordName),
		StartRecordType:       types.RRTypeCname,
		StartRecordIdentifier: aws.String(c.RecordSetIdentifier),
		MaxItems:              aws.Int32(1),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read record %s in hosted zone %s (%s): %w", c.RecordName, c.HostedZoneID, contract.EnvHostedZoneID, err)
	}
	for _, r := range out.ResourceRecordSets {
		if sameName(aws.ToString(r.Name), c.RecordName) && r.Type == types.RRTypeCname && aws.ToString(r.SetIdentifier) == c.RecordSetIdentifier {
			return &r, nil
		}
	}
	return nil, nil //nolint:nilnil // No record is not an error: pointRecord then creates it.
}

// recordPointsAt reports whether the PRIMARY failover record is a CNAME of endpoint with the
// configured TTL.
func (h *Handler) recordPointsAt(ctx context.Context, c config.Failover, endpoint string) (bool, error) {
	r, err := h.record(ctx, c)
	if err != nil || r == nil {
		return false, err
	}
	return len(r.ResourceRecords) == 1 && sameName(aws.ToString(r.ResourceRecords[0].Value), endpoint) &&
		aws.ToInt64(r.TTL) == c.RecordTTL && r.AliasTarget == nil, nil
}

// pointRecord UPSERTs the PRIMARY failover record as a CNAME of endpoint and returns the
// change's ID, or "" when the record already pointed there. The record loses any health check:
// it now names the promoted replica, which the old primary's health check does not watch.
func (h *Handler) pointRecord(ctx context.Context, c config.Failover, endpoint string) (string, error) {
	points, err := h.recordPointsAt(ctx, c, endpoint)
	if err != nil {
		return "", err
	}
	if points {
		return "", nil
	}
	out, err := h.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(c.HostedZoneID),
		ChangeBatch: &types.ChangeBatch{
			Comment: aws.String(fmt.Sprintf("function-postgres-dr failover: %s promoted", c.ReplicaInstanceID)),
			Changes: []types.Change{{
				Action: types.ChangeActionUpsert,
				ResourceRecordSet: &types.ResourceRecordSet{
					Name:            aws.String(c.RecordName),
					Type:            types.RRTypeCname,
					SetIdentifier:   aws.String(c.RecordSetIdentifier),
					Failover:        types.ResourceRecordSetFailoverPrimary,
					TTL:             aws.Int64(c.RecordTTL),
					ResourceRecords: []types.ResourceRecord{{Value: aws.String(endpoint)}},
				},
			}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("cannot point record %s (%s) at %s: %w", c.RecordName, c.RecordSetIdentifier, endpoint, err)
	}
	return aws.ToString(out.ChangeInfo.Id), nil
}
