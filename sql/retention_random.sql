-- retention_random: on random data (fixed seed) every cell of the clcm
-- matrices equals a hand-written SQL cohort query, for all periods, both
-- modes, first-activity and recurring cohorts, head counts and revenue.
SET DateStyle = 'ISO, YMD';
SELECT setseed(0.31);
CREATE TABLE rnd_tx AS
SELECT (random() * 100)::bigint AS id,
       timestamptz '2023-01-01 00:00+00' + random() * interval '500 days' AS ts,
       round((random() * 50)::numeric, 2)::float8 AS amt
  FROM generate_series(1, 2000);
CREATE TABLE rnd_units (u text);
INSERT INTO rnd_units VALUES ('day'), ('week'), ('month'), ('quarter'), ('year');

-- period index of a UTC timestamp, the way the SQL user would write it
CREATE FUNCTION rnd_pidx(u text, t timestamp) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE u
    WHEN 'day' THEN t::date - date '2000-01-01'
    WHEN 'week' THEN (date_trunc('week', t)::date - date '2000-01-03') / 7
    WHEN 'month' THEN (extract(year FROM t)::int - 2000) * 12 + extract(month FROM t)::int - 1
    WHEN 'quarter' THEN (extract(year FROM t)::int - 2000) * 4 + (extract(month FROM t)::int - 1) / 3
    ELSE extract(year FROM t)::int - 2000 END $$;

-- plain SQL: per unit, customer and active period
CREATE TABLE rnd_act AS
SELECT u, id, rnd_pidx(u, ts AT TIME ZONE 'UTC') AS p,
       min(date_trunc(u, ts AT TIME ZONE 'UTC')::date) AS pdate, sum(amt) AS rev
  FROM rnd_tx, rnd_units GROUP BY 1, 2, 3;
CREATE TABLE rnd_last AS
SELECT u, max(rnd_pidx(u, ts AT TIME ZONE 'UTC')) AS lastp FROM rnd_tx, rnd_units GROUP BY u;
-- first-activity cohorts and recurring cohorts (every active period)
CREATE TABLE rnd_coh AS
SELECT false AS recurring, u, id, min(p) AS c, max(p) AS l FROM rnd_act GROUP BY u, id
UNION ALL
SELECT true, a.u, a.id, a.p, f.l FROM rnd_act a
  JOIN (SELECT u, id, max(p) AS l FROM rnd_act GROUP BY u, id) f USING (u, id);
-- expected cells: cohort, offset, size, classic count, unbounded count,
-- classic revenue, unbounded revenue, for every offset up to the last period
CREATE TABLE rnd_classic AS
SELECT h.recurring, h.u, h.c, a.p - h.c AS k, count(*) AS classic, sum(a.rev) AS rev_classic
  FROM rnd_coh h JOIN rnd_act a ON a.u = h.u AND a.id = h.id AND a.p >= h.c
 GROUP BY 1, 2, 3, 4;
CREATE TABLE rnd_unb AS
SELECT recurring, u, c, off AS k, count(*) AS unbounded
  FROM rnd_coh h, generate_series(0, h.l - h.c) AS off GROUP BY 1, 2, 3, 4;
CREATE TABLE rnd_suffix AS
SELECT recurring, u, c, k,
       sum(rev_classic) OVER (PARTITION BY recurring, u, c ORDER BY k DESC) AS rev_suffix
  FROM rnd_classic;
