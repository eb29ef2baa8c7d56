-- The pictures of occupancy: a floor as an SVG document (well-formed XML, every unit of the
-- floor drawn in its colour and labelled, user text escaped, the occupancy in the title) and a
-- park as GeoJSON (a FeatureCollection whose units lie on their building's map footprint).
BEGIN;
SELECT plan(19);
SET LOCAL TimeZone = 'Asia/Shanghai';
SET LOCAL leasemgr.timezone = 'Asia/Shanghai';

SELECT th.park('PV') AS p \gset
SELECT id AS b FROM leasemgr.building WHERE park_id = :p \gset
-- The building stands on the map at 120.000..120.001 E, 30.0000..30.0005 N; its floor 1 is
-- 40 m x 10 m with PV-101 (0..10), PV-102 (10..20), PV-103 (20..40) drawn, PV-104 not.
UPDATE leasemgr.building SET footprint = ST_SetSRID(ST_MakeEnvelope(120.000, 30.0000, 120.001, 30.0005), 4326) WHERE id = :b;
INSERT INTO leasemgr.floor_plan (building_id, floor, name, outline) VALUES (:b, 1, '1F', ST_MakeEnvelope(0, 0, 40, 10, 0));
INSERT INTO leasemgr.unit (park_id, building_id, floor, code, kind, area_m2, footprint)
VALUES (:p, :b, 1, 'PV-101', 'office', 100, ST_MakeEnvelope(0, 0, 10, 10, 0)),
       (:p, :b, 1, 'PV-102', 'office', 100, ST_MakeEnvelope(10, 0, 20, 10, 0)),
       (:p, :b, 1, 'PV-103', 'office', 200, ST_MakeEnvelope(20, 0, 40, 10, 0)),
       (:p, :b, 1, 'PV-104', 'office', 50, NULL);
SELECT th.draft(:p, 'PV-L1', ARRAY[(SELECT id FROM leasemgr.unit WHERE code = 'PV-101')], '2026-01-01', '2027-12-31') AS l1 \gset
SELECT th.walk(:l1, 'active');
UPDATE leasemgr.tenant SET name = 'A&B <Co> "Ltd" 苏州' || chr(65534) || chr(7) WHERE id = (SELECT tenant_id FROM leasemgr.contract WHERE id = :l1);

SELECT leasemgr.floor_plan_svg(:b, 1, '2026-06-15') AS svg \gset
SELECT ok(xml_is_well_formed_document(:'svg'), 'the floor plan is a well-formed XML document');
SELECT is(left(:'svg', 38), '<?xml version="1.0" encoding="UTF-8"?>', '... with its XML declaration');
SELECT is((xpath('/s:svg/@viewBox', :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
  '-2.000 -15.000 44.000 23.000', 'the view box is the floor in metres with margins, the legend below (y down)');
SELECT is((xpath('count(//s:g[@class="unit"])', :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text, '3',
  'every unit drawn on the floor is in the picture');
SELECT is(array_to_string(xpath('//s:g[@class="unit"]/s:text/s:tspan[1]/text()', :'svg'::xml,
                                ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])::text[], ','),
  'PV-101,PV-102,PV-103', '... labelled with its code');
SELECT is((xpath('//s:g[@id="unit-' || (SELECT id FROM leasemgr.unit WHERE code = 'PV-101') || '"]/s:text/s:tspan[2]/text()',
                 :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
  'A&amp;B &lt;Co&gt; "Ltd" 苏州', 'the tenant''s name is the second line, escaped in the document');
SELECT ok(position('A&amp;B &lt;Co&gt; &quot;Ltd&quot; 苏州<' IN :'svg') > 0,
  '... every special character of it, and the characters XML forbids (U+FFFE, BEL) left out');
SELECT is((xpath('count(//s:path[@fill-rule="evenodd"])', :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text, '4',
  'the floor and the units are filled even-odd: a hole (an atrium) stays a hole');
SELECT is((xpath('//s:g[@id="unit-' || (SELECT id FROM leasemgr.unit WHERE code = 'PV-101') || '"]/s:path/@d',
                 :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
  'M 0 0 L 0 -10 10 -10 10 0 Z', 'the unit is drawn to scale, in metres');
SELECT is(array_to_string(xpath('//s:g[@class="unit"]/s:path/@class', :'svg'::xml,
                                ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])::text[], ','),
  'unit green,unit red,unit red', 'in the colour of its status: leased green, the two never leased red');
SELECT is((xpath('//s:g[@id="unit-' || (SELECT id FROM leasemgr.unit WHERE code = 'PV-102') || '"]/s:text/s:tspan[2]/text()',
                 :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
  'never leased', 'a vacant unit says so instead of a tenant');
-- 100 of 450 m2 leased: 22.2%.
SELECT is((xpath('/s:svg/s:title/text()', :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
  'PV Building of PV floor 1 (1F) as of 2026-06-15: 22.2% occupied (100 of 450 m²)', 'the title gives the occupancy: 100 of 450 m2');
SELECT is((xpath('count(//s:g[@class="legend"])', :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text, '3',
  'a legend of the three colours');
SELECT is((xpath('//s:text[@class="note"]/text()', :'svg'::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
  'not drawn on the plan: PV-104', 'a unit of the floor not drawn is named');
SELECT th.refuses(format('SELECT leasemgr.floor_plan_svg(%s, 2)', :b),
  'LM009', 'floor 2 of building B has no floor plan', 'Floors drawn: 1.',
  'Draw it first (leasemgr.floor_plan), or ask for a floor that is drawn.', 'a floor without a plan is refused');

-- GeoJSON: the floor plan (40 m x 10 m, centre 20, 5) is centred on the building's footprint
-- (centre 120.0005 E, 30.00025 N) at true size: a metre is 1 / 110,574 degree of latitude
-- (9.0437e-6) and 1 / (111,320 x cos 30.00025°) = 1 / 96,405.7 degree of longitude (1.03728e-5).
-- PV-101 (x 0..10, y 0..10 m) lies at 120.0005 - 20 x 1.03728e-5 = 120.00029254 ..
-- 120.0005 - 10 x 1.03728e-5 = 120.00039627 E, and 30.00025 -/+ 5 x 9.0437e-6 = 30.00020478 ..
-- 30.00029522 N.
SELECT leasemgr.occupancy_geojson(:p, '2026-06-15') AS gj \gset
SELECT is(:'gj'::jsonb ->> 'type', 'FeatureCollection', 'the park is a GeoJSON FeatureCollection');
SELECT is(jsonb_array_length(:'gj'::jsonb -> 'features'), 4, '... of its four units (one with no geometry: not drawn)');
SELECT ok(ST_HausdorffDistance(ST_SetSRID(ST_GeomFromGeoJSON(f -> 'geometry'), 4326),
                               ST_SetSRID(ST_MakeEnvelope(120.00029254, 30.00020478, 120.00039627, 30.00029522), 4326)) < 2e-7
          AND ST_IsPolygonCCW(ST_GeomFromGeoJSON(f -> 'geometry'))
          AND f -> 'properties' ->> 'status' = 'leased' AND f -> 'properties' ->> 'colour' = 'green',
  'PV-101 lies on its building''s map footprint, counterclockwise (RFC 7946), with its status and colour')
  FROM jsonb_array_elements(:'gj'::jsonb -> 'features') f WHERE f -> 'properties' ->> 'unit_code' = 'PV-101';
SELECT is((SELECT f -> 'geometry' FROM jsonb_array_elements(:'gj'::jsonb -> 'features') f
            WHERE f -> 'properties' ->> 'unit_code' = 'PV-104'), 'null'::jsonb, 'a unit not drawn has a null geometry');

SELECT * FROM finish();
ROLLBACK;
