#!/usr/bin/env bash
# Installs the peers the bench harness compares the gateway with, and the
# cross-check load tools, from Debian's packages: nginx, HAProxy, Caddy, squid, wrk,
# h2load, and for the WAF scenarios nginx's ModSecurity v3 module and
# Debian's CRS 3 (the CRS v4 comes from the gateway's own Go module). A
# package this release does not carry is skipped with a note: the harness
# skips a peer that is missing.
set -u

packages=(nginx haproxy caddy squid wrk nghttp2-client libnginx-mod-http-modsecurity modsecurity-crs)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update || echo "install.sh: apt-get update failed; trying the cached lists" >&2

available=()
for p in "${packages[@]}"; do
  if apt-cache show "$p" >/dev/null 2>&1; then
    available+=("$p")
  else
    echo "install.sh: package $p is not in this release; skipped" >&2
  fi
done

if [ "${#available[@]}" -gt 0 ]; then
  # --no-install-recommends keeps the set small; the services the packages
  # enable are stopped below, since the harness starts its own instances.
  $sudo apt-get install -y --no-install-recommends "${available[@]}" || exit 1
fi

# Debian starts nginx, HAProxy and Caddy as system services on install; the
# harness runs its own instances on loopback ports, so the system ones are
# stopped where a service manager is present, to keep CPU 1 quiet.
for svc in nginx haproxy caddy squid; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $sudo systemctl stop "$svc" || true
  elif command -v service >/dev/null 2>&1; then
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  fi
done

for tool in nginx haproxy caddy squid wrk h2load; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "install.sh: $tool: $(command -v "$tool")"
  else
    echo "install.sh: $tool: not installed" >&2
  fi
done
