-- leasemgr install script, assembled by the Makefile from sql/NN_*.sql in numeric order.
-- Everything is schema-qualified: the script runs with the installer's search_path.
\echo Use "CREATE EXTENSION leasemgr CASCADE" to load this file. \quit

COMMENT ON SCHEMA leasemgr IS
  'leasemgr: the lease lifecycle of a rental-asset operator (parks, buildings, units, tenants, contracts). Tables are readable for BI under row-level security; functions that move state are the API; triggers apply the same rules to every writer.';
