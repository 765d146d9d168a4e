# Creates the cluster on first start (user and database "provisioning", password $POSTGRES_PASSWORD, scram), then
# runs the server in the foreground on 127.0.0.1:$POSTGRES_PORT only: the container shares the host's network, and
# the tests' traffic stays on loopback. A restart of the container (docker stop/start) keeps the cluster's files.
set -eu
data=/var/lib/postgresql/data
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$data/PG_VERSION" ]; then
  printf '%s' "$POSTGRES_PASSWORD" > /tmp/pwfile
  "$bin/initdb" -D "$data" -U provisioning --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-instructions --no-sync >/dev/null
  rm -f /tmp/pwfile
  cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '/tmp'
max_connections = 200
fsync = off
CONF
  "$bin/pg_ctl" -D "$data" -w -t 60 -o "-c listen_addresses=''" start >/dev/null
  "$bin/createdb" -h /tmp -p "$POSTGRES_PORT" -U provisioning provisioning
  "$bin/pg_ctl" -D "$data" -w -t 60 -m fast stop >/dev/null
  echo "postgres-entrypoint: cluster created"
fi
exec "$bin/postgres" -D "$data"
