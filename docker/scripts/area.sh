#!/usr/bin/env bash
# Act on one area node of a running test network (used by up.sh and tests/docker).
#   area.sh import AREA FILE.csv   copy FILE into the area-AREA container and import it
#   area.sh alerts AREA            print the area's alert inbox as JSON
#   area.sh show-alerts AREA       print the area's alert inbox for people
#   area.sh matches AREA           print the area's current matches as JSON
# Disclosure (docs/PROTOCOL.md section 5; invented accounts coord-AREA1 (coordinator)
# and appr-AREA1 (approver), made on first use with `fedalert node user add` by
# admin-AREA, their passwords and TOTP secrets in 0600 files under
# /var/lib/fedalert/users; partner AREA-council from /config/overlay.toml):
#   area.sh request AREA MATCH_ID FIELDS [FLAG...]
#                                  ask the other area of MATCH_ID for FIELDS (comma-
#                                  separated), purpose MARAC, basis UK GDPR 6(1)(e);
#                                  FLAGs go to `fedalert disclose request`; JSON
#   area.sh approve AREA REQUEST_ID [FLAG...]
#                                  approve a received request (consent not sought, with
#                                  reasons); FLAGs go to `fedalert disclose approve`; JSON
#   area.sh requests AREA          every disclosure request, both directions, as JSON
#   area.sh request-show AREA REQUEST_ID   one request as JSON (no case values)
#   area.sh release-show AREA RELEASE_ID   open a received release as JSON (audited view)
#   area.sh audit-verify AREA      verify the area's hash-chained audit log
# The running node sends what these commands queue. FEDALERT_PROJECT picks the
# compose project (default fedalert). The node commands live here, in one place.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

NODE_DB=/var/lib/fedalert/node.db
NODE_AUDIT=/var/lib/fedalert/node.audit.jsonl
OVERLAY=/config/overlay.toml
USERS=/var/lib/fedalert/users
RATIONALE="The perpetrator is now known in both areas; current risk and any conditions are needed to plan the victim's safety at this week's MARAC."
node_import()  { echo fedalert node import --db "$NODE_DB" --overlay "$OVERLAY" "$1"; }
node_alerts()  { echo fedalert node alerts --db "$NODE_DB" --json; }
node_show()    { echo fedalert node alerts --db "$NODE_DB"; }
node_matches() { echo fedalert node matches --db "$NODE_DB" --json; }
# The area's accounts, made once (idempotent): admin-AREA, then coord-AREA1 and appr-AREA1.
ensure_users() {  # AREA
  docker exec -e AREA="$1" -e DB="$NODE_DB" -e D="$USERS" "$cid" sh -c '
    set -e; umask 077; mkdir -p "$D"
    [ -f "$D/appr-${AREA}1.totp" ] && exit 0
    pw() { python3 -c "import secrets; print(secrets.token_urlsafe(18))" > "$D/$1.password"; }
    add() { fedalert node user add "$1" --role "$2" --db "$DB" --new-password-file "$D/$1.password" \
              --totp-secret-out "$D/$1.totp" $3 >/dev/null; }
    pw "admin-$AREA"; add "admin-$AREA" admin ""
    admin="--user admin-$AREA --password-file $D/admin-$AREA.password --totp-secret-file $D/admin-$AREA.totp"
    pw "coord-${AREA}1"; add "coord-${AREA}1" coordinator "$admin"
    pw "appr-${AREA}1"; add "appr-${AREA}1" approver "$admin"'
}
login() {  # USER
  echo --user "$1" --password-file "$USERS/$1.password" --totp-secret-file "$USERS/$1.totp"
}
# Arrays, not echo: the rationale and reasons hold spaces.
disclose_request() {  # AREA MATCH_ID FIELDS
  cmd=(fedalert disclose request "$2" --db "$NODE_DB" --keys /keys --overlay "$OVERLAY"
       --partner "$1-council" $(login "coord-${1}1") --purpose marac --basis uk_gdpr_6_1_e
       --statutory-power "Crime and Disorder Act 1998 s115" --art9 uk_gdpr_9_2_g_sch1_para18
       --fields "$3" --rationale "$RATIONALE" --channel meeting --json)
}
disclose_approve() {  # AREA REQUEST_ID
  cmd=(fedalert disclose approve "$2" --db "$NODE_DB" --keys /keys --overlay "$OVERLAY" $(login "appr-${1}1")
       --consent "victim:not_sought:seeking consent would increase the risk to the victim"
       --consent "perpetrator:not_sought:would prejudice the prevention of crime" --json)
}
disclose_list()    { cmd=(fedalert disclose list --db "$NODE_DB" --overlay "$OVERLAY" $(login "coord-${1}1") --json); }
disclose_show()    { cmd=(fedalert disclose show "$2" --db "$NODE_DB" --overlay "$OVERLAY" $(login "coord-${1}1")
                          --json); }
disclose_release() { cmd=(fedalert disclose release-show "$2" --db "$NODE_DB" --keys /keys --overlay "$OVERLAY"
                          $(login "coord-${1}1") --json); }
audit_verify()     { cmd=(fedalert audit verify "$NODE_AUDIT"); }

verbs="import, alerts, show-alerts, matches, request, approve, requests, request-show, release-show, audit-verify"
[[ $# -ge 2 ]] || die "usage: area.sh VERB AREA [ARG...] (verbs: $verbs)"
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
  request)
    [[ $# -ge 4 ]] || die "usage: area.sh request AREA MATCH_ID FIELDS [FLAG...]"
    ensure_users "$area"; disclose_request "$area" "$3" "$4"
    docker exec "$cid" "${cmd[@]}" "${@:5}"
    ;;
  approve)
    [[ $# -ge 3 ]] || die "usage: area.sh approve AREA REQUEST_ID [FLAG...]"
    ensure_users "$area"; disclose_approve "$area" "$3"
    docker exec "$cid" "${cmd[@]}" "${@:4}"
    ;;
  requests) ensure_users "$area"; disclose_list "$area"; docker exec "$cid" "${cmd[@]}" ;;
  request-show)
    [[ $# -eq 3 ]] || die "usage: area.sh request-show AREA REQUEST_ID"
    ensure_users "$area"; disclose_show "$area" "$3"; docker exec "$cid" "${cmd[@]}"
    ;;
  release-show)
    [[ $# -eq 3 ]] || die "usage: area.sh release-show AREA RELEASE_ID"
    ensure_users "$area"; disclose_release "$area" "$3"; docker exec "$cid" "${cmd[@]}"
    ;;
  audit-verify) audit_verify; docker exec "$cid" "${cmd[@]}" ;;
  *) die "unknown verb '$verb' ($verbs)" ;;
esac
