#!/usr/bin/env bash
# Installs the Loa Xã loudspeaker agent on a fresh Raspberry Pi (Raspberry Pi OS / Debian).
#
#   sudo scripts/install-agent.sh             # from a checkout of the repository
#   LOAXA_DRY_RUN=1 scripts/install-agent.sh  # print what would be done
#
# Installs Node (official build from nodejs.org) when it is missing or older
# than 20.19 (Raspberry Pi OS bookworm ships 18), ffmpeg/ALSA/GPIO tools, the
# agent under /opt/loaxa (bundled to one file, see device-agent/scripts/bundle.mjs),
# a template /etc/loaxa/agent.json and the systemd unit from device-agent/deploy/.
# Idempotent: run it again to upgrade.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALL_DIR="${LOAXA_INSTALL_DIR:-/opt/loaxa}"
CONFIG_DIR="/etc/loaxa"
SERVICE_USER="loaxa"
UNIT_NAME="loaxa-agent.service"
DRY_RUN="${LOAXA_DRY_RUN:-0}"
NODE_BIN="${LOAXA_NODE:-node}"
NODE_MAJOR="${LOAXA_NODE_MAJOR:-22}"
NODE_DIST="${LOAXA_NODE_DIST:-https://nodejs.org/dist}"

log() { printf 'loaxa-install: %s\n' "$*"; }
die() {
  log "error: $*" >&2
  exit 1
}
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

if [[ "$DRY_RUN" != 1 && "$(id -u)" -ne 0 ]]; then
  die "run as root (sudo $0)"
fi

node_is_recent() {
  command -v "$NODE_BIN" >/dev/null 2>&1 || return 1
  local version major minor
  version="$("$NODE_BIN" --version)"
  version="${version#v}"
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  ((major > 20 || (major == 20 && minor >= 19)))
}

install_node() {
  if node_is_recent; then
    log "node $("$NODE_BIN" --version)"
    return
  fi
  local arch
  case "$(uname -m)" in
    aarch64 | arm64) arch=arm64 ;;
    armv7l) arch=armv7l ;;
    x86_64) arch=x64 ;;
    *) die "no official Node build for $(uname -m) (Pi Zero/1 are armv6: install Node >= 20.19 yourself)" ;;
  esac
  local base="$NODE_DIST/latest-v$NODE_MAJOR.x"
  log "installing Node $NODE_MAJOR ($arch) from $base into /usr/local"
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ curl -fsSL %s/SHASUMS256.txt\n' "$base"
    printf '+ curl -fsSL %s/node-v%s.x-linux-%s.tar.xz | sha256sum -c | tar -xJ -C /usr/local --strip-components=1\n' \
      "$base" "$NODE_MAJOR" "$arch"
    return
  fi
  command -v curl >/dev/null 2>&1 || apt-get install -y --no-install-recommends curl ca-certificates xz-utils
  local tmp line file
  tmp="$(mktemp -d)"
  curl -fsSL "$base/SHASUMS256.txt" -o "$tmp/SHASUMS256.txt"
  line="$(grep -E "node-v[0-9.]+-linux-$arch\.tar\.xz$" "$tmp/SHASUMS256.txt" | head -n 1)"
  [[ -n "$line" ]] || die "no linux-$arch tarball listed in $base/SHASUMS256.txt"
  file="${line##* }"
  curl -fsSL "$base/$file" -o "$tmp/$file"
  (cd "$tmp" && printf '%s\n' "$line" | sha256sum -c --quiet) || die "checksum mismatch for $file"
  tar -xJf "$tmp/$file" -C /usr/local --strip-components=1 --no-same-owner
  rm -rf "$tmp"
  hash -r
  NODE_BIN=node
  node_is_recent || die "node installed to /usr/local but $(node --version 2>/dev/null || echo none) is found first on PATH"
  log "node $(node --version)"
}

install_packages() {
  log "installing ffmpeg, alsa-utils (aplay, amixer) and gpiod (gpioset)"
  run env DEBIAN_FRONTEND=noninteractive apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg alsa-utils gpiod
}

