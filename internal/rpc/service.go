package rpc

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// A DecodeFn decodes an encoded RunFunctionRequest.
type DecodeFn func(b []byte, req *fnv1.RunFunctionRequest) error

// An EncodeFn encodes a RunFunctionResponse.
type EncodeFn func(rsp *fnv1.RunFunctionResponse) ([]byte, error)

// Service serves the v1 protocol's RunFunction: from the cache when Crossplane sends a request
// it has sent before, else by decoding the request, running the function and encoding (and
// caching) its response. It must be registered on a server that uses the Codec.
type Service struct {
	fn     fnv1.FunctionRunnerServiceServer
	cache  *Cache
	decode DecodeFn
	encode EncodeFn
	slots  chan struct{}
	log    logging.Logger
}

// A ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithCache answers repeated requests from the cache; without it, every request runs the
// function.
func WithCache(c *Cache) ServiceOption {
	return func(s *Service) { s.cache = c }
}

// WithCodecs decodes requests and encodes responses with the given functions rather than
// proto.Unmarshal and proto.Marshal.
func WithCodecs(d DecodeFn, e EncodeFn) ServiceOption {
	return func(s *Service) { s.decode, s.encode = d, e }
}

// WithMaxConcurrentRuns lets at most n requests be decoded, run and encoded at once; the others
// wait their turn (answers from the cache do not). On a machine of n cores more at once only
// adds their working sets to the heap, not throughput. 0 means no limit.
func WithMaxConcurrentRuns(n int) ServiceOption {
	return func(s *Service) {
		if n > 0 {
			s.slots = make(chan struct{}, n)
		}
	}
}

// WithLogger logs, at debug level, each answer from the cache.
func WithLogger(l logging.Logger) ServiceOption {
	return func(s *Service) { s.log = l }
}

// NewService returns a service that runs the function.
func NewService(fn fnv1.FunctionRunnerServiceServer, o ...ServiceOption) *Service {
	s := &Service{
		fn:     fn,
		decode: func(b []byte, req *fnv1.RunFunctionRequest) error { return proto.Unmarshal(b, req) },
		encode: func(rsp *fnv1.RunFunctionResponse) ([]byte, error) { return proto.Marshal(rsp) },
		log:    logging.NewNopLogger(),
	}
	for _, fn := range o {
		fn(s)
	}
	return s
}

// rawRunner is what the service description's handler calls.
type rawRunner interface {
	Run(ctx context.Context, req *RawRequest) (RawResponse, error)
}

// Register registers the service with the server in place of the generated v1
// FunctionRunnerService, whose handler would decode every request.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	r.RegisterService(&grpc.ServiceDesc{
		ServiceName: fnv1.FunctionRunnerService_ServiceDesc.ServiceName,
		HandlerType: (*rawRunner)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "RunFunction", Handler: runFunctionHandler}},
		Metadata:    fnv1.FunctionRunnerService_ServiceDesc.Metadata,
	}, s)
}

func runFunctionHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) { //nolint:revive // gRPC's MethodHandler signature.
	in := &RawRequest{}
	if err := dec(in); err != nil {
		return nil, err
	}
	r := srv.(rawRunner) //nolint:forcetypeassert // Register registers a rawRunner.
	if interceptor == nil {
		return r.Run(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: fnv1.FunctionRunnerService_RunFunction_FullMethodName}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return r.Run(ctx, req.(*RawRequest)) //nolint:forcetypeassert // What we passed in.
	})
}

// Run answers one encoded request with an encoded response, and frees the request's buffers.
func (s *Service) Run(ctx context.Context, in *RawRequest) (RawResponse, error) {
	defer in.Free()
	tag := in.Tag()
	if rsp, ok := s.cache.Get(tag); ok {
		s.log.Debug("Answered from the cache", "tag", tag, "bytes", len(rsp))
		return rsp, nil
	}
	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	req := &fnv1.RunFunctionRequest{}
	if err := s.decode(in.Bytes(), req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "cannot decode the RunFunctionRequest: %v", err)
	}
	rsp, err := s.fn.RunFunction(ctx, req)
	if err != nil {
		return nil, err
	}
	out, err := s.encode(rsp)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "cannot encode the RunFunctionResponse: %v", err)
	}
	s.cache.Put(tag, out)
	return out, nil
}
