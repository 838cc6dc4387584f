#!/usr/bin/env sh
# Creates deploy/secrets/ for docker-compose.yml, once: random passwords for the gateways, the
# simulator and Pulse's admin, and the gateways' shared token signing key, each in its own file
# (mounted as compose secrets, never put in an environment variable), and Mosquitto's password
# file with their hashes. Devices are added later with:
#   mosquitto_passwd deploy/secrets/mosquitto_passwd <device-id>
# Uses a local mosquitto_passwd (Debian: apt-get install mosquitto), else the compose image's.
set -eu
cd "$(dirname "$0")/../.."
dir=deploy/secrets
mkdir -p "$dir"
umask 077
for name in mqtt_gateway_password mqtt_simulator_password pulse_admin_password; do
  [ -s "$dir/$name" ] || openssl rand -base64 24 > "$dir/$name"
done
# The gateways' shared token signing key (PULSE_SECRET_FILE, at least 32 bytes).
[ -s "$dir/pulse_secret_key" ] || openssl rand -base64 48 > "$dir/pulse_secret_key"
: > "$dir/mosquitto_passwd"
# The password goes to mosquitto_passwd on its standard input (asked twice), never as an
# argument (`-b`): any user on the machine can read a process's arguments while it runs.
hash() {
  if command -v mosquitto_passwd >/dev/null 2>&1; then
    { cat "$2"; cat "$2"; } | mosquitto_passwd "$dir/mosquitto_passwd" "$1" >/dev/null
  else
    { cat "$2"; cat "$2"; } | docker run --rm -i -v "$PWD/$dir:/s" eclipse-mosquitto:2.0.20 \
      mosquitto_passwd /s/mosquitto_passwd "$1" >/dev/null
  fi
}
hash gateway "$dir/mqtt_gateway_password"
hash simulator "$dir/mqtt_simulator_password"
# Hashes only; the broker runs as its own user and must read it.
chmod 644 "$dir/mosquitto_passwd"
echo "wrote $dir (admin password: $dir/pulse_admin_password)"
