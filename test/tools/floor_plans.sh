#!/usr/bin/env bash
# Write every drawn floor of a park as an SVG document (leasemgr.floor_plan_svg), and the park
# as GeoJSON (leasemgr.occupancy_geojson), into a directory; print the files written.
#   floor_plans.sh DIR PARK_CODE [AS_OF]
# Uses the current PG* environment (database included). The files are UTF-8, as they say.
set -euo pipefail
dir=$1 park=$2 as_of=${3:-}
mkdir -p "$dir"
export PGCLIENTENCODING=UTF8
sql() { psql -X -At -v ON_ERROR_STOP=1 -v park="$park" -v as_of="$as_of" -F ' '; }
echo "SELECT f.building_id, b.code, f.floor FROM leasemgr.floor_plan f
        JOIN leasemgr.building b ON b.id = f.building_id JOIN leasemgr.park p ON p.id = b.park_id
       WHERE p.code = :'park' ORDER BY b.code, f.floor;" | sql |
while read -r id code floor; do
  file="$dir/${park}_${code}_floor_${floor}.svg"
  echo "SELECT leasemgr.floor_plan_svg($id, $floor, COALESCE(NULLIF(:'as_of', '')::date, leasemgr.business_date()));" | sql >"$file"
  echo "$file"
done
file="$dir/${park}.geojson"
echo "SELECT leasemgr.occupancy_geojson(id, COALESCE(NULLIF(:'as_of', '')::date, leasemgr.business_date()))
        FROM leasemgr.park WHERE code = :'park';" | sql >"$file"
echo "$file"
