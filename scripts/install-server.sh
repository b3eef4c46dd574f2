#!/usr/bin/env bash
# Installs the Loa Xã server on Debian or Ubuntu, from a checkout of the repository
# in which `npm ci` has been run (it builds the console and the server).
#
#   sudo scripts/install-server.sh                     # install, enable and start
#   sudo scripts/install-server.sh --keep 30           # keep 30 nightly backups (default 14)
#   scripts/install-server.sh --dry-run                # print what would be done
#   scripts/install-server.sh --root /tmp/r --deps-from-checkout   # into a temporary root (CI)
#
# Installs Node (official build from nodejs.org) when it is missing or older than 20.19,
# creates the system user `loaxa`, the data directory /var/lib/loaxa-server (owner only)
# and the backup directory /var/backups/loaxa-server, copies the compiled server
# (server/dist, made by scripts/build.mjs: plain JavaScript) and the built console to
# /opt/loaxa-server with its production dependencies, writes /etc/loaxa/server.env (kept
# when it exists), the `loaxa` command (/usr/local/bin/loaxa), the systemd unit
# loaxa-server.service (`loaxa serve`: never the demo's simulated loudspeakers) and the
# nightly backup timer, then enables and starts them. Idempotent: run it again to upgrade.
#
# --root DIR   install under DIR instead of / (like DESTDIR): no user, no ownership, no
#              systemctl, no Node installation; for tests and image builds.
# --deps-from-checkout  link the checkout's installed node_modules (symlinks) instead of
#              installing the production dependencies with npm ci: for tests, not for a server.
# --keep N     nightly backups kept, written into a new /etc/loaxa/server.env (default 14).
# --dry-run    print the commands instead of running them (also LOAXA_DRY_RUN=1).
# --no-start   install and enable, but do not (re)start the server.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${LOAXA_ROOT:-}"
DRY_RUN="${LOAXA_DRY_RUN:-0}"
BACKUP_KEEP="${LOAXA_BACKUP_KEEP:-14}"
DEPS_FROM_CHECKOUT=0
START=1
NODE_BIN="${LOAXA_NODE:-node}"
NODE_MAJOR="${LOAXA_NODE_MAJOR:-22}"
NODE_DIST="${LOAXA_NODE_DIST:-https://nodejs.org/dist}"

INSTALL_DIR="/opt/loaxa-server"
DATA_DIR="/var/lib/loaxa-server"
BACKUP_DIR="/var/backups/loaxa-server"
CONFIG_DIR="/etc/loaxa"
ENV_FILE="$CONFIG_DIR/server.env"
UNIT_DIR="/etc/systemd/system"
BIN_LINK="/usr/local/bin/loaxa"
SERVICE_USER="loaxa"
UNIT_NAME="loaxa-server.service"
BACKUP_UNIT="loaxa-server-backup.service"
BACKUP_TIMER="loaxa-server-backup.timer"

log() { printf 'loaxa-install-server: %s\n' "$*"; }
die() {
  log "error: $*" >&2
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

while (($# > 0)); do
  case "$1" in
    --root)
      [[ $# -ge 2 ]] || die "--root needs a directory"
      ROOT="$2"
      shift 2
      ;;
    --root=*)
      ROOT="${1#*=}"
      shift
      ;;
    --keep)
      [[ $# -ge 2 ]] || die "--keep needs a number"
      BACKUP_KEEP="$2"
      shift 2
      ;;
    --keep=*)
      BACKUP_KEEP="${1#*=}"
      shift
      ;;
    --deps-from-checkout)
      DEPS_FROM_CHECKOUT=1
      shift
      ;;
    --dry-run)
      DRY_RUN=1
      shift
      ;;
    --no-start)
      START=0
      shift
      ;;
    -h | --help) usage 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

