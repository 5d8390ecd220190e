#!/usr/bin/env bash
# One-shot (service elasticsearch-setup), after Elasticsearch is healthy: the role and user Faro connects
# as. Least privilege: Faro's indices and aliases (faro-*), its index template, and cluster monitoring for
# its readiness check; the `elastic` superuser stays for operators (snapshots, upgrades). Idempotent: safe
# on every start.
set -euo pipefail
es() {
  curl --silent --show-error --fail --cacert /ca/ca.crt \
    --user "elastic:$(cat /run/secrets/elastic_password)" -H 'Content-Type: application/json' "$@"
}
url=https://elasticsearch:9200
es -X PUT "$url/_security/role/faro_app" -d '{
  "cluster": ["monitor", "manage_index_templates"],
  "indices": [{"names": ["faro-*"], "privileges": ["create_index", "manage", "read", "write", "delete", "view_index_metadata"]}]
}' >/dev/null
password=$(cat /run/secrets/elasticsearch_password)
es -X PUT "$url/_security/user/faro" -d "{\"password\": \"$password\", \"roles\": [\"faro_app\"]}" >/dev/null
echo "elasticsearch-setup: role faro_app and user faro are in place"
