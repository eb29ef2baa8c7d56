-- Billing reports for BI: the rent roll, receivables aging and the straight-line schedule.
-- Stable names and a comment on every column; each view is a function of a date (as_of)
-- taken at leasemgr.business_date(), so a report can be rerun for any past day. Everything
-- runs with the reader's rights: row-level security shows each reader their own parks.
-- Operators are schema-qualified (a planted operator on the installer's path must not bind).
-- Money is never rounded here: the C functions round with lm_money_round (src/money.c),
-- the one rounding function, and SQL only adds amounts that are already in cents.

-- The fixed rent of one contract on one day, per unit (C, src/billing.c).
CREATE FUNCTION leasemgr.rent_in_force(contract_id bigint, as_of date)
  RETURNS TABLE (unit_id bigint, billable_area_m2 numeric, monthly_rent numeric, rent_per_m2 numeric,
                 next_escalation_on date)
  AS 'MODULE_PATHNAME', 'rent_in_force'
  LANGUAGE C STABLE STRICT
  ROWS 4;
COMMENT ON FUNCTION leasemgr.rent_in_force(bigint, date) IS
  'The contractual fixed rent of a contract in force on as_of, one row per unit the contract holds that day (contract_unit.held_range; none outside the lease): the monthly amount of its rent-kind charges in force that day (per_m2_month: escalated rate x billable area; fixed_month: escalated rate; per_m2_day: escalated rate x area x the days of as_of''s month; turnover rent is variable and left out), escalation steps included, exactly, then split across the units by billable area with cumulative rounding in unit id order (the shares add up to the contract''s monthly rent to the cent). Free rent is not deducted. rent_per_m2 is that monthly amount / the contract''s billable area. NULL amounts: no fixed rent charge in force that day, or a CPI step in force whose index month is not loaded yet (the rent is not known). next_escalation_on: the first escalation step of a rent charge after as_of, within the charge''s days.';

-- The rent roll.

CREATE FUNCTION leasemgr.rent_roll_as_of(as_of date)
  RETURNS TABLE (park_id bigint, park_code text, building_id bigint, building_code text,
                 unit_id bigint, unit_code text, tenant_id bigint, tenant_name text,
                 contract_id bigint, contract_code text, state text, billable_area_m2 numeric,
                 monthly_rent numeric, rent_per_m2 numeric, start_date date, rent_start_date date,
                 end_date date, next_escalation_on date, deposit_amount numeric, balance_due numeric)
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  -- The contracts in force that day, with what is per contract computed once per contract.
  WITH k AS MATERIALIZED (
    SELECT c.id, c.park_id, c.code, c.tenant_id, c.state, c.start_date,
           COALESCE(c.terminated_on, c.end_date) AS end_date, c.deposit_amount,
           leasemgr.rent_start_date(c.id) AS rent_start_date,
           COALESCE((SELECT pg_catalog.sum(b.amount OPERATOR(pg_catalog.-) b.paid) FROM leasemgr.bill b
                      WHERE b.contract_id OPERATOR(pg_catalog.=) c.id AND b.voided_at IS NULL
                        AND b.issued_on OPERATOR(pg_catalog.<=) rent_roll_as_of.as_of), 0.00) AS balance_due
      FROM leasemgr.contract c
     WHERE c.state OPERATOR(pg_catalog.=) ANY ('{active,amending,expired,terminated,moving_out}'::text[])
       AND c.lease_range OPERATOR(pg_catalog.@>) rent_roll_as_of.as_of
  )
  SELECT k.park_id, p.code, bd.id, bd.code, u.id, u.code, t.id, t.name,
         k.id, k.code, k.state, r.billable_area_m2, r.monthly_rent, r.rent_per_m2,
         k.start_date, k.rent_start_date, k.end_date, r.next_escalation_on,
         k.deposit_amount, k.balance_due
    FROM k
    JOIN leasemgr.park p ON p.id OPERATOR(pg_catalog.=) k.park_id
    JOIN leasemgr.tenant t ON t.id OPERATOR(pg_catalog.=) k.tenant_id
    -- one call per contract, one row per unit
    CROSS JOIN LATERAL leasemgr.rent_in_force(k.id, rent_roll_as_of.as_of) r
    JOIN leasemgr.unit u ON u.id OPERATOR(pg_catalog.=) r.unit_id
    JOIN leasemgr.building bd ON bd.id OPERATOR(pg_catalog.=) u.building_id
   ORDER BY p.code, bd.code, u.code, k.code;
END;
COMMENT ON FUNCTION leasemgr.rent_roll_as_of(date) IS
  'The rent roll (租金清单) as of a day: one row per unit of every contract in force that day (active, amending, expired, terminated or moving out, with the day inside its lease; signed contracts that start later are not in force), with its tenant, area, current rent, key dates, deposit and balance. The columns are those of the view leasemgr.rent_roll, which is this function at leasemgr.business_date().';

CREATE VIEW leasemgr.rent_roll WITH (security_invoker = true) AS
SELECT * FROM leasemgr.rent_roll_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.rent_roll IS
  'The rent roll (租金清单) today (leasemgr.business_date()): one row per unit of every contract in force, with tenant, area, current monthly rent and rent per m² (escalation included, free rent not deducted), lease and rent start dates, the next escalation, deposit and balance due. leasemgr.rent_roll_as_of(date) gives any other day. Shows only the parks the reader is granted.';
COMMENT ON COLUMN leasemgr.rent_roll.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.rent_roll.park_code IS 'Park code.';
COMMENT ON COLUMN leasemgr.rent_roll.building_id IS 'Building identifier of the unit.';
COMMENT ON COLUMN leasemgr.rent_roll.building_code IS 'Building code of the unit, e.g. A.';
COMMENT ON COLUMN leasemgr.rent_roll.unit_id IS 'Unit identifier.';
COMMENT ON COLUMN leasemgr.rent_roll.unit_code IS 'Unit code.';
COMMENT ON COLUMN leasemgr.rent_roll.tenant_id IS 'Tenant identifier.';
COMMENT ON COLUMN leasemgr.rent_roll.tenant_name IS 'Tenant name.';
COMMENT ON COLUMN leasemgr.rent_roll.contract_id IS 'Contract identifier.';
COMMENT ON COLUMN leasemgr.rent_roll.contract_code IS 'Contract number.';
COMMENT ON COLUMN leasemgr.rent_roll.state IS 'Contract state: active, amending, expired, terminated or moving_out.';
COMMENT ON COLUMN leasemgr.rent_roll.billable_area_m2 IS 'Billable area of this unit in the contract, m².';
COMMENT ON COLUMN leasemgr.rent_roll.monthly_rent IS
  'Current monthly rent of this unit, CNY: the contract''s fixed rent in force that day for one full month (rent-kind charges; per_m2_month rate x area, fixed_month rate, per_m2_day rate x area x days of the month; the escalation step in force included; free rent not deducted; turnover rent left out), split across the contract''s units in proportion to billable area. Each unit''s share is rounded once to the cent, cumulatively in unit id order, so the units of a contract add up to its monthly rent exactly. NULL: no fixed rent charge in force that day.';
COMMENT ON COLUMN leasemgr.rent_roll.rent_per_m2 IS
  'Current rent per m² per month, CNY: the contract''s monthly fixed rent (as in monthly_rent, before the split) / its total billable area, rounded once to the cent; the same for every unit of the contract. For a per_m2_month rent it is the escalated rate.';
COMMENT ON COLUMN leasemgr.rent_roll.start_date IS 'First day of the lease, inclusive.';
COMMENT ON COLUMN leasemgr.rent_roll.rent_start_date IS 'Rent start date (计租起始日): the first day rent is charged, i.e. the day after the free-rent period (leasemgr.rent_start_date). NULL without a rent charge.';
COMMENT ON COLUMN leasemgr.rent_roll.end_date IS 'Last day of the lease, inclusive: the termination date of a lease ended early, else the end date.';
COMMENT ON COLUMN leasemgr.rent_roll.next_escalation_on IS
  'The next rent change by escalation: the first step after that day of a rent charge (escalation_anchor + k x escalate_every_months) that falls within the charge''s days. NULL when no step is left.';
COMMENT ON COLUMN leasemgr.rent_roll.deposit_amount IS
  'The contractual deposit (押金), CNY, from leasemgr.contract.deposit_amount; per contract, repeated on each of its unit rows (count it once per contract_id). What was received and refunded is the deposit ledger of a later issue.';
COMMENT ON COLUMN leasemgr.rent_roll.balance_due IS
  'Per contract, repeated on each of its unit rows (count it once per contract_id): the sum over its bills that are not void and were issued by that day of amount - paid, CNY, payments as recorded now. Negative: credit.';

-- Receivables aging.

CREATE FUNCTION leasemgr.receivables_aging_as_of(as_of date)
  RETURNS TABLE (park_id bigint, park_code text, contract_id bigint, contract_code text,
                 tenant_id bigint, tenant_name text, current numeric, days_1_30 numeric,
                 days_31_60 numeric, days_61_90 numeric, days_over_90 numeric, total numeric)
  LANGUAGE sql STABLE STRICT
BEGIN ATOMIC
  SELECT c.park_id, p.code, c.id, c.code, t.id, t.name,
         COALESCE(pg_catalog.sum(o.unpaid) FILTER (WHERE o.days_late OPERATOR(pg_catalog.<=) 0), 0.00),
         COALESCE(pg_catalog.sum(o.unpaid) FILTER (WHERE o.days_late OPERATOR(pg_catalog.>=) 1
                                                    AND o.days_late OPERATOR(pg_catalog.<=) 30), 0.00),
         COALESCE(pg_catalog.sum(o.unpaid) FILTER (WHERE o.days_late OPERATOR(pg_catalog.>=) 31
                                                    AND o.days_late OPERATOR(pg_catalog.<=) 60), 0.00),
         COALESCE(pg_catalog.sum(o.unpaid) FILTER (WHERE o.days_late OPERATOR(pg_catalog.>=) 61
                                                    AND o.days_late OPERATOR(pg_catalog.<=) 90), 0.00),
         COALESCE(pg_catalog.sum(o.unpaid) FILTER (WHERE o.days_late OPERATOR(pg_catalog.>) 90), 0.00),
         pg_catalog.sum(o.unpaid)
    FROM (SELECT b.contract_id, b.amount OPERATOR(pg_catalog.-) b.paid AS unpaid,
                 receivables_aging_as_of.as_of OPERATOR(pg_catalog.-) b.due_on AS days_late
            FROM leasemgr.bill b
           -- the predicate of the partial index bill_unpaid_idx
           WHERE b.paid OPERATOR(pg_catalog.<) b.amount AND b.voided_at IS NULL
             AND b.issued_on OPERATOR(pg_catalog.<=) receivables_aging_as_of.as_of) o
    JOIN leasemgr.contract c ON c.id OPERATOR(pg_catalog.=) o.contract_id
    JOIN leasemgr.park p ON p.id OPERATOR(pg_catalog.=) c.park_id
    JOIN leasemgr.tenant t ON t.id OPERATOR(pg_catalog.=) c.tenant_id
   GROUP BY c.park_id, p.code, c.id, c.code, t.id, t.name
   ORDER BY p.code, c.code;
END;
COMMENT ON FUNCTION leasemgr.receivables_aging_as_of(date) IS
  'Receivables aging (应收账龄) as of a day: per contract with unpaid bills, the unpaid amount (amount - paid > 0) of its bills that are not void and were issued by that day, bucketed by days past due (that day - due_on). The columns are those of the view leasemgr.receivables_aging, which is this function at leasemgr.business_date().';

CREATE VIEW leasemgr.receivables_aging WITH (security_invoker = true) AS
SELECT * FROM leasemgr.receivables_aging_as_of(leasemgr.business_date());
COMMENT ON VIEW leasemgr.receivables_aging IS
  'Receivables aging (应收账龄) today (leasemgr.business_date()): per contract with unpaid bills, the unpaid amount of its bills that are not void, by days past the due date: current (not yet due), 1-30, 31-60, 61-90, over 90 days, and the total. Payments as recorded now. leasemgr.receivables_aging_as_of(date) gives any other day. Shows only the parks the reader is granted.';
COMMENT ON COLUMN leasemgr.receivables_aging.park_id IS 'Park identifier.';
COMMENT ON COLUMN leasemgr.receivables_aging.park_code IS 'Park code.';
COMMENT ON COLUMN leasemgr.receivables_aging.contract_id IS 'Contract identifier.';
COMMENT ON COLUMN leasemgr.receivables_aging.contract_code IS 'Contract number.';
COMMENT ON COLUMN leasemgr.receivables_aging.tenant_id IS 'Tenant identifier.';
COMMENT ON COLUMN leasemgr.receivables_aging.tenant_name IS 'Tenant name.';
COMMENT ON COLUMN leasemgr.receivables_aging.current IS 'Unpaid, not yet overdue, CNY: bills due that day or later (days past due <= 0).';
COMMENT ON COLUMN leasemgr.receivables_aging.days_1_30 IS 'Unpaid, 1 to 30 days past due (due_on from that day - 30 to that day - 1), CNY.';
COMMENT ON COLUMN leasemgr.receivables_aging.days_31_60 IS 'Unpaid, 31 to 60 days past due, CNY.';
COMMENT ON COLUMN leasemgr.receivables_aging.days_61_90 IS 'Unpaid, 61 to 90 days past due, CNY.';
COMMENT ON COLUMN leasemgr.receivables_aging.days_over_90 IS 'Unpaid, 91 days or more past due, CNY.';
COMMENT ON COLUMN leasemgr.receivables_aging.total IS 'All unpaid, CNY: the sum of the five buckets.';

-- Straight-line rental income (C, src/straight_line.c).

CREATE FUNCTION leasemgr.straight_line_schedule(contract_id bigint)
  RETURNS TABLE (month date, billed numeric, straight_line numeric, deferred_balance numeric)
  AS 'MODULE_PATHNAME', 'straight_line_schedule'
  LANGUAGE C STABLE STRICT
  ROWS 60;
COMMENT ON FUNCTION leasemgr.straight_line_schedule(bigint) IS
  'Straight-line rental income of an operating lease (IFRS 16 / ASC 842, lessor), one row per calendar month of the lease (start_date to the termination date or end_date). billed: the fixed rent as leasemgr.compute_charges computes it (rent-kind charges with basis per_m2_month, fixed_month or per_m2_day and escalation none, pct or amount; CPI-indexed and turnover rent are variable payments and left out), each line in the month its period starts (a quarterly line in the quarter''s first month). straight_line: the total spread evenly over the days of the lease, total x lease days in the month / lease days, rounded cumulatively (the cumulative amount rounded once to the cent at each month end with the one rounding function, months taken as differences), so the months add up to the total exactly. deferred_balance: cumulative straight_line - cumulative billed (accrued rent receivable when positive); 0.00 in the last month.';

REVOKE ALL ON FUNCTION leasemgr.rent_in_force(bigint, date), leasemgr.rent_roll_as_of(date),
  leasemgr.receivables_aging_as_of(date), leasemgr.straight_line_schedule(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leasemgr.rent_in_force(bigint, date), leasemgr.rent_roll_as_of(date),
  leasemgr.receivables_aging_as_of(date), leasemgr.straight_line_schedule(bigint) TO leasemgr_reader;
GRANT SELECT ON leasemgr.rent_roll, leasemgr.receivables_aging TO leasemgr_reader;
