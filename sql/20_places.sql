-- Places: regions, parks, buildings and the units they rent out.
-- Codes are checked as a character class plus a length: PostgreSQL's regex engine is many
-- times slower on bounded repetitions such as {0,31}, and every UPDATE re-checks.

CREATE TABLE leasemgr.region (
  id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  name text NOT NULL CHECK (pg_catalog.btrim(name) <> '')
);
COMMENT ON TABLE leasemgr.region IS
  'A group of parks run by one regional office (e.g. East China). Approvals escalate to the region.';
COMMENT ON COLUMN leasemgr.region.id IS 'Region identifier.';
COMMENT ON COLUMN leasemgr.region.code IS 'Short unique code, e.g. EAST: letters, digits, dot, dash, underscore.';
COMMENT ON COLUMN leasemgr.region.name IS 'Display name, e.g. 华东区 East China.';

CREATE TABLE leasemgr.park (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region_id bigint NOT NULL REFERENCES leasemgr.region (id),
  code      text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  name      text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  location  geometry(Point, 4326)
);
CREATE INDEX park_region_idx ON leasemgr.park (region_id);
CREATE INDEX park_location_gist ON leasemgr.park USING gist (location);
COMMENT ON TABLE leasemgr.park IS
  'A managed site (园区 / 项目): industrial park, logistics park, office tower, apartment complex. The row-level-security scope: a role sees the parks granted to it.';
COMMENT ON COLUMN leasemgr.park.id IS 'Park identifier; other tables refer to it as park_id.';
COMMENT ON COLUMN leasemgr.park.region_id IS 'The region the park belongs to.';
COMMENT ON COLUMN leasemgr.park.code IS 'Short unique code, e.g. SZ-ZH.';
COMMENT ON COLUMN leasemgr.park.name IS 'Display name, e.g. 苏州智汇园 Suzhou Zhihui Park.';
COMMENT ON COLUMN leasemgr.park.location IS 'Where the park is: a WGS 84 point (longitude, latitude), for maps. Optional.';

CREATE TABLE leasemgr.building (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id   bigint NOT NULL REFERENCES leasemgr.park (id),
  code      text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  name      text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  footprint geometry(Polygon, 4326) CHECK (footprint IS NULL OR ST_IsValid(footprint)),
  UNIQUE (park_id, code),
  UNIQUE (id, park_id)
);
CREATE INDEX building_footprint_gist ON leasemgr.building USING gist (footprint);
COMMENT ON TABLE leasemgr.building IS 'A building of a park (写字楼, 厂房, 仓库, 公寓楼).';
COMMENT ON COLUMN leasemgr.building.id IS 'Building identifier.';
COMMENT ON COLUMN leasemgr.building.park_id IS 'The park the building stands in.';
COMMENT ON COLUMN leasemgr.building.code IS 'Code unique within the park, e.g. A.';
COMMENT ON COLUMN leasemgr.building.name IS 'Display name, e.g. A栋 Building A.';
COMMENT ON COLUMN leasemgr.building.footprint IS 'Outline of the building on the map: a valid WGS 84 polygon. Optional.';

CREATE TABLE leasemgr.unit (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id       bigint NOT NULL,
  building_id   bigint NOT NULL,
  floor         integer NOT NULL CHECK (floor BETWEEN -20 AND 300),
  code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' AND pg_catalog.length(code) <= 32),
  kind          text NOT NULL CHECK (kind IN ('office', 'apartment', 'shop', 'warehouse', 'workshop',
                                              'parking', 'ad_space', 'workstation')),
  area_m2       numeric(12,2) NOT NULL CHECK (area_m2 > 0),
  registry_code text CHECK (registry_code ~ '^[0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8}$'),
  footprint     geometry(Polygon, 0) CHECK (footprint IS NULL OR ST_IsValid(footprint)),
  list_rent     numeric(12,4) CHECK (list_rent >= 0),
  UNIQUE (park_id, building_id, code),
  UNIQUE (park_id, registry_code),
  UNIQUE (id, park_id),
  FOREIGN KEY (building_id, park_id) REFERENCES leasemgr.building (id, park_id)
);
CREATE INDEX unit_building_floor_idx ON leasemgr.unit (building_id, floor);
CREATE INDEX unit_footprint_gist ON leasemgr.unit USING gist (footprint);
COMMENT ON TABLE leasemgr.unit IS
  'Anything rentable (房源 / 单元): a room, floor, warehouse, workshop, workstation, parking space or advertising space.';
COMMENT ON COLUMN leasemgr.unit.id IS 'Unit identifier.';
COMMENT ON COLUMN leasemgr.unit.park_id IS 'The park of the unit; always the park of its building.';
COMMENT ON COLUMN leasemgr.unit.building_id IS 'The building the unit is in.';
COMMENT ON COLUMN leasemgr.unit.floor IS 'Floor number; negative for basements (B1 = -1).';
COMMENT ON COLUMN leasemgr.unit.code IS 'Code unique within the building, e.g. A-0301.';
COMMENT ON COLUMN leasemgr.unit.kind IS 'office, apartment, shop, warehouse, workshop, parking, ad_space or workstation.';
COMMENT ON COLUMN leasemgr.unit.area_m2 IS 'Gross floor area (建筑面积) in square metres, > 0; the default billable area of a lease.';
COMMENT ON COLUMN leasemgr.unit.registry_code IS
  'Real-estate registry unit code (不动产单元号): 28 characters, 12 digits, 2 letters, 5 digits, 1 letter, 8 digits (GB/T 37346-2019). Optional; unique within the park.';
COMMENT ON COLUMN leasemgr.unit.footprint IS
  'The unit on its floor plan, in metres (SRID 0: the building''s own floor-plan frame). A valid polygon. Optional.';
COMMENT ON COLUMN leasemgr.unit.list_rent IS 'Asking rent in CNY per m² per month, 4 decimals. Optional.';