CREATE INDEX ON rnd_suffix (recurring, u, c, k);
CREATE TABLE rnd_pd AS SELECT DISTINCT u, p, pdate FROM rnd_act;
ANALYZE rnd_classic, rnd_unb, rnd_suffix, rnd_pd;
CREATE TABLE rnd_expect AS
SELECT g.recurring, g.u, g.c, g.k, pd.pdate AS cohort, g.size,
       coalesce(cl.classic, 0) AS classic, coalesce(ub.unbounded, 0) AS unbounded,
       coalesce(cl.rev_classic, 0) AS rev_classic,
       coalesce((SELECT x.rev_suffix FROM rnd_suffix x WHERE x.recurring = g.recurring
                   AND x.u = g.u AND x.c = g.c AND x.k >= g.k ORDER BY x.k LIMIT 1), 0) AS rev_unbounded
  FROM (SELECT k.recurring, k.u, k.c, off AS k, k.size
          FROM (SELECT recurring, u, c, count(*) AS size FROM rnd_coh GROUP BY 1, 2, 3) k
          JOIN rnd_last USING (u), generate_series(0, lastp - k.c) AS off
         WHERE k.u <> 'day' OR off % 37 = 0 OR off < 3 OR off = lastp - k.c) g	-- sample day offsets
  JOIN rnd_pd pd ON pd.u = g.u AND pd.p = g.c
  LEFT JOIN rnd_classic cl ON cl.recurring = g.recurring AND cl.u = g.u AND cl.c = g.c AND cl.k = g.k
  LEFT JOIN rnd_unb ub ON ub.recurring = g.recurring AND ub.u = g.u AND ub.c = g.c AND ub.k = g.k;

-- clcm, for each unit, variant and mode
CREATE TABLE rnd_m AS
SELECT recurring, u,
       (SELECT clcm.revenue_retention(id, ts, amt, u, clcm.retention_options(recurring => recurring))
          FROM rnd_tx) AS m
  FROM rnd_units, (VALUES (false), (true)) AS f(recurring);
CREATE TABLE rnd_t AS
SELECT v.recurring, v.u, false AS unb, r.* FROM rnd_m v, clcm.retention_table(v.m) r
UNION ALL
SELECT v.recurring, v.u, true, r.* FROM rnd_m v, clcm.retention_table(v.m, 'unbounded') r;
CREATE TABLE rnd_rt AS
SELECT v.recurring, v.u, false AS unb, r.* FROM rnd_m v, clcm.retention_revenue_table(v.m) r
UNION ALL
SELECT v.recurring, v.u, true, r.* FROM rnd_m v, clcm.retention_revenue_table(v.m, 'unbounded') r;
ANALYZE rnd_t, rnd_rt;
CREATE TABLE rnd_got AS
SELECT c.recurring, c.u, c.cohort, c.period AS k, c.cohort_size,
       c.active AS classic, b.active AS unbounded, rc.revenue AS rev_classic,
       rb.revenue AS rev_unbounded
  FROM rnd_t c
  JOIN rnd_t b ON b.unb AND b.recurring = c.recurring AND b.u = c.u AND b.cohort = c.cohort AND b.period = c.period
  JOIN rnd_rt rc ON NOT rc.unb AND rc.recurring = c.recurring AND rc.u = c.u AND rc.cohort = c.cohort AND rc.period = c.period
  JOIN rnd_rt rb ON rb.unb AND rb.recurring = c.recurring AND rb.u = c.u AND rb.cohort = c.cohort AND rb.period = c.period
 WHERE NOT c.unb;
ANALYZE rnd_got, rnd_expect;

-- cells compared per unit and variant; no mismatch; the only NULL cells
-- are those of the last period (it contains the latest event)
SELECT e.recurring, e.u,
       count(*) AS cells,
       count(*) FILTER (WHERE g.cohort IS NULL) AS missing,
       count(*) FILTER (WHERE g.cohort_size <> e.size) AS size_wrong,
       count(*) FILTER (WHERE e.c + e.k < l.lastp AND (g.classic IS DISTINCT FROM e.classic
                              OR g.unbounded IS DISTINCT FROM e.unbounded)) AS count_wrong,
       count(*) FILTER (WHERE e.c + e.k < l.lastp AND (abs(g.rev_classic - e.rev_classic) > 1e-6
                              OR abs(g.rev_unbounded - e.rev_unbounded) > 1e-6
                              OR g.rev_classic IS NULL)) AS revenue_wrong,
       count(*) FILTER (WHERE (e.c + e.k = l.lastp) <> (g.classic IS NULL)) AS null_wrong,
       count(*) FILTER (WHERE e.classic > 0 AND e.k > 0) > 0 AS has_retained
  FROM rnd_expect e JOIN rnd_last l USING (u)
  LEFT JOIN rnd_got g ON g.recurring = e.recurring AND g.u = e.u AND g.cohort = e.cohort AND g.k = e.k
 GROUP BY 1, 2 ORDER BY 1, array_position(ARRAY['day','week','month','quarter','year'], e.u);
