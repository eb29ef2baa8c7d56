-- pg_dump leaves the rows of extension tables out unless they are registered here, and a
-- restore without them would lose every lease: every table and its identity sequence.
-- One call per statement: each call rewrites the pg_extension row.
-- test/sql/install.sql fails when a table of the extension is missing from this list.
SELECT pg_catalog.pg_extension_config_dump('leasemgr.region', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.region_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.building', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.building_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.unit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.tenant', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.tenant_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_unit', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_unit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_event', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.contract_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park_grant', '');
SELECT pg_catalog.pg_extension_config_dump('leasemgr.park_grant_id_seq', '');
