#!/bin/sh
# Push a pprof profile written by pyperf-report to a Pyroscope server.
#
#   pyperf-report -i perf.data --format pprof -o profile.pb.gz
#   contrib/pyroscope-push.sh profile.pb.gz myapp [SERVER]
#
# SERVER defaults to $PYROSCOPE_URL, else http://localhost:4040. The
# profile goes to Pyroscope's ingest API:
#
#   POST SERVER/ingest?name=APP.cpu{LABELS}&from=START&until=END&format=pprof
#   Content-Type: multipart/form-data, the profile in the part "profile"
#
# name is the application name with Pyroscope's profile type suffix
# (".cpu") and optional labels in braces, e.g. myapp.cpu{host=web1,env=prod}
# (set PYROSCOPE_LABELS="host=web1,env=prod"); from and until are Unix
# seconds (default: until now, from now minus the profile's duration, or
# 10 s; override with PYROSCOPE_FROM and PYROSCOPE_UNTIL). pyperf's pprof
# has two sample types, samples/count and cpu/nanoseconds: Pyroscope shows
# both. If the server wants authentication, PYROSCOPE_AUTH is sent as the
# Authorization header ("Bearer TOKEN" or "Basic ..."). Grafana Cloud
# profiles and Parca accept the same file through their own APIs.
#
# Exit status: curl's (0 when the server answered 2xx).
set -eu

usage() {
	echo "usage: $0 PROFILE.pb.gz APP_NAME [SERVER_URL]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
profile=$1
app=$2
server=${3:-${PYROSCOPE_URL:-http://localhost:4040}}
[ -r "$profile" ] || { echo "$0: cannot read $profile" >&2; exit 2; }
command -v curl > /dev/null || { echo "$0: curl is needed" >&2; exit 2; }

until=${PYROSCOPE_UNTIL:-$(date +%s)}
from=${PYROSCOPE_FROM:-$((until - 10))}
name="$app.cpu"
if [ -n "${PYROSCOPE_LABELS:-}" ]; then
	name="$name{$PYROSCOPE_LABELS}"
fi

# curl (7.87+) encodes the query's special characters ({, }, =, ,) for us.
set -- --fail --silent --show-error \
	--url-query "name=$name" --url-query "from=$from" \
	--url-query "until=$until" --url-query "format=pprof"
if [ -n "${PYROSCOPE_AUTH:-}" ]; then
	set -- "$@" -H "Authorization: $PYROSCOPE_AUTH"
fi
# -F makes it a multipart/form-data POST
exec curl "$@" -F "profile=@$profile;type=application/octet-stream" "$server/ingest"
