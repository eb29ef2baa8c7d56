/*
 * billing.h
 *     What the billing engine's two entry points share: a contract's terms as read from the
 *     tables, and the computation of its bill lines (billing.c), used by compute_charges and
 *     by the bill run (bill_run.c).
 */
#ifndef LEASEMGR_BILLING_H
#define LEASEMGR_BILLING_H

#include "executor/spi.h"
#include "utils/date.h"
#include "utils/numeric.h"

#include "lm_schedule.h"

typedef enum LmBasis
{
	LM_BASIS_PER_M2_MONTH,
	LM_BASIS_FIXED_MONTH,
	LM_BASIS_PER_M2_DAY,
	LM_BASIS_TURNOVER_PCT,
	LM_BASIS_METERED
} LmBasis;

typedef enum LmEscalation
{
	LM_ESC_NONE,
	LM_ESC_PCT,
	LM_ESC_AMOUNT,
	LM_ESC_CPI
} LmEscalation;

/* The rate in force at one escalation step: num / den, and how it came about in words. */
typedef struct LmStepRate
{
	Numeric		num;
	Numeric		den;
	Numeric		factor;			/* pct: (1 + p/100)^k */
	char	   *text;			/* e.g. " x 1.05" or " x 105.0000/100.0000 (CN-CPI 2026-12 / 2025-12)" */
	char	   *rate_text;		/* the rate as shown: "85.0000" or "(85.0000 + 2 x 5.0000)" */
} LmStepRate;

typedef struct LmCharge
{
	int64		id;
	char	   *kind;
	int			kind_bit;
	LmBasis		basis;
	Numeric		rate;
	Numeric		breakpoint;
	DateADT		valid_from;
	DateADT		valid_to;
	int			cycle_months;
	bool		arrears;
	int			due_day;
	LmProration proration;
	LmEscalation escalation;
	int			every_months;
	DateADT		anchor;
	Numeric		escalation_pct;
	Numeric		escalation_amount;
	char	   *cpi_series;
	DateADT		cpi_base_month;
	int			cpi_lag_months;
	Numeric		cpi_cap_pct;	/* NULL: no cap */
	Numeric		cpi_floor_pct;	/* NULL: no floor */
	/* metered */
	char	   *meter_kind;
	int			ntiers;			/* tiered: break points and the rate above each */
	Numeric    *tiers;
	Numeric    *tier_rates;
	int			ntou;			/* time-of-use: registers and their rates */
	char	  **tou_registers;
	Numeric    *tou_rates;
	Numeric		area;			/* per-m2 bases: the area it is charged on; NULL: the contract's */
	bool		has_last_billed;
	DateADT		last_billed;	/* bill run: start of the last billed segment */
	/* step rates, computed on first use */
	int			nsteps;
	LmStepRate *steps;
} LmCharge;

typedef struct LmFreeRent
{
	DateADT		lo;
	DateADT		hi;				/* inclusive */
	int			kind_bits;
} LmFreeRent;

typedef struct LmContractTerms
{
	int64		id;
	int64		park_id;
	char	   *code;
	DateADT		start_date;
	DateADT		end_date;
	DateADT		last_day;		/* the end, or the termination date */
	Numeric		area;			/* total billable area, m2 */
	int			ncharges;
	LmCharge   *charges;
	int			nfree;
	LmFreeRent *free;
} LmContractTerms;

/* One line: a charge over one segment of one period. amount NULL: not computable yet. */
typedef struct LmLine
{
	LmCharge   *charge;
	DateADT		start;
	DateADT		end;
	DateADT		bill_month;
	DateADT		due_on;
	Numeric		amount;
	bool		period_held;	/* a segment of its period (this one or another) has no amount */
	bool		estimated;		/* metered, billed at the fallback estimate: trued up later */
	char	   *explain;
	int			nmissing;		/* metered, held: the meters whose readings are missing */
	int64	   *missing;
} LmLine;

/* Columns of a charge row, in the order of LM_CHARGE_COLUMNS. */
#define LM_CHARGE_COLUMNS \
	"ch.id, ch.kind, ch.basis, ch.rate, ch.breakpoint, ch.valid_from, ch.valid_to, ch.cycle_months, " \
	"ch.billed, ch.due_day, ch.proration, ch.escalation, ch.escalate_every_months, " \
	"ch.escalation_anchor, ch.escalation_pct, ch.escalation_amount, ch.cpi_series, " \
	"ch.cpi_base_month, ch.cpi_lag_months, ch.cpi_cap_pct, ch.cpi_floor_pct, " \
	"ch.meter_kind, ch.tiers, ch.tier_rates, ch.tou_registers, ch.tou_rates, ch.area_m2"
#define LM_CHARGE_NCOLUMNS 27

/* Columns of a contract row, in the order of LM_CONTRACT_COLUMNS. */
#define LM_CONTRACT_COLUMNS \
	"c.id, c.park_id, c.code, c.start_date, c.end_date, " \
	"pg_catalog.upper(c.lease_range) OPERATOR(pg_catalog.-) 1, " \
	"COALESCE((SELECT pg_catalog.sum(cu.billable_area_m2) FROM leasemgr.contract_unit cu " \
	"          WHERE cu.contract_id OPERATOR(pg_catalog.=) c.id), 0)"
#define LM_CONTRACT_NCOLUMNS 7

/*
 * Read a contract (columns first .. first + 6) and a charge (first .. first + 26) from a row
 * deformed once (lm_row_init): reading a wide row column by column with SPI_getbinval walks
 * it from its first column again past every NULL or text, and SPI_getvalue looks up the
 * type's output function on every call.
 */
extern void lm_read_contract(LmContractTerms *c, const LmRow *row, int first);
extern void lm_read_charge(LmCharge *ch, const LmRow *row, int first);
/* A free-rent row: lo, hi (inclusive), kinds text[]. */
extern void lm_read_free_rent(LmFreeRent *f, const LmRow *row, int first);

/*
 * The lines of one charge whose periods satisfy the caller: from_period is the first period
 * index, and the walk stops after the period for which stop() says so or at the end.
 * emit is called for every segment. Runs inside SPI (reads price indexes, turnover).
 */
typedef bool (*LmPeriodFilter) (void *arg, const LmPeriod *p);
/* Returns false to stop the walk of this charge (e.g. a turnover month not reported yet). */
typedef bool (*LmLineSink) (void *arg, LmContractTerms *c, const LmLine *line);

/* One contract's terms with its charges and free rent; false when it is not visible. In SPI. */
extern bool lm_load_contract(int64 contract_id, LmContractTerms *c);

/*
 * The real figure of an estimated metered line's days, for its true-up: false while the
 * readings still cannot be billed as they are (missing, a negative step, an open anomaly) or
 * never will be (a confirmed anomaly: the estimate is final). Inside SPI.
 */
extern bool lm_metered_true_up(LmContractTerms *c, LmCharge *ch, DateADT start, DateADT end,
							   Numeric *amount, char **explain);

/* Wait for the park's bill run in progress, and keep the next one waiting (bill_run.c). */
extern bool lm_lock_bill_runs(int64 park_id);

/* The value of a price index series for a month (its first day), or NULL. Inside SPI. */
extern Numeric lm_price_index(const char *series, DateADT month);

extern void lm_charge_schedule(LmContractTerms *c, LmCharge *ch, LmChargeSchedule *s);
extern void lm_charge_lines(LmContractTerms *c, LmCharge *ch, LmChargeSchedule *s, int from_period,
							LmPeriodFilter keep_going, LmLineSink emit, void *arg);

#endif							/* LEASEMGR_BILLING_H */
