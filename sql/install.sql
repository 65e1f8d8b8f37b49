-- install: the extension installs into schema clcm, at the default version,
-- and its library agrees with the SQL objects.
CREATE EXTENSION clcm;
SELECT extname, extversion, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'clcm';
SELECT clcm.clcm_version() = (SELECT extversion FROM pg_extension WHERE extname = 'clcm') AS library_matches;
-- the clcm.* setting prefix is reserved: a typo is an error
SET clcm.no_such_setting = 1;
SHOW clcm.enforce;