[[ "$BACKUP_KEEP" =~ ^[0-9]+$ && "$BACKUP_KEEP" -ge 1 ]] || die "--keep must be a whole number of at least 1"
if [[ -n "$ROOT" ]]; then
  [[ "$ROOT" == /* ]] || die "--root must be an absolute path"
  ROOT="${ROOT%/}"
fi
if [[ "$DRY_RUN" != 1 && -z "$ROOT" && "$(id -u)" -ne 0 ]]; then
  die "run as root (sudo $0), or with --root DIR or --dry-run"
fi

# A path on the target system.
target() { printf '%s%s' "$ROOT" "$1"; }
# True when installing into the running system (not --root).
live() { [[ -z "$ROOT" ]]; }

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
  live || die "node >= 20.19 is needed to build and test the installation (found: $("$NODE_BIN" --version 2>/dev/null || echo none))"
  local arch
  case "$(uname -m)" in
    aarch64 | arm64) arch=arm64 ;;
    x86_64) arch=x64 ;;
    *) die "no official Node build for $(uname -m): install Node >= 20.19 yourself" ;;
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

create_user() {
  if ! live; then
    log "--root: user $SERVICE_USER not created, files left owned by $(id -un)"
    return
  fi
  if id "$SERVICE_USER" >/dev/null 2>&1; then
    log "user $SERVICE_USER exists"
  else
    log "creating system user $SERVICE_USER"
    run useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
}

# chown on the running system only (the user exists there); under --root, ownership is the packager's.
own() {
  if live; then run chown "$@"; fi
}

# server/dist/build-stamp.json and the files it lists.
dist_files() {
  local stamp="$SRC_DIR/server/dist/build-stamp.json"
  echo build-stamp.json
  [[ -e "$stamp" ]] || return 0
  "$NODE_BIN" -e 'for (const f of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).files) console.log(f)' "$stamp"
}

build_server() {
  # The compiled server and the console, made from the checkout's sources if they are not up to date.
  [[ -d "$SRC_DIR/node_modules/esbuild" ]] ||
    die "$SRC_DIR/node_modules is missing: run \`npm ci\` in $SRC_DIR first (it builds the console and the server)"
  log "building the server and the console in $SRC_DIR (when out of date)"
  run "$NODE_BIN" "$SRC_DIR/scripts/build.mjs" server
  run "$NODE_BIN" "$SRC_DIR/scripts/ensure-web-built.mjs"
}

install_server() {
  local dir stage
  dir="$(target "$INSTALL_DIR")"
  # Assembled beside the installed version and swapped in whole: a running server keeps its
  # files (and its node_modules) until it is restarted at the end.
  stage="$dir.new"
  log "copying the compiled server and the console to $stage"
  local part
  for part in package.json package-lock.json README.md server/package.json server/bin server/dist server/assets \
    web/dist protocol/package.json; do
    [[ "$DRY_RUN" == 1 || -e "$SRC_DIR/$part" ]] || die "$SRC_DIR/$part missing; run from a built checkout"
  done
  run rm -rf "$stage"
  run mkdir -p "$stage/server/dist" "$stage/web" "$stage/protocol"
  run cp "$SRC_DIR/package.json" "$SRC_DIR/package-lock.json" "$SRC_DIR/README.md" "$stage/"
  run cp -R "$SRC_DIR/server/package.json" "$SRC_DIR/server/bin" "$SRC_DIR/server/assets" "$stage/server/"
  # The files of the current build only (server/dist also keeps the previous build's chunks a while).
  local file
  while IFS= read -r file; do
    run cp "$SRC_DIR/server/dist/$file" "$stage/server/dist/$file"
  done < <(dist_files)
  [[ "$DRY_RUN" == 1 || -e "$stage/server/dist/loaxa.mjs" ]] ||
    die "the server build is incomplete: node scripts/build.mjs --force"
  run cp -R "$SRC_DIR/web/dist" "$stage/web/dist"
  # The wire contract is bundled into server/dist; npm wants the workspace it names to exist.
  run cp "$SRC_DIR/protocol/package.json" "$stage/protocol/"
  # The checkout's install scripts (building the console, the agent, the demo) have nothing to build here.
  run "$NODE_BIN" -e 'const fs=require("fs"),f=process.argv[1],p=JSON.parse(fs.readFileSync(f,"utf8"));delete p.scripts;fs.writeFileSync(f,JSON.stringify(p,null,2)+"\n")' \
    "$stage/package.json"

  if [[ "$DEPS_FROM_CHECKOUT" == 1 ]]; then
    log "linking the checkout's node_modules as the dependencies (--deps-from-checkout)"
    run ln -s "$SRC_DIR/node_modules" "$stage/node_modules"
    # Where npm placed a version of its own for the server (the lock file's server/node_modules).
    if [[ -d "$SRC_DIR/server/node_modules" ]]; then
      run ln -s "$SRC_DIR/server/node_modules" "$stage/server/node_modules"
    fi
  else
    log "installing the server's Node dependencies (production only; better-sqlite3 may compile for a minute)"
    run npm ci --prefix "$stage" --omit=dev --no-audit --no-fund \
      --workspace @loaxa/server --include-workspace-root=false
  fi
  log "installing $dir"
  run rm -rf "$dir.old"
  if [[ -e "$dir" ]]; then run mv "$dir" "$dir.old"; fi
  run mv "$stage" "$dir"
  run rm -rf "$dir.old"

  log "installing the loaxa command as $(target "$BIN_LINK")"
  run mkdir -p "$(target "$(dirname "$BIN_LINK")")"
  run install -m 0755 "$SRC_DIR/server/deploy/loaxa" "$(target "$BIN_LINK")"
}

install_dirs() {
  log "data in $(target "$DATA_DIR"), backups in $(target "$BACKUP_DIR") (owner only)"
  local d
  for d in "$DATA_DIR" "$BACKUP_DIR"; do
    run mkdir -p "$(target "$d")"
    run chmod 0700 "$(target "$d")"
    own "$SERVICE_USER:$SERVICE_USER" "$(target "$d")"
  done
}

install_config() {
  local dir file
  dir="$(target "$CONFIG_DIR")"
  file="$(target "$ENV_FILE")"
  run mkdir -p "$dir"
  if [[ -e "$file" ]]; then
    log "keeping $file (backups kept: its LOAXA_BACKUP_KEEP)"
    return
  fi
  log "writing $file (mode 0640, group $SERVICE_USER), keeping $BACKUP_KEEP nightly backups"
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ write %s\n' "$file"
    return
  fi
  local temp="$file.tmp.$$"
  (
    umask 0137
    sed -e "s|@BACKUP_KEEP@|$BACKUP_KEEP|" "$SRC_DIR/server/deploy/server.env" >"$temp"
  )
  chmod 0640 "$temp"
  own "root:$SERVICE_USER" "$temp"
  mv "$temp" "$file"
}

install_units() {
  local dir unit
  dir="$(target "$UNIT_DIR")"
  log "installing $UNIT_NAME, $BACKUP_UNIT and $BACKUP_TIMER in $dir"
  run mkdir -p "$dir"
  for unit in "$UNIT_NAME" "$BACKUP_UNIT" "$BACKUP_TIMER"; do
    run install -m 0644 "$SRC_DIR/server/deploy/$unit" "$dir/$unit"
  done
  if ! live; then
    log "--root: systemctl not run"
    return
  fi
  run systemctl daemon-reload
  run systemctl enable "$UNIT_NAME" "$BACKUP_TIMER"
  run systemctl restart "$BACKUP_TIMER"
  if [[ "$START" == 1 ]]; then
    run systemctl restart "$UNIT_NAME"
  else
    log "--no-start: start it with systemctl start $UNIT_NAME"
  fi
}

next_steps() {
  cat <<STEPS

Loa Xã server installed in $(target "$INSTALL_DIR").
  Settings:  $(target "$ENV_FILE")  (then: systemctl restart $UNIT_NAME)
  Data:      $(target "$DATA_DIR")   Backups: $(target "$BACKUP_DIR"), nightly, newest $BACKUP_KEEP kept
  Logs:      journalctl -u $UNIT_NAME -f
  Status:    systemctl status $UNIT_NAME; curl http://127.0.0.1:8080/api/v1/health

Next steps:
  1. The admin password: the first start generated one and printed it once in its start-up
     banner:  journalctl -u $UNIT_NAME -o cat | grep 'admin /'
     (or set LOAXA_ADMIN_PASSWORD in $ENV_FILE before the first start). It must be changed
     at the first sign-in.
  2. TLS: put a reverse proxy in front of port 8080 for HTTPS, e.g. Caddy
     (apt-get install caddy; /etc/caddy/Caddyfile:  loa.example.gov.vn { reverse_proxy 127.0.0.1:8080 })
     or nginx with a certificate (certbot) that passes WebSocket upgrades on /mqtt; then set
     LOAXA_PUBLIC_URL=https://loa.example.gov.vn in $ENV_FILE. Or give the server
     LOAXA_TLS_CERT and LOAXA_TLS_KEY itself (HTTPS and MQTTS).
  3. Firewall: open 443 (the proxy) and MQTT_PORT 1883 (8883 with TLS) to the loudspeakers;
     keep 8080 to this machine when a proxy is in front.
  4. Loudspeakers: sudo loaxa device add loa-01 --zone thon-dong > agent.json, then
     scripts/install-agent.sh on each node (README, A real loudspeaker).
  5. Backups hold the database only; copy $BACKUP_DIR and $DATA_DIR/media off the machine.
STEPS
}

install_node
create_user
build_server
install_server
install_dirs
install_config
install_units
next_steps
