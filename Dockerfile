# The release binary in a small image. Build: docker build -t samla .
# Run:   docker run -p 8080:8080 -v samla-state:/var/lib/samla \
#          -v $PWD/config/skane.toml:/etc/samla/region.toml:ro samla
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin samla

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/samla samla \
    && mkdir -p /var/lib/samla /etc/samla \
    && chown samla:samla /var/lib/samla
COPY --from=build /src/target/release/samla /usr/local/bin/samla
COPY config/skane.toml /etc/samla/region.toml
USER samla
VOLUME /var/lib/samla
EXPOSE 8080
# The container runtime stops it with SIGTERM, which samla handles.
HEALTHCHECK --interval=30s --timeout=5s CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/samla"]
CMD ["serve", "--config", "/etc/samla/region.toml", "--state", "/var/lib/samla", "--bind", "0.0.0.0:8080"]
