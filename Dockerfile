# One Dockerfile for every Enkisys service image:
#   docker build --target tools -t enkisys/tools:TAG .
#   docker build --target test .        # runs the unit tests inside the build image
# Works with the classic builder and with BuildKit. The classic builder builds every stage
# that precedes the target, so each service stage only depends on `build`, and `test` comes
# last (building a service image must not run the tests).

# --- toolchain: the Debian packages of deps/apt-build.txt (cached until that list changes) ---
FROM debian:bookworm AS toolchain
COPY deps/apt-build.txt /tmp/apt-build.txt
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -q; \
    apt-get install -y -q --no-install-recommends $(sed -e 's/#.*//' /tmp/apt-build.txt); \
    rm -rf /var/lib/apt/lists/*

# --- libpq: PostgreSQL's client library from Debian's source, static, without Kerberos/LDAP ---
# (Debian's libpq would pull ~9 MB of krb5/OpenLDAP/GnuTLS libraries into every image.) Where
# the mirror serves no sources, the build falls back to Debian's shared libpq, saying so; the
# images then work but exceed 20 MB (tests/e2e/run.sh reports it).
FROM toolchain AS libpq
COPY scripts/build-libpq.sh /tmp/build-libpq.sh
RUN /tmp/build-libpq.sh /opt/libpq || { \
        echo "WARNING: no minimal libpq; the images use Debian's shared libpq (+~9 MB each)" >&2; \
        rm -rf /opt/libpq; mkdir -p /opt/libpq; }; \
    rm -rf /var/lib/apt/lists/*

# --- runtime-base: the root filesystem every service image starts from ---
FROM toolchain AS runtime-base
RUN set -eux; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/usr/share /rootfs/owned/data /rootfs/owned/tmp; \
    printf 'root:x:0:0:root:/nonexistent:/sbin/nologin\nenkisys:x:10001:10001:enkisys:/data:/sbin/nologin\n' \
        > /rootfs/etc/passwd; \
    printf 'root:x:0:\nenkisys:x:10001:\n' > /rootfs/etc/group; \
    printf 'passwd: files\ngroup: files\nhosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    cp -a /usr/share/zoneinfo /rootfs/usr/share/; \
    rm -rf /rootfs/usr/share/zoneinfo/right; \
    chown 10001:10001 /rootfs/owned/data /rootfs/owned/tmp; \
    chmod 0750 /rootfs/owned/data; \
    chmod 1777 /rootfs/owned/tmp; \
    mv /rootfs/owned /owned

# --- webroot: the web frontend's build (frontend/dist, made on the host by `make web`: one npm
# install serves the build, the unit tests and the browser tests) with its precompressed variants
# (X.gz, X.br next to X), read-only. Its own stage: a frontend change does not recompile C++. ---
FROM toolchain AS webroot
COPY frontend/dist/ /srv/www/
RUN set -eux; \
    test -s /srv/www/index.html; \
    find /srv/www -type f \( -name '*.html' -o -name '*.js' -o -name '*.mjs' \
        -o -name '*.css' -o -name '*.json' -o -name '*.svg' -o -name '*.txt' -o -name '*.map' \
        -o -name '*.webmanifest' -o -name '*.ico' \) -exec gzip -9 -k {} + -exec brotli -k {} +; \
    chmod -R a+rX,go-w /srv/www; \
    find /srv/www -type f | sort

# --- build: every service once, static preset; /out/<svc>/ holds each image's files ---
FROM toolchain AS build
# Extra configure arguments, e.g. --build-arg CMAKE_ARGS=-DENKISYS_WERROR=OFF
ARG CMAKE_ARGS=""
COPY --from=libpq /opt/libpq /opt/libpq
WORKDIR /src
COPY . .
# Service binaries only: the tests are compiled by the `test` target, on top of this layer.
RUN set -eux; \
    if [ -f /opt/libpq/lib/libpq.a ]; then libpq=/opt/libpq; else libpq=""; fi; \
    cmake --preset static -DENKISYS_TESTS=OFF -DENKISYS_BENCH=OFF \
        -DENKISYS_LIBPQ_PREFIX="$libpq" $CMAKE_ARGS; \
    cmake --build --preset static -j2; \
    for bin in build/static/bin/enkisys-*; do \
        name=$(basename "$bin"); svc=${name#enkisys-}; \
        case "$svc" in *-bench) continue ;; esac; \
        mkdir -p "/out/$svc/usr/local/bin"; \
        strip --strip-unneeded -o "/out/$svc/usr/local/bin/$name" "$bin"; \
        scripts/collect-runtime-libs.sh "/out/$svc/usr/local/bin/$name" "/out/$svc"; \
    done; \
    ls -l /out/*/usr/local/bin
