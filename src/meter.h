/*
 * meter.h
 *     What billing (billing.c) and anomaly detection share of the meter glue (meter.c): the
 *     consumption of a contract's meters of one kind over some days, in thousandths of a unit
 *     with its explanation, and the moments that bound a day in the operator's time zone.
 */
#ifndef LEASEMGR_METER_H
#define LEASEMGR_METER_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/date.h"

/* The consumption of a contract's meters of one kind over days from..to (inclusive). */
typedef struct LmUsage
{
	bool		complete;		/* every meter's every register needed has readings around the days */
	int			nmeters;		/* meters of the kind in service during the days */
	int64		total;			/* thousandths after multipliers: the total registers (flat, tiered) */
	int			nregs;			/* time-of-use registers asked for, and their sums */
	int64	   *reg_qty;
	int			nmissing;		/* meters whose readings do not cover the days */
	int64	   *missing;
	int			negatives;		/* negative steps among the readings used */
	int			nanomalies;		/* open spike, negative or bounds anomalies in the days */
	int			nconfirmed;		/* confirmed ones: the readings were wrong */
	StringInfoData anomalies;	/* "anomaly 17 (spike on E-0301 from 2027-03-04 00:00, open)" */
	StringInfoData explain;		/* one clause per meter register */
} LmUsage;

/* Midnight starting the day d in leasemgr.timezone. */
extern TimestampTz lm_local_midnight(DateADT d);

/* "1,234.500": thousandths of a unit as the explain texts show quantities. */
extern char *lm_qty_text(int64 thousandths);

/*
 * The consumption of contract_id's meters of kind over from..to. tou_regs (ntou of them):
 * sum these registers too (time-of-use); otherwise each meter's total register (or the sum
 * of its registers without one). Inside SPI.
 */
extern void lm_metered_usage(int64 contract_id, const char *kind, DateADT from, DateADT to,
							 int ntou, char **tou_regs, LmUsage *u);

/* The same for one unit's meters of kind (the fallback estimate's floor figures). */
extern void lm_unit_usage(int64 unit_id, const char *kind, DateADT from, DateADT to,
						  int ntou, char **tou_regs, LmUsage *u);

/*
 * The fallback estimate of a contract's consumption of kind over from..to (docs/metering.md), of
 * all its metered units or of those in units (an int8[] Datum; 0: all):
 * the quantities the charge prices (total, or the time-of-use registers) in *est, with the
 * calculation in est->explain. false when there is nothing to estimate from (the reason in
 * est->explain). Inside SPI. (estimate.c)
 */
extern bool lm_estimate_usage(int64 contract_id, Datum units, const char *kind, DateADT from, DateADT to,
							  int ntou, char **tou_regs, LmUsage *est);

#endif							/* LEASEMGR_METER_H */
