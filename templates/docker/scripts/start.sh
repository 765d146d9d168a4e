# Starts the workspace container, creating it first when it does not exist.
# Environment: CONTAINER, VOLUME, IMAGE, NETWORK, MEMORY_MB, HOSTNAME_, WORKSPACE_ID, WORKSPACE_NAME, OWNER (and DOCKER_HOST).
set -eu

if ! docker container inspect "$CONTAINER" >/dev/null 2>&1; then
  memory=""
  [ "$MEMORY_MB" != 0 ] && memory="--memory=${MEMORY_MB}m"
  hostname=""
  # The host's network has the host's name; a hostname of one's own needs a network of one's own.
  [ "$NETWORK" != host ] && hostname="--hostname=$HOSTNAME_"
  # The workspace's process: a shell that ends at once on `docker stop` (as PID 1 it needs its own TERM trap) and
  # writes a heartbeat into the home volume. Replace it with your agent or service.
  # shellcheck disable=SC2086 # $memory and $hostname are empty or one word.
  docker create --name "$CONTAINER" \
    --label provisioning.workspace_id="$WORKSPACE_ID" \
    --label provisioning.workspace_name="$WORKSPACE_NAME" \
    --label provisioning.owner="$OWNER" \
    --network "$NETWORK" $hostname $memory \
    --mount "type=volume,source=$VOLUME,target=/home/workspace" \
    --env HOME=/home/workspace --workdir /home/workspace \
    "$IMAGE" /bin/sh -c 'trap "exit 0" TERM INT; while :; do date -u +%FT%TZ > /home/workspace/.heartbeat; sleep 5 & wait $!; done' >/dev/null
  echo "created container $CONTAINER from $IMAGE"
fi

docker start "$CONTAINER" >/dev/null
echo "container $CONTAINER is $(docker container inspect --format '{{.State.Status}}' "$CONTAINER")"