-- and clcm has no cohort the SQL query lacks
SELECT g.recurring, g.u, count(*) AS extra_rows
  FROM rnd_got g
 WHERE NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT recurring, u, c FROM rnd_coh) h
                     JOIN rnd_pd pd ON pd.u = h.u AND pd.p = h.c
                    WHERE h.u = g.u AND h.recurring = g.recurring AND pd.pdate = g.cohort)
 GROUP BY 1, 2 ORDER BY 1, 2;
-- rows per matrix: one per non-empty cohort and offset up to the last period
SELECT g.recurring, g.u, count(*) = (SELECT sum(l.lastp - k.c + 1) FROM
          (SELECT DISTINCT recurring, u, c FROM rnd_coh) k JOIN rnd_last l USING (u)
          WHERE k.recurring = g.recurring AND k.u = g.u) AS row_count_right
  FROM rnd_got g GROUP BY 1, 2 ORDER BY 1, array_position(ARRAY['day','week','month','quarter','year'], g.u);

-- the two-level form and merged partial matrices equal the one-call
-- matrix: head counts exactly (text form), revenue to 1e-9 relative (the
-- float8 sums are added in a different order)
SELECT u, recurring,
       (SELECT clcm.retention(a)::text FROM (SELECT clcm.retention_activity(ts, u,
            clcm.retention_options(recurring => recurring)) a FROM rnd_tx GROUP BY id) s)
     = (SELECT clcm.retention(id, ts, u, clcm.retention_options(recurring => recurring))::text
          FROM rnd_tx) AS two_level_same,
       (SELECT clcm.retention_merge(m)::text FROM (SELECT clcm.retention(id, ts, u,
            clcm.retention_options(recurring => recurring)) m FROM rnd_tx GROUP BY id % 5) s)
     = (SELECT clcm.retention(id, ts, u, clcm.retention_options(recurring => recurring))::text
          FROM rnd_tx) AS merge_same,
       (SELECT count(*) FROM clcm.retention_revenue_table((SELECT clcm.retention(a) FROM (
            SELECT clcm.revenue_activity(ts, amt, u, clcm.retention_options(recurring => recurring)) a
              FROM rnd_tx GROUP BY id) s)) x
          FULL JOIN clcm.retention_revenue_table((SELECT m FROM rnd_m WHERE rnd_m.u = rnd_units.u
                                                    AND rnd_m.recurring = f.recurring)) y
            USING (cohort, period)
         WHERE x.cohort_size IS DISTINCT FROM y.cohort_size
            OR abs(x.revenue - y.revenue) > 1e-9 * abs(y.revenue)
            OR (x.revenue IS NULL) <> (y.revenue IS NULL)) AS revenue_cells_differing
  FROM rnd_units, (VALUES (false), (true)) AS f(recurring)
 ORDER BY recurring, array_position(ARRAY['day','week','month','quarter','year'], u);
DROP TABLE rnd_tx, rnd_units, rnd_act, rnd_last, rnd_coh, rnd_classic, rnd_unb, rnd_suffix, rnd_pd, rnd_expect, rnd_m, rnd_t, rnd_rt, rnd_got;
DROP FUNCTION rnd_pidx(text, timestamp);
