#!/usr/bin/env bash
# The container's health check: GET /readyz answered 200. Plain bash (/dev/tcp) rather than
# `node -e "fetch(...)"`: a check every 5 s then costs the replica's 1-CPU quota a few milliseconds
# instead of a Node.js start-up each time (docs/operations.md has the figures). On the compose
# cluster it also watches the replica's published port (published-port-watchdog.sh).
bash "$(dirname "$0")/published-port-watchdog.sh"
exec 3<>"/dev/tcp/127.0.0.1/${PORT:-8000}" || exit 1
printf 'GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r -t 2 status <&3 || exit 1
[[ $status == *" 200 "* ]]
