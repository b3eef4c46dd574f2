#!/usr/bin/env bash
# Installs the Loa Xã loudspeaker agent on a Raspberry Pi (Raspberry Pi OS / Debian).
#
#   sudo scripts/pi/install.sh            # from a checkout of the repository
#   LOAXA_DRY_RUN=1 scripts/pi/install.sh # print what would be done
#
# Needs Node >= 20.19 already installed (Raspberry Pi OS bookworm ships 18;
# install a newer one first). Idempotent: run it again to upgrade.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INSTALL_DIR="${LOAXA_INSTALL_DIR:-/opt/loaxa}"
CONFIG_DIR="/etc/loaxa"
SERVICE_USER="loaxa"
UNIT_NAME="loaxa-agent.service"
DRY_RUN="${LOAXA_DRY_RUN:-0}"

log() { printf 'loaxa-install: %s\n' "$*"; }
die() { log "error: $*" >&2; exit 1; }
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

check_node() {
  command -v node >/dev/null 2>&1 || die "node not found; install Node >= 20.19 first"
  local version major minor
  version="$(node --version)"
  version="${version#v}"
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  if ((major < 20 || (major == 20 && minor < 19))); then
    die "node $version is too old; need >= 20.19"
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found"
  log "node $version"
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
  run rm -rf "$INSTALL_DIR/device-agent/node_modules" "$INSTALL_DIR/protocol/node_modules"
  log "installing the agent's Node dependencies"
  # Only the agent workspace (and the protocol package it links); no dev dependencies.
  run npm ci --prefix "$INSTALL_DIR" --omit=dev --no-audit --no-fund \
    --workspace @loaxa/device-agent --include-workspace-root=false
}

install_config() {
  run mkdir -p "$CONFIG_DIR"
  if [[ -e "$CONFIG_DIR/agent.json" ]]; then
    log "keeping $CONFIG_DIR/agent.json"
    return
  fi
  log "writing a template $CONFIG_DIR/agent.json: fill in deviceId, serverUrl, mqttUrl and secret"
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
  "amp": { "type": "none" },
  "mixer": { "type": "amixer", "card": 0, "control": "PCM" }
}
JSON
  chown "root:$SERVICE_USER" "$CONFIG_DIR/agent.json"
  chmod 0640 "$CONFIG_DIR/agent.json"
}

install_unit() {
  log "installing $UNIT_NAME"
  run install -m 0644 "$SRC_DIR/scripts/pi/$UNIT_NAME" "/etc/systemd/system/$UNIT_NAME"
  run systemctl daemon-reload
  run systemctl enable "$UNIT_NAME"
  if [[ "$DRY_RUN" != 1 ]] && grep -q CHANGE-ME "$CONFIG_DIR/agent.json"; then
    log "edit $CONFIG_DIR/agent.json, then: systemctl restart $UNIT_NAME"
  else
    run systemctl restart "$UNIT_NAME"
  fi
}

check_node
install_packages
create_user
install_agent
install_config
install_unit
log "done; logs: journalctl -u $UNIT_NAME -f"
