#!/usr/bin/env bash
# Act on one area node of a running test network (used by up.sh and tests/docker).
#   area.sh import AREA FILE.csv   copy FILE into the area-AREA container and import it
#   area.sh alerts AREA            print the area's alert inbox as JSON
#   area.sh show-alerts AREA       print the area's alert inbox for people
#   area.sh matches AREA           print the area's current matches as JSON
# FEDALERT_PROJECT picks the compose project (default fedalert).
# The node commands live here, in one place.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

NODE_DB=/var/lib/fedalert/node.db
node_import()  { echo fedalert node import --db "$NODE_DB" "$1"; }
node_alerts()  { echo fedalert node alerts --db "$NODE_DB" --json; }
node_show()    { echo fedalert node alerts --db "$NODE_DB"; }
node_matches() { echo fedalert node matches --db "$NODE_DB" --json; }

[[ $# -ge 2 ]] || die "usage: area.sh import|alerts|show-alerts|matches AREA [FILE]"
verb=$1 area=$2
[[ $area =~ ^[a-z0-9][a-z0-9-]{0,31}$ ]] || die "bad area id '$area'"
cid=$(container_of "area-$area")
[[ -n $cid ]] || die "no running container for area-$area in project $FEDALERT_PROJECT"

case $verb in
  import)
    [[ $# -eq 3 && -r $3 ]] || die "import needs a readable CSV file"
    # The container's root is read-only; /tmp is a tmpfs. Pipe the file in.
    docker exec -i "$cid" sh -c "umask 077; cat > /tmp/import.csv && $(node_import /tmp/import.csv); rc=\$?; rm -f /tmp/import.csv; exit \$rc" <"$3"
    ;;
  alerts)  docker exec "$cid" $(node_alerts) ;;
  show-alerts) docker exec "$cid" $(node_show) ;;
  matches) docker exec "$cid" $(node_matches) ;;
  *) die "unknown verb '$verb' (import, alerts, show-alerts, matches)" ;;
esac
