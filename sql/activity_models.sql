-- activity_models: the shipped rules of the insurance and b2b models, end
-- to end (payments/orders through track_activity, nightly refresh_stages).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE ins_policies (policy text PRIMARY KEY, stage clcm.insurance_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON ins_policies
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'policy');
CREATE TABLE ins_payments (policy text, paid_on date, premium numeric);
CREATE TRIGGER activity AFTER INSERT ON ins_payments FOR EACH ROW
	EXECUTE FUNCTION clcm.track_activity('ins_policies', 'policy', 'policy', 'paid_on', 'premium');
INSERT INTO ins_policies VALUES ('P-1', 'quoted'), ('P-2', 'lead');

-- first premium: quoted -> policyholder; a lead's payment moves nothing
INSERT INTO ins_payments VALUES ('P-1', '2024-01-01', 500), ('P-2', '2024-01-01', 500);
SELECT * FROM ins_policies ORDER BY policy;
-- 2024-11-30 is 334 days later: nothing; 2024-12-01 is 335: renewal_due
SELECT clcm.refresh_stages('ins_policies', '2024-11-30');
SELECT clcm.refresh_stages('ins_policies', '2024-12-01');
SELECT * FROM ins_policies ORDER BY policy;
-- paying the renewal: renewal_due -> renewed
INSERT INTO ins_payments VALUES ('P-1', '2024-12-15', 520);
SELECT * FROM ins_policies ORDER BY policy;
-- 335 days after the renewal payment (2025-11-15): renewal_due again
SELECT clcm.refresh_stages('ins_policies', '2025-11-15');
-- no payment for 395 days (2026-01-14): lapsed
SELECT clcm.refresh_stages('ins_policies', '2026-01-13');
SELECT * FROM ins_policies ORDER BY policy;
SELECT clcm.refresh_stages('ins_policies', '2026-01-14');
SELECT * FROM ins_policies ORDER BY policy;
-- a payment after lapsing: won_back; a year on, renewal_due
INSERT INTO ins_payments VALUES ('P-1', '2026-03-01', 540);
SELECT clcm.refresh_stages('ins_policies', '2027-01-30');
SELECT * FROM ins_policies ORDER BY policy;
SELECT from_stage, to_stage, reason FROM clcm.stage_history
 WHERE table_name = 'ins_policies'::regclass AND customer_key = 'P-1' ORDER BY id;

CREATE TABLE b2b_accounts (id int PRIMARY KEY, stage clcm.b2b_stage);
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON b2b_accounts
	FOR EACH ROW EXECUTE FUNCTION clcm.stage_guard('stage', 'id');
CREATE TABLE b2b_orders (account int, ordered_at timestamptz, value numeric);
CREATE TRIGGER activity AFTER INSERT ON b2b_orders
	REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT
	EXECUTE FUNCTION clcm.track_activity('b2b_accounts', 'id', 'account', 'ordered_at', 'value');
INSERT INTO b2b_accounts VALUES (1, 'initial'), (2, 'initial'), (3, 'initial');
-- one order: initial; the second: development
INSERT INTO b2b_orders VALUES (1, '2024-03-01', 100), (2, '2024-01-01', 100), (3, '2024-01-01', 100);
SELECT * FROM b2b_accounts ORDER BY id;
INSERT INTO b2b_orders VALUES (1, '2024-04-01', 100), (3, '2024-06-01', 100);
SELECT * FROM b2b_accounts ORDER BY id;
-- refresh 2024-12-30: nothing; 2024-12-31: account 2 (initial, one order
-- 365 days ago) -> terminated; account 3 (development, first order
-- 2024-01-01) -> mature by tenure; account 1 (first order 2024-03-01,
-- 305 days) stays in development
SELECT clcm.refresh_stages('b2b_accounts', '2024-12-30');
SELECT clcm.refresh_stages('b2b_accounts', '2024-12-31');
SELECT * FROM b2b_accounts ORDER BY id;
-- account 1 orders after a year of relationship: development -> mature at
-- the event (tenure rules also run in track_activity)
INSERT INTO b2b_orders VALUES (1, '2025-03-05', 100);
SELECT * FROM b2b_accounts ORDER BY id;
-- a year without orders terminates account 3 (last order 2024-06-01) by
-- 2026-03-04 and account 1 (last order 2025-03-05) on 2026-03-05
SELECT clcm.refresh_stages('b2b_accounts', '2026-03-04');
SELECT clcm.refresh_stages('b2b_accounts', '2026-03-05');
SELECT * FROM b2b_accounts ORDER BY id;
-- a terminated account that orders again starts over at initial; its
-- order count (2) and tenure (since 2024-01-01) carry it on to development
-- and mature in the same event (rules chain on cumulative facts)
INSERT INTO b2b_orders VALUES (2, '2026-04-01', 100);
SELECT * FROM b2b_accounts ORDER BY id;
SELECT customer_key, from_stage, to_stage, reason FROM clcm.stage_history
 WHERE table_name = 'b2b_accounts'::regclass AND from_stage IS NOT NULL ORDER BY id;

DELETE FROM clcm.activity_facts
 WHERE table_name = 'ins_policies'::regclass OR table_name = 'b2b_accounts'::regclass;
DROP TABLE ins_payments, ins_policies, b2b_orders, b2b_accounts;