# rag converts text with iconv (poppler hands out UTF-16; uploads may declare a charset), and
# glibc loads those converters as modules at run time: the image carries the common ones (~270 KB).
RUN set -eux; \
    g=/usr/lib/$(gcc -print-multiarch)/gconv; d=/out/rag$g; mkdir -p "$d"; \
    cp -a "$g/gconv-modules" "$g/gconv-modules.d" "$d/"; \
    for m in UTF-16 UTF-32 UTF-7 UNICODE ISO8859-1 ISO8859-2 ISO8859-15 CP1250 CP1251 CP1252 \
             KOI8-R IBM437 IBM850 MACINTOSH; do cp -a "$g/$m.so" "$d/"; done
# --- runtime: scratch + root filesystem, non-root user ---
FROM scratch AS runtime
ARG SOURCE=""
ARG REVISION=unknown
ARG VERSION=dev
LABEL org.opencontainers.image.source=$SOURCE \
      org.opencontainers.image.revision=$REVISION \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.vendor="Enkisys"
COPY --from=runtime-base /rootfs/ /
COPY --from=runtime-base --chown=10001:10001 /owned/ /
USER 10001:10001
WORKDIR /data

# --- service images: one stage per service of services/services.list, named like it, with its
# port (`make lint` names a listed service without a stage, a stage nobody listed and a port
# that differs). To add one, copy this block: docs/adding-a-service.md. ---
# The frontend serves the web root /srv/www (copied and precompressed by the build stage),
# loaded into memory at start; it keeps no data.
FROM runtime AS frontend
COPY --from=build /out/frontend/ /
COPY --from=webroot /srv/www/ /srv/www/
ENV PORT=5000 \
    FRONTEND_ROOT=/srv/www
EXPOSE 5000
LABEL org.opencontainers.image.title="enkisys-frontend"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-frontend", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-frontend"]

FROM runtime AS tools
COPY --from=build /out/tools/ /
ENV PORT=5001
EXPOSE 5001
LABEL org.opencontainers.image.title="enkisys-tools"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-tools", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-tools"]

# auth keeps its signing keys in /data/keys (the volume; created by the service, mode 0700).
FROM runtime AS auth
COPY --from=build /out/auth/ /
ENV PORT=5002
EXPOSE 5002
LABEL org.opencontainers.image.title="enkisys-auth"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-auth", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-auth"]

# rag keeps its database, index files and upload staging in /data (the volume).
FROM runtime AS rag
COPY --from=build /out/rag/ /
ENV PORT=5003 \
    RAG_DATA_DIR=/data
EXPOSE 5003
LABEL org.opencontainers.image.title="enkisys-rag"
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["/usr/local/bin/enkisys-rag", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-rag"]

# agent keeps its conversations in /data (the volume); it reaches rag and tools on the stage
# network and, through the stage's egress network, a configured model endpoint.
FROM runtime AS agent
COPY --from=build /out/agent/ /
ENV PORT=5004
EXPOSE 5004
LABEL org.opencontainers.image.title="enkisys-agent"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-agent", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-agent"]

# router keeps its inbox, outbox and channel mappings in /data (the volume); it reaches the agent
# on the stage network and, through the stage's egress network, the channel APIs.
FROM runtime AS router
COPY --from=build /out/router/ /
ENV PORT=5005
EXPOSE 5005
LABEL org.opencontainers.image.title="enkisys-router"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-router", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-router"]

# The gateway image carries no configuration: compose mounts it read-only at
# /etc/enkisys/gateway.yaml (deploy/gateway/gateway.yaml for one local stage,
# deploy/gateway/gateway.host.yaml for the edge of a host), so a routing change never needs a
# rebuild. The admin port 9901 is exposed for documentation only: never publish it beyond
# 127.0.0.1 of the host.
FROM runtime AS gateway
COPY --from=build /out/gateway/ /
ENV PORT=8080 \
    GATEWAY_CONFIG=/etc/enkisys/gateway.yaml
EXPOSE 8080 9901
LABEL org.opencontainers.image.title="enkisys-gateway"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-gateway", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-gateway"]

# --- monitoring: every stage's health and metrics, status page, alerts, federate (edge) ---
# The history lives in /data (a volume); the deploy ledgers are mounted read-only at /ledger.
FROM runtime AS monitoring
COPY --from=build /out/monitoring/ /
ENV PORT=5006
EXPOSE 5006
LABEL org.opencontainers.image.title="enkisys-monitoring"
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/enkisys-monitoring", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/enkisys-monitoring"]

# --- fakes: the fake channel APIs (enkisys-fake-channels) as the end-to-end tests' "internet" on
# a stage's egress network (tests/e2e/compose.fakes.yaml). Not a service: no port of the list, no
# health check; the same root filesystem and user as the services. ---
FROM scratch AS fakes
COPY --from=runtime-base /rootfs/ /
COPY --from=build /out/fake-channels/ /
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/enkisys-fake-channels"]

# --- test: the unit tests against the static build (PostgreSQL tests skip without a server) ---
# Reconfigures the same build tree with the tests on: only the test sources compile here.
FROM build AS test
ARG CMAKE_ARGS=""
RUN set -eux; \
    cmake --preset static -DENKISYS_TESTS=ON $CMAKE_ARGS; \
    cmake --build --preset static -j2; \
    ctest --preset static
