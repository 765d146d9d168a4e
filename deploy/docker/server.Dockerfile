# The coordinator image. Build from the repository root after scripts/release.sh, with Terraform for the image's
# architecture at artifacts/terraform/<rid>/terraform (the built-in daemon runs it; with --provisioner-daemons 0 any
# file does, e.g. a copy of /bin/true):
#   docker build -f deploy/docker/server.Dockerfile --build-arg BASE_IMAGE=debian:12-slim -t provisioning-server .
# The base image is the operator's choice (glibc-based for the linux-x64/arm64 executables). PostgreSQL: give
# PROVISIONING_POSTGRES_URL_FILE (a mounted secret); the built-in one needs a base image with the PostgreSQL server
# binaries (initdb, pg_ctl). Everything the build does is in image-steps.sh (see deploy/README.md).
ARG BASE_IMAGE=debian:12-slim
FROM ${BASE_IMAGE}
ARG RID=linux-x64
ARG TERRAFORM_BINARY=artifacts/terraform/${RID}/terraform
COPY artifacts/release/${RID}/ /tmp/provisioning-dist/
COPY ${TERRAFORM_BINARY} /tmp/terraform
COPY deploy/docker/image-steps.sh /tmp/image-steps.sh
RUN PROVISIONING_DIST=/tmp/provisioning-dist TERRAFORM_BINARY=/tmp/terraform sh /tmp/image-steps.sh server / \
    && rm -rf /tmp/provisioning-dist /tmp/terraform /tmp/image-steps.sh
USER 10001:10001
ENV PROVISIONING_HOME=/var/lib/provisioning \
    PROVISIONING_HTTP_ADDRESS=0.0.0.0:3000 \
    PROVISIONING_GRPC_ADDRESS=0.0.0.0:3001
VOLUME ["/var/lib/provisioning"]
EXPOSE 3000 3001
HEALTHCHECK --interval=30s --timeout=10s --start-period=2m --retries=3 \
    CMD ["/usr/local/bin/provisioning-healthcheck", "http://127.0.0.1:3000/healthz"]
# SIGTERM (docker stop) is a graceful stop: give it `docker stop --time 180`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/provisioning"]
CMD ["server"]