create_user() {
  if id "$SERVICE_USER" >/dev/null 2>&1; then
    log "user $SERVICE_USER exists"
  else
    log "creating system user $SERVICE_USER"
    run useradd --system --home-dir /var/lib/loaxa --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  # audio: the ALSA card and mixer; gpio: /dev/gpiochip* on Raspberry Pi OS.
  local group
  for group in audio gpio; do
    if getent group "$group" >/dev/null; then
      run usermod -aG "$group" "$SERVICE_USER"
    else
      log "group $group absent; skipped"
    fi
  done
}

install_agent() {
  log "copying the agent to $INSTALL_DIR"
  run mkdir -p "$INSTALL_DIR"
  local part
  for part in package.json package-lock.json protocol device-agent; do
    [[ -e "$SRC_DIR/$part" ]] || die "$SRC_DIR/$part missing; run from a checkout of the repository"
    run rm -rf "${INSTALL_DIR:?}/$part"
    run cp -a "$SRC_DIR/$part" "$INSTALL_DIR/$part"
  done
  run rm -rf "$INSTALL_DIR/device-agent/node_modules" "$INSTALL_DIR/protocol/node_modules" \
    "$INSTALL_DIR/device-agent/dist"
  # The checkout's install scripts (building the console, the server) have nothing to build here.
  run "$NODE_BIN" -e 'const fs=require("fs"),f=process.argv[1],p=JSON.parse(fs.readFileSync(f,"utf8"));delete p.scripts;fs.writeFileSync(f,JSON.stringify(p,null,2)+"\n")' \
    "$INSTALL_DIR/package.json"
  log "installing the agent's Node dependencies"
  # Only the agent workspace (and the protocol package it links); no dev dependencies.
  run npm ci --prefix "$INSTALL_DIR" --omit=dev --no-audit --no-fund \
    --workspace @loaxa/device-agent --include-workspace-root=false
  # One plain-JavaScript file: ~74 MB resident, and no TypeScript compiler at run time.
  # esbuild is a dependency of the agent; the agent does not start without its bundle.
  log "bundling the agent"
  run "$NODE_BIN" "$INSTALL_DIR/device-agent/scripts/bundle.mjs" || die "bundling the agent failed"
}

install_config() {
  run mkdir -p "$CONFIG_DIR"
  if [[ -e "$CONFIG_DIR/agent.json" ]]; then
    log "keeping $CONFIG_DIR/agent.json"
    return
  fi
  log "writing a template $CONFIG_DIR/agent.json: fill in deviceId, serverUrl, mqttUrl and secret"
  log "(the server prints a ready one: loaxa device add <id> --zone <zone>)"
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ write %s\n' "$CONFIG_DIR/agent.json"
    return
  fi
  cat >"$CONFIG_DIR/agent.json" <<'JSON'
{
  "deviceId": "CHANGE-ME",
  "serverUrl": "http://CHANGE-ME:8080",
  "mqttUrl": "mqtt://CHANGE-ME:1883",
  "secret": "CHANGE-ME",
  "player": { "type": "alsa", "device": "default", "command": "ffmpeg" },
  "audioFormat": "ogg",
  "amp": { "type": "none" },
  "mixer": { "type": "amixer", "card": 0, "control": "PCM" }
}
JSON
  chown "root:$SERVICE_USER" "$CONFIG_DIR/agent.json"
  chmod 0640 "$CONFIG_DIR/agent.json"
}

install_unit() {
  log "installing $UNIT_NAME"
  run install -m 0644 "$SRC_DIR/device-agent/deploy/$UNIT_NAME" "/etc/systemd/system/$UNIT_NAME"
  run systemctl daemon-reload
  run systemctl enable "$UNIT_NAME"
  if [[ "$DRY_RUN" != 1 ]] && grep -q CHANGE-ME "$CONFIG_DIR/agent.json"; then
    log "edit $CONFIG_DIR/agent.json, then: systemctl restart $UNIT_NAME"
  else
    run systemctl restart "$UNIT_NAME"
  fi
}

install_node
install_packages
create_user
install_agent
install_config
install_unit
log "done; logs: journalctl -u $UNIT_NAME -f"
