#!/usr/bin/env bash
# Part of a container's health check on the compose cluster: does the port Docker publishes for this
# container still accept connections from outside it? Docker's userland proxy (docker-proxy), which
# forwards a published port, stops for good once it runs out of file descriptors (one client
# holding a few thousand connections is enough; it keeps two per connection for as long as the
# client keeps its end open), leaving the port refused while everything inside looks healthy. This
# check notices, and stops the container (PID 1): its restart policy brings it back, and Docker
# publishes the port again with a new proxy.
#
# PUBLISHED_PORT_CHECK is host:port as this container reaches the published port
# (host.docker.internal:8000); unset, nothing is checked. Only a port seen answering here counts:
# bound where this container cannot reach it (API_BIND=127.0.0.1), it never answers, and this
# never acts. WATCHDOG_STATE is a directory on the container's tmpfs, fresh at each start. Always
# exits 0: the container's health is the other checks'.
target=${PUBLISHED_PORT_CHECK:-}
[ -n "$target" ] || exit 0
state=${WATCHDOG_STATE:-/tmp/published-port-watchdog}
mkdir -p "$state" 2>/dev/null || exit 0
if timeout 2 bash -c "exec 3<>/dev/tcp/${target%:*}/${target##*:}" 2>/dev/null; then
  touch "$state/seen"
  rm -f "$state/failures"
  exit 0
fi
[ -e "$state/seen" ] || exit 0
failures=$(($(cat "$state/failures" 2>/dev/null || echo 0) + 1))
echo "$failures" >"$state/failures"
if [ "$failures" -ge "${WATCHDOG_FAILURES:-3}" ]; then
  message="published port $target refused $failures checks in a row: stopping, for the restart policy to publish it again"
  echo "$message"
  echo "$message" >/proc/1/fd/2 2>/dev/null
  kill -TERM 1
fi
exit 0
