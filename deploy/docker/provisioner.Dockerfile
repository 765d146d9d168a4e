# A provisioner daemon image. Build from the repository root after scripts/release.sh, with Terraform for the image's
# architecture at artifacts/terraform/<rid>/terraform:
#   docker build -f deploy/docker/provisioner.Dockerfile --build-arg BASE_IMAGE=debian:12-slim -t provisioning-provisioner .
#   docker run -e PROVISIONING_URL=https://coordinator:3000 -e PROVISIONING_PROVISIONER_KEY_FILE=/run/secrets/key \
#     -v provisioner-state:/var/lib/provisioning-provisioner provisioning-provisioner
# Everything the build does is in image-steps.sh (see deploy/README.md).
ARG BASE_IMAGE=debian:12-slim
FROM ${BASE_IMAGE}
ARG RID=linux-x64
ARG TERRAFORM_BINARY=artifacts/terraform/${RID}/terraform
COPY artifacts/release/${RID}/ /tmp/provisioning-dist/
COPY ${TERRAFORM_BINARY} /tmp/terraform
COPY deploy/docker/image-steps.sh /tmp/image-steps.sh
RUN PROVISIONING_DIST=/tmp/provisioning-dist TERRAFORM_BINARY=/tmp/terraform sh /tmp/image-steps.sh provisioner / \
    && rm -rf /tmp/provisioning-dist /tmp/terraform /tmp/image-steps.sh
USER 10001:10001
# The cache holds reports and states the coordinator has not acknowledged yet: keep the volume across containers.
ENV HOME=/var/lib/provisioning-provisioner \
    PROVISIONING_CACHE_DIR=/var/lib/provisioning-provisioner \
    PROVISIONING_HEALTH_ADDRESS=0.0.0.0:8081 \
    PROVISIONING_DRAIN_TIMEOUT=2h \
    DOTNET_TieredCompilation=0
# DOTNET_TieredCompilation=0: each method compiled once, not again when hot; the idle daemon holds about 15 MB less
# (docs/decisions/0021-idle-daemon-memory-and-conversion-speed.md).
VOLUME ["/var/lib/provisioning-provisioner"]
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=10s --start-period=1m --retries=3 \
    CMD ["/usr/local/bin/provisioning-healthcheck", "http://127.0.0.1:8081/healthz"]
# SIGTERM drains within PROVISIONING_DRAIN_TIMEOUT: stop with `docker stop --time 7500` (or a shorter drain).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/provisioning"]
CMD ["provisioner", "start"]
