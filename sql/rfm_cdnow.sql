-- rfm_cdnow: the raw CDNOW sample (2,357 customers, 6,919 rows), summarised
-- with observation end 1997-09-30 in weeks, reproduces the published
-- calibration summary (cdnow_summary.csv: ID,frequency,recency,T rounded
-- to 2 decimals) and the mean repeat-purchase spend zbar (cdnow_zbar.csv).
SET TimeZone = 'America/New_York';
CREATE TABLE cdnow_tx (master_id int, id int, date date, cds int, dollars numeric);
\copy cdnow_tx FROM 'test/data/cdnow_sample.txt' CSV HEADER
CREATE TABLE cdnow_summary (id int PRIMARY KEY, frequency int, recency numeric, t numeric);
\copy cdnow_summary FROM 'test/data/cdnow_summary.csv' CSV HEADER
CREATE TABLE cdnow_zbar (id int PRIMARY KEY, zbar numeric);
\copy cdnow_zbar FROM 'test/data/cdnow_zbar.csv' CSV HEADER
SELECT count(*) AS rows, count(DISTINCT id) AS customers,
       count(*) FILTER (WHERE date <= '1997-09-30') AS calibration_rows
  FROM cdnow_tx;

-- purchases after the observation end are ignored: the whole table goes in
CREATE TABLE cdnow_rfm AS
SELECT id, (clcm.rfm_summary(date::timestamptz, dollars, '1997-09-30', 'week')).*
  FROM cdnow_tx GROUP BY id;

SELECT count(*) AS customers,
       count(*) FILTER (WHERE r.frequency <> s.frequency) AS frequency_mismatches,
       round(max(abs(r.recency - s.recency::float8))::numeric, 4) AS max_recency_diff,
       round(max(abs(r.t - s.t::float8))::numeric, 4) AS max_t_diff,
       count(*) FILTER (WHERE abs(r.recency - s.recency::float8) > 0.005
                           OR abs(r.t - s.t::float8) > 0.005) AS beyond_rounding
  FROM cdnow_rfm r FULL JOIN cdnow_summary s USING (id);

-- zbar is rounded to cents; exact half-cent means (e.g. 22.345) were
-- rounded either way in the file, so they differ by exactly $0.005
SELECT count(*) AS customers,
       round(max(abs(r.monetary - z.zbar::float8))::numeric, 6) AS max_zbar_diff,
       count(*) FILTER (WHERE abs(r.monetary - z.zbar::float8) > 0.005 + 1e-9) AS beyond_rounding,
       count(*) FILTER (WHERE abs(round(r.monetary::numeric, 3) - z.zbar) = 0.005) AS half_cent_ties
  FROM cdnow_rfm r FULL JOIN cdnow_zbar z USING (id);

-- the published shape of the calibration summary (data README): 1,411 with
-- x = 0, x up to 29 (mean 1.04), recency up to 38.43, T 27.00 .. 38.86;
-- zbar of the 946 repeat buyers: mean 35.08, median 27.50
SELECT count(*) FILTER (WHERE frequency = 0) AS x0, max(frequency) AS max_x,
       round(avg(frequency), 2) AS mean_x, round(max(recency)::numeric, 2) AS max_tx,
       round(min(t)::numeric, 2) AS min_t, round(max(t)::numeric, 2) AS max_t,
       count(*) FILTER (WHERE frequency > 0) AS repeaters,
       round(avg(monetary) FILTER (WHERE frequency > 0)::numeric, 2) AS mean_zbar,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY monetary)
              FILTER (WHERE frequency > 0))::numeric, 2) AS median_zbar
  FROM cdnow_rfm;

-- merging same-day rows matters: counting rows instead would change the
-- frequency of 80 customers (data README)
SELECT count(*) AS customers_changed
  FROM (SELECT id, count(*) - 1 AS naive FROM cdnow_tx WHERE date <= '1997-09-30' GROUP BY id) n
  JOIN cdnow_rfm r USING (id)
 WHERE n.naive <> r.frequency;

-- the same in days, and with the calendar day taken in another zone from
-- timestamps at noon (a day is a day in every zone)
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) FILTER (WHERE d.frequency <> r.frequency
                           OR abs(d.recency / 7 - r.recency) > 1e-12
                           OR abs(d.t / 7 - r.t) > 1e-12
                           OR d.monetary <> r.monetary) AS differ
  FROM (SELECT id, (clcm.rfm_summary((date + time '12:00')::timestamptz, dollars, '1997-09-30 12:00')).*
          FROM cdnow_tx GROUP BY id) d
  JOIN cdnow_rfm r USING (id);

DROP TABLE cdnow_tx, cdnow_summary, cdnow_zbar, cdnow_rfm;
RESET TimeZone;
