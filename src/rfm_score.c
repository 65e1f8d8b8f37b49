/*-------------------------------------------------------------------------
 *
 * rfm_score.c
 *	  RFM tiering (clcm.rfm_score, clcm.rfm_segment, clcm.rfm_tier) and the
 *	  simple CLV formulas (clcm.clv_simple and the clcm.clv_historic
 *	  aggregate).
 *
 * Scores.  An RFM score is the three ranks 1..5 written as the decimal
 * digits r f m (111 .. 555); 5 is best on every axis: most recent, most
 * frequent, highest spend (usually quintiles from ntile(5); doc/clcm.md
 * has the window-function recipe).
 *
 * Segments.  The named segments come from the recency/frequency grid that
 * most RFM tutorials and tools share (Putler's eleven segment names, in the
 * R x F regular-expression map of the common Python recipes); monetary does
 * not enter the segment.  That map's old-and-rare corner (R <= 2, F <= 2)
 * is split into Hibernating (R = 2) and Lost (R = 1):
 *
 *		  F=1          F=2          F=3          F=4       F=5
 *	R=5	  New          Pot.Loyalist Pot.Loyalist Champions Champions
 *	R=4	  Promising    Pot.Loyalist Pot.Loyalist Loyal     Loyal
 *	R=3	  About to Sl. About to Sl. Need Attent. Loyal     Loyal
 *	R=2	  Hibernating  Hibernating  At Risk      At Risk   Cannot Lose Them
 *	R=1	  Lost         Lost         At Risk      At Risk   Cannot Lose Them
 *
 * Tier.  r + f + m ranges over 3..15; high is 11..15, medium 8..10, low
 * 3..7 (for independent uniform ranks: 28 %, 44 %, 28 %).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "clcm.h"
#include "rfm.h"

/* segment names, indexed [r-1][f-1] */
static const char *const rfm_segment_grid[5][5] = {
	/* R=1 */ {"Lost", "Lost", "At Risk", "At Risk", "Cannot Lose Them"},
	/* R=2 */ {"Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"},
	/* R=3 */ {"About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"},
	/* R=4 */ {"Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"},
	/* R=5 */ {"New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"}
};

/*
 * RfmCheckRank raises 22023 unless 1 <= rank <= 5.
 */
static void
RfmCheckRank(int32 rank, const char *what)
{
	if (rank < 1 || rank > 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s rank must be between 1 and 5, not %d", what, rank),
				 errhint("Ranks are quintiles with 5 the best, e.g. ntile(5) OVER (ORDER BY ...).")));
}

/*
 * RfmSplitScore checks an RFM score (three digits, each 1..5) and returns
 * its ranks.
 */
static void
RfmSplitScore(int32 score, int *r, int *f, int *m)
{
	if (score < 111 || score > 555 ||
		score / 100 < 1 || score / 100 > 5 ||
		score / 10 % 10 < 1 || score / 10 % 10 > 5 ||
		score % 10 < 1 || score % 10 > 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid RFM score %d", score),
				 errdetail("An RFM score has three digits, recency, frequency and monetary rank, each between 1 and 5.")));
	*r = score / 100;
	*f = score / 10 % 10;
	*m = score % 10;
}

PG_FUNCTION_INFO_V1(clcm_rfm_score);

/*
 * clcm_rfm_score(recency_rank, frequency_rank, monetary_rank) returns
 * 100 r + 10 f + m.
 */
Datum
clcm_rfm_score(PG_FUNCTION_ARGS)
{
	int32		r = PG_GETARG_INT32(0);
	int32		f = PG_GETARG_INT32(1);
	int32		m = PG_GETARG_INT32(2);

	RfmCheckRank(r, "recency");
	RfmCheckRank(f, "frequency");
	RfmCheckRank(m, "monetary");
	PG_RETURN_INT32(r * 100 + f * 10 + m);
}

PG_FUNCTION_INFO_V1(clcm_rfm_segment);

/*
 * clcm_rfm_segment(score) returns the named segment of the R x F grid.
 */
Datum
clcm_rfm_segment(PG_FUNCTION_ARGS)
{
	int			r,
				f,
				m;

	RfmSplitScore(PG_GETARG_INT32(0), &r, &f, &m);
	PG_RETURN_TEXT_P(cstring_to_text(rfm_segment_grid[r - 1][f - 1]));
}

PG_FUNCTION_INFO_V1(clcm_rfm_tier);

/*
 * clcm_rfm_tier(score) returns 'high' (r+f+m >= 11), 'medium' (8..10) or
 * 'low' (<= 7).
 */
