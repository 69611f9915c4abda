-- One Airflow's role: it logs in with its own password and owns its Airflow's database, nothing else.
-- Run by the instance's master user; every statement can run again and changes nothing the second
-- time, except a new password. The values come from the environment (no password in any argument).
\getenv app_user APP_USER
\getenv app_password APP_PASSWORD
\getenv database APP_DATABASE
-- A team's own Airflow has a database of its own on the environment's instance (the shared one's exists).
SELECT format('CREATE DATABASE %I', :'database')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
-- A new role is never a superuser (the default); a master user that is no superuser may not even say
-- NOSUPERUSER, so the other attributes are set and superuser is checked by the tests.
SELECT format('ALTER ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD %L', :'app_user', :'app_password') \gexec
-- The master user of a managed instance is not a superuser: it must be a member to hand objects over.
SELECT format('GRANT %I TO CURRENT_USER', :'app_user')
WHERE NOT pg_has_role(CURRENT_USER, :'app_user', 'MEMBER') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'app_user') \gexec
-- Nobody else connects: another Airflow's role cannot reach this database.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
-- The rest happens inside that database (same host, user and password).
\connect :database
SELECT format('ALTER SCHEMA public OWNER TO %I', :'app_user') \gexec
-- Tables (with their sequences) and enum types an earlier Airflow made as the master user.
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'app_user')
FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'app_user' \gexec
SELECT format('ALTER TYPE public.%I OWNER TO %I', t.typname, :'app_user')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public' AND t.typtype = 'e' AND pg_get_userbyid(t.typowner) <> :'app_user' \gexec
