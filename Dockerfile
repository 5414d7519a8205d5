# newsmd: a static binary on a minimal image that runs as a non-root user.
#   docker build --build-arg VERSION=v1.0.0 -t newsmd .
#   docker run -d -v newsmd-data:/data -p 9180:9180 newsmd            # the daemon
#   docker run --rm -v newsmd-data:/data newsmd once                   # one poll
# Base images are named in full (registry/namespace/name): builders without a
# daemon or a default registry (podman, buildah, kaniko) find them too.
FROM docker.io/library/golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN VERSION=${VERSION} sh scripts/build.sh /out/newsmd && mkdir -p /out/data

# distroless/static: CA certificates and time zone data, no shell, user
# nonroot (65532). The binary also embeds time/tzdata.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/newsmd /usr/local/bin/newsmd
COPY config.yaml /etc/newsmd/config.yaml
COPY --from=build --chown=65532:65532 /out/data /data
ENV NEWSMD_CONFIG=/etc/newsmd/config.yaml \
    NEWSMD_OUTPUT_DIR=/data/archive/_posts \
    NEWSMD_STORE_PATH=/data/archive/newsmd.db \
    NEWSMD_SERVER_LISTEN=0.0.0.0:9180 \
    NEWSMD_LOG_FORMAT=json
VOLUME ["/data"]
WORKDIR /data
USER 65532:65532
EXPOSE 9180
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/newsmd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/newsmd"]
CMD ["run"]