Datum
clcm_rfm_tier(PG_FUNCTION_ARGS)
{
	int			r,
				f,
				m;
	int			sum;

	RfmSplitScore(PG_GETARG_INT32(0), &r, &f, &m);
	sum = r + f + m;
	PG_RETURN_TEXT_P(cstring_to_text(sum >= 11 ? "high" : sum >= 8 ? "medium" : "low"));
}

/*
 * RfmCheckFinite raises 22023 for NaN and infinite arguments.
 */
static void
RfmCheckFinite(double x, const char *what)
{
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be NaN", what)));
	if (isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be infinite", what)));
}

/*
 * RfmCheckRate raises 22023 unless lo <= x <= hi (hi may be infinity).
 */
static void
RfmCheckRate(double x, double lo, double hi, const char *what)
{
	RfmCheckFinite(x, what);
	if (x < lo || x > hi)
	{
		if (isinf(hi))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be greater than or equal to %g, not %g", what, lo, x)));
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be between %g and %g, not %g", what, lo, hi, x)));
	}
}

PG_FUNCTION_INFO_V1(clcm_clv_simple);

/*
 * clcm_clv_simple(margin, retention_rate, discount_rate) = m r / (1 + d - r):
 * the value of a margin m received at the end of every period while the
 * customer stays (with probability r each period), discounted at d per
 * period, the first margin one period from now.
 */
Datum
clcm_clv_simple(PG_FUNCTION_ARGS)
{
	double		m = PG_GETARG_FLOAT8(0);
	double		r = PG_GETARG_FLOAT8(1);
	double		d = PG_GETARG_FLOAT8(2);
	double		denom;
	double		v;

	RfmCheckFinite(m, "margin");
	RfmCheckRate(r, 0.0, 1.0, "retention_rate");
	RfmCheckRate(d, 0.0, INFINITY, "discount_rate");

	denom = (1.0 + d) - r;
	if (denom == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DIVISION_BY_ZERO),
				 errmsg("customer lifetime value is infinite when retention_rate is 1 and discount_rate is 0"),
				 errhint("Use a discount rate greater than zero or a retention rate below 1.")));
	v = m * r / denom;
	if (isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("customer lifetime value is out of range for type double precision")));
	PG_RETURN_FLOAT8(v);
}

/* length of the year used for compounding, in microseconds (365.25 days) */
#define RFM_USECS_PER_YEAR ((double) USECS_PER_DAY * 365.25)

PG_FUNCTION_INFO_V1(clcm_clv_historic_transfn);

/*
 * clcm_clv_historic_transfn(state float8, amount numeric, ts timestamptz,
 * margin_rate float8, discount_rate float8, as_of timestamptz) adds
 * amount * margin_rate * (1 + discount_rate)^years(as_of - ts).
 * Rows with a NULL ts are skipped, rows after as_of ignored; other NULLs
 * are errors.  The state stays NULL until a row counts.
 */
Datum
clcm_clv_historic_transfn(PG_FUNCTION_ARGS)
{
	bool		have_state = !PG_ARGISNULL(0);
	double		state = have_state ? PG_GETARG_FLOAT8(0) : 0.0;
	int128		units;
	double		amount,
				margin,
				disc,
				years,
				v;
	TimestampTz ts,
				as_of;
	int			i;
	static const char *const names[] = {NULL, "amount", NULL, "margin_rate",
	"discount_rate", "as_of"};

	if (PG_ARGISNULL(2))
	{
		if (!have_state)
			PG_RETURN_NULL();
		PG_RETURN_FLOAT8(state);
	}
	for (i = 1; i <= 5; i++)
		if (i != 2 && PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of clcm.clv_historic cannot be NULL", names[i])));

	RfmCheckAmount(RfmNumericToUnits(PG_GETARG_DATUM(1), &units), "amount");
	amount = RfmUnitsToDouble(units);
	ts = PG_GETARG_TIMESTAMPTZ(2);
	RfmCheckTimestamp(ts, "purchase timestamp");
	margin = PG_GETARG_FLOAT8(3);
	RfmCheckRate(margin, 0.0, 1.0, "margin_rate");
	disc = PG_GETARG_FLOAT8(4);
	RfmCheckRate(disc, 0.0, INFINITY, "discount_rate");
	as_of = PG_GETARG_TIMESTAMPTZ(5);
	RfmCheckTimestamp(as_of, "as_of");

	if (ts > as_of)
	{
		/* not yet happened at as_of */
		if (!have_state)
			PG_RETURN_NULL();
		PG_RETURN_FLOAT8(state);
	}
	years = (double) (as_of - ts) / RFM_USECS_PER_YEAR;
	v = amount * margin * exp(years * log1p(disc));
	if (isinf(v) || isinf(state + v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("historic customer lifetime value is out of range for type double precision")));
	PG_RETURN_FLOAT8(state + v);
}
