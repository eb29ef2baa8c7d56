#!/usr/bin/env bash
# The floor plans of the sample park as files, as make demo writes them: each is an SVG
# document that xmllint parses, with every unit drawn on its floor; the park's GeoJSON is a
# FeatureCollection with every unit.
. "$(dirname "$0")/tap-lib.bash"

fresh_db lm_floor_plans
export PGDATABASE=lm_floor_plans
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION leasemgr CASCADE"
q -f "$top/test/fixtures/sample_park.sql" >/dev/null
floors=$(q -c "SELECT count(*) FROM leasemgr.floor_plan f JOIN leasemgr.park p ON p.id = f.park_id WHERE p.code = 'SZ-ZH'")
plan 6

"$top/test/tools/floor_plans.sh" "$tmp/plans" SZ-ZH 2026-06-15 >"$tmp/written"
is "$(grep -c '\.svg$' "$tmp/written")" "$floors" "one SVG file per drawn floor of the park ($floors)"

bad=0
for f in $(grep '\.svg$' "$tmp/written"); do
  xmllint --noout "$f" 2>>"$tmp/xmllint.err" || bad=$((bad + 1))
done
is "$bad" 0 "xmllint parses every one of them"
[ -s "$tmp/xmllint.err" ] && diag <"$tmp/xmllint.err"

# every unit drawn on a floor is a <g class="unit"> of that floor's file
drawn=$(q -c "SELECT count(*) FROM leasemgr.unit u JOIN leasemgr.park p ON p.id = u.park_id
               WHERE p.code = 'SZ-ZH' AND u.footprint IS NOT NULL")
in_files=0
for f in $(grep '\.svg$' "$tmp/written"); do
  units_in=$(xmllint --xpath "count(//*[local-name()='g'][@class='unit'])" "$f")
  in_files=$((in_files + units_in))
done
is "$in_files" "$drawn" "the files draw every unit with a footprint ($drawn), once"

a3=$(grep '_A_floor_3\.svg$' "$tmp/written")
title=$(xmllint --xpath "string(/*[local-name()='svg']/*[local-name()='title'])" "$a3")
re='^SZ-ZH .* floor 3 \(3F\) as of 2026-06-15: [0-9.]+% occupied'
if [[ $title =~ $re ]]; then ok 0 "a floor's title gives its occupancy: $title"; else ok 1 "a floor's title gives its occupancy: $title"; fi

units=$(q -c "SELECT count(*) FROM leasemgr.unit u JOIN leasemgr.park p ON p.id = u.park_id WHERE p.code = 'SZ-ZH'")
features=$(printf '%s\n' "\\set gj \`cat '$tmp/plans/SZ-ZH.geojson'\`" \
             "SELECT jsonb_array_length(:'gj'::jsonb -> 'features') WHERE :'gj'::jsonb ->> 'type' = 'FeatureCollection';" | q)
is "$features" "$units" "the park's GeoJSON has a feature per unit ($units)"

# Footprints are written in READ COMMITTED: a REPEATABLE READ snapshot would not see another
# session's unit drawn meanwhile, whatever lock it waited for.
err=$(printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ;" \
        "UPDATE leasemgr.unit SET footprint = ST_Translate(footprint, 0.001, 0) WHERE id = (SELECT min(id) FROM leasemgr.unit WHERE footprint IS NOT NULL);" \
        "ROLLBACK;" | psql -X -q -At -v VERBOSITY=verbose 2>&1 | grep -o 'LM011' | head -1 || true)
is "$err" "LM011" "a footprint written under REPEATABLE READ is refused (LM011)"

q -d postgres -c "DROP DATABASE lm_floor_plans"
finish
