-- Tenants and the national identity checks that guard their entry.

CREATE FUNCTION leasemgr.valid_uscc(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'valid_uscc'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.valid_uscc(text) IS
  'True when the text is a unified social credit code (统一社会信用代码) with a correct GB 32100-2015 check character. Case-insensitive; false, never an error, for anything else.';

CREATE FUNCTION leasemgr.valid_cn_id(text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'valid_cn_id'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.valid_cn_id(text) IS
  'True when the text is an 18-character resident identity number (公民身份号码) with a real birth date (1900 on) and a correct GB 11643-1999 (ISO 7064 MOD 11-2) check character. The final X is case-insensitive.';

CREATE TABLE leasemgr.tenant (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  park_id   bigint NOT NULL REFERENCES leasemgr.park (id),
  kind      text NOT NULL CHECK (kind IN ('company', 'person')),
  name      text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
  id_type   text NOT NULL CHECK (id_type IN ('uscc', 'cn_id', 'passport', 'hk_macau_permit',
                                             'taiwan_permit', 'foreign_permanent_residence', 'other')),
  id_number text NOT NULL CHECK (pg_catalog.btrim(id_number) <> ''),
  phone     text CHECK (phone ~ '^\+?[0-9][0-9 ()-]{4,24}$'),
  CONSTRAINT tenant_company_uses_uscc CHECK ((kind = 'company') = (id_type = 'uscc')),
  CONSTRAINT tenant_uscc_valid CHECK (id_type <> 'uscc' OR leasemgr.valid_uscc(id_number)),
  CONSTRAINT tenant_cn_id_valid CHECK (id_type <> 'cn_id' OR leasemgr.valid_cn_id(id_number)),
  UNIQUE (park_id, id_type, id_number),
  UNIQUE (id, park_id)
);
COMMENT ON TABLE leasemgr.tenant IS
  'A company or person renting units in one park. Identity numbers are checked at entry (USCC for companies, resident identity number for Chinese citizens).';
COMMENT ON COLUMN leasemgr.tenant.id IS 'Tenant identifier.';
COMMENT ON COLUMN leasemgr.tenant.park_id IS 'The park whose tenant this is; a tenant of several parks has one record in each.';
COMMENT ON COLUMN leasemgr.tenant.kind IS 'company or person.';
COMMENT ON COLUMN leasemgr.tenant.name IS 'Registered company name or the person''s name as on the identity document.';
COMMENT ON COLUMN leasemgr.tenant.id_type IS
  'Identity document: uscc (companies, required), or for persons cn_id, passport, hk_macau_permit, taiwan_permit, foreign_permanent_residence, other.';
COMMENT ON COLUMN leasemgr.tenant.id_number IS
  'The document number. uscc and cn_id are validated (check character, birth date) and stored upper-case without spaces; other types are stored as given. Unique per park and type.';
COMMENT ON COLUMN leasemgr.tenant.phone IS 'Contact phone: digits, optionally a leading +, spaces, dashes, parentheses.';

CREATE FUNCTION leasemgr.tenant_before_write() RETURNS trigger
  AS 'MODULE_PATHNAME', 'tenant_before_write'
  LANGUAGE C;
COMMENT ON FUNCTION leasemgr.tenant_before_write() IS
  'Trigger: normalises and validates tenant identity numbers with a precise error (SQLSTATE LM008); keeps tenants in their park.';

CREATE TRIGGER tenant_before_write
  BEFORE INSERT OR UPDATE ON leasemgr.tenant
  FOR EACH ROW EXECUTE FUNCTION leasemgr.tenant_before_write();
