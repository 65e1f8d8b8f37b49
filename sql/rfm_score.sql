-- rfm_score: RFM scores, the R x F segment grid and the value tiers.
SELECT clcm.rfm_score(5, 4, 3) AS s543, clcm.rfm_score(1, 1, 1) AS s111,
       clcm.rfm_score(5, 5, 5) AS s555, clcm.rfm_score(NULL, 1, 1) IS NULL AS null_in_null_out;

-- the grid: rows R = 5..1, columns F = 1..5 (monetary does not matter)
SELECT r,
       clcm.rfm_segment(clcm.rfm_score(r, 1, 3)) AS f1,
       clcm.rfm_segment(clcm.rfm_score(r, 2, 3)) AS f2,
       clcm.rfm_segment(clcm.rfm_score(r, 3, 3)) AS f3,
       clcm.rfm_segment(clcm.rfm_score(r, 4, 3)) AS f4,
       clcm.rfm_segment(clcm.rfm_score(r, 5, 3)) AS f5
  FROM generate_series(5, 1, -1) r ORDER BY r DESC;
SELECT count(*) AS scores_where_m_changes_segment
  FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(2, 5) m
 WHERE clcm.rfm_segment(r * 100 + f * 10 + m) <> clcm.rfm_segment(r * 100 + f * 10 + 1);

-- all 125 scores: cells per segment, and tiers by r + f + m
SELECT clcm.rfm_segment(r * 100 + f * 10 + m) AS segment, count(*) / 5 AS rf_cells
  FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m
 GROUP BY 1 ORDER BY 1;
SELECT clcm.rfm_tier(r * 100 + f * 10 + m) AS tier, min(r + f + m) AS min_sum,
       max(r + f + m) AS max_sum, count(*) AS scores
  FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m
 GROUP BY 1 ORDER BY 2;
SELECT clcm.rfm_tier(344) AS t344, clcm.rfm_tier(433) AS t433, clcm.rfm_tier(333) AS t333,
       clcm.rfm_tier(133) AS t133, clcm.rfm_tier(115) AS t115;

-- ranks from ntile(5): best recency (smallest time since the last
-- purchase, t - recency) gets 5
WITH s(cust, recency, t, frequency, monetary) AS (
  VALUES (1, 30.0, 31.0, 9, 80.0), (2, 10.0, 40.0, 1, 10.0), (3, 0.0, 20.0, 0, 0.0),
         (4, 25.0, 27.0, 4, 35.0), (5, 5.0, 36.0, 2, 50.0))
SELECT cust, score, clcm.rfm_segment(score), clcm.rfm_tier(score)
  FROM (SELECT cust, clcm.rfm_score(ntile(5) OVER (ORDER BY t - recency DESC)::int,
                                    ntile(5) OVER (ORDER BY frequency)::int,
                                    ntile(5) OVER (ORDER BY monetary)::int) AS score
          FROM s) x
 ORDER BY cust;

-- errors (22023): ranks outside 1..5, scores that are not three digits 1..5
\set VERBOSITY default
SELECT clcm.rfm_score(0, 3, 3);
\set VERBOSITY sqlstate
SELECT clcm.rfm_score(3, 6, 3);
SELECT clcm.rfm_score(3, 3, -1);
\set VERBOSITY default
SELECT clcm.rfm_segment(105);
\set VERBOSITY sqlstate
SELECT clcm.rfm_segment(110);
SELECT clcm.rfm_segment(556);
SELECT clcm.rfm_segment(611);
SELECT clcm.rfm_segment(55);
SELECT clcm.rfm_segment(-111);
SELECT clcm.rfm_tier(0);
SELECT clcm.rfm_tier(1555);
\set VERBOSITY default
