-- What every domain uses: the acting person and the business day.

CREATE FUNCTION leasemgr.current_actor() RETURNS text
  AS 'MODULE_PATHNAME', 'current_actor'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.current_actor() IS
  'The person acting: the leasemgr.actor setting when set, else the session user. What the audit trail and the four-eyes rule record.';

CREATE FUNCTION leasemgr.business_date() RETURNS date
  AS 'MODULE_PATHNAME', 'business_date'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leasemgr.business_date() IS
  'Today in the operator''s time zone (the leasemgr.timezone setting, default Asia/Shanghai), at the start of the transaction. The date the guards use (activation, expiry), whatever the session''s TimeZone.';
