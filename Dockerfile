# syntax=docker/dockerfile:1

# The function's runtime image, for users with a container engine. `make xpkg` builds the same
# image without one (e2e/cmd/fnimage): the static binary as /function, port 9443, nonroot.
#   docker buildx build --platform linux/amd64,linux/arm64 -t function-postgres-dr .

# The Go toolchain runs on the build platform and cross-compiles for the target.
FROM --platform=${BUILDPLATFORM} golang:1.26 AS build

WORKDIR /fn

# Only the function's module: the tools, Lambdas and the end-to-end test have modules of their own.
ENV CGO_ENABLED=0

COPY go.mod go.sum ./
# The function imports lambda/contract through a replace directive to ./lambda.
COPY lambda/go.mod lambda/go.sum ./lambda/
RUN --mount=target=/root/go/pkg/mod,type=cache go mod download

ARG TARGETOS
ARG TARGETARCH

RUN --mount=target=. \
    --mount=target=/root/go/pkg/mod,type=cache \
    --mount=target=/root/.cache/go-build,type=cache \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags='-s -w' -o /function .

# distroless static, as nonroot (65532): no shell, no package manager, CA certificates only.
FROM gcr.io/distroless/static-debian12:nonroot AS image
WORKDIR /
COPY --from=build /function /function
EXPOSE 9443
USER nonroot:nonroot
ENTRYPOINT ["/function"]
