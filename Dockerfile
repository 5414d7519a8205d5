# syntax=docker/dockerfile:1
# newsmd: a static binary on a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/newsmd ./cmd/newsmd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/newsmd /usr/local/bin/newsmd
COPY config.yaml /etc/newsmd/config.yaml
WORKDIR /data
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/newsmd"]
CMD ["help"]
