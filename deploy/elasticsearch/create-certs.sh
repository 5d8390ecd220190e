#!/usr/bin/env bash
# One-shot (service elasticsearch-certs): a private CA and the node certificate for Elasticsearch's HTTP
# and transport TLS, made once with Elasticsearch's own certutil, as in Elastic's Docker Compose guide.
# Only the CA's public certificate is copied to the volume the app mounts.
set -euo pipefail
cd /usr/share/elasticsearch
certs=config/certs
if [ -f "$certs/elasticsearch/elasticsearch.crt" ]; then
  echo "elasticsearch-certs: certificates already exist"
else
  bin/elasticsearch-certutil ca --silent --pem --out /tmp/ca.zip
  unzip -o -q /tmp/ca.zip -d "$certs"
  cat > /tmp/instances.yml <<'YAML'
instances:
  - name: elasticsearch
    dns: [elasticsearch, localhost]
    ip: [127.0.0.1]
YAML
  bin/elasticsearch-certutil cert --silent --pem --in /tmp/instances.yml --out /tmp/certs.zip \
    --ca-cert "$certs/ca/ca.crt" --ca-key "$certs/ca/ca.key"
  unzip -o -q /tmp/certs.zip -d "$certs"
  rm -f /tmp/ca.zip /tmp/certs.zip
  echo "elasticsearch-certs: created a CA and the node certificate"
fi
chown -R 1000:0 "$certs"
find "$certs" -type d -exec chmod 750 {} +
find "$certs" -type f -exec chmod 640 {} +
cp "$certs/ca/ca.crt" /ca-public/ca.crt
chmod 644 /ca-public/ca.crt
