#!/usr/bin/env sh
# Generates every secret docker-compose.yml reads, once: files that already exist are kept, so running it
# again never rotates a password under a running database. Usage: deploy/init-secrets.sh [DIR]
# (default: secrets/ beside docker-compose.yml). Needs openssl.
set -eu
dir=${1:-"$(cd "$(dirname "$0")/.." && pwd)/secrets"}
mkdir -p "$dir"
chmod 700 "$dir"
umask 077

new() {  # new NAME VALUE: write the file unless it exists
  if [ -e "$dir/$1" ]; then
    echo "kept    $dir/$1"
  else
    printf '%s' "$2" >"$dir/$1"
    echo "created $dir/$1"
  fi
}
token() { openssl rand -hex "$1"; }  # hex: safe inside URLs and JSON without escaping

new secret_key "$(openssl rand -base64 60 | tr -d '\n')"
new pseudonym_key "$(token 32)"  # keyed pseudonyms (governance/pii.py)
new audit_key "$(token 32)"      # keyed audit chain, checkpoints and text digests (governance/audit.py)
new postgres_password "$(token 24)"
new database_url "postgres://faro:$(cat "$dir/postgres_password")@postgres:5432/faro?connect_timeout=5"
new redis_password "$(token 24)"
new redis_url "redis://:$(cat "$dir/redis_password")@redis:6379/0"
new elastic_password "$(token 24)"
new elasticsearch_password "$(token 24)"
new hf_token ""  # fill in a Hugging Face token for gated models (e.g. Llama 3.1); empty: none
mkdir -p "$dir/tls"  # your own certificate and key, when FARO_TLS names them
# The containers read the files as their own users (postgres, redis, elasticsearch, faro), so the files are
# readable; the folder stays closed to other users of the host.
find "$dir" -maxdepth 1 -type f -exec chmod 644 {} +
chmod 700 "$dir"
