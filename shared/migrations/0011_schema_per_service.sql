-- Each service owns a schema; dead letters and the audit log go to `platform`, which every service
-- may only append to. The login roles and their grants are (re)applied after every migration by
-- shared/service_roles.sql, since roles belong to the server and a restore drops grants.
CREATE SCHEMA intake;
CREATE SCHEMA screening;
CREATE SCHEMA routing;
CREATE SCHEMA platform;

ALTER TABLE needs SET SCHEMA intake;
ALTER TABLE outbox SET SCHEMA intake;
ALTER TABLE api_keys SET SCHEMA intake;
ALTER TABLE retired_personal_data_keys SET SCHEMA intake;
ALTER VIEW need_contacts SET SCHEMA intake;
ALTER FUNCTION need_overall_status(boolean, text[]) SET SCHEMA intake;
ALTER FUNCTION refuse_retired_personal_data_key() SET SCHEMA intake;
-- A trigger runs with its caller's search_path; this one must find its table whoever inserts.
ALTER FUNCTION intake.refuse_retired_personal_data_key() SET search_path = intake;

ALTER TABLE screenings SET SCHEMA screening;
ALTER TABLE screening_corrections SET SCHEMA screening;
ALTER TABLE screening_models SET SCHEMA screening;
ALTER TABLE screening_model_promotions SET SCHEMA screening;
ALTER TABLE shadow_disagreements SET SCHEMA screening;

ALTER TABLE routing_rules SET SCHEMA routing;
ALTER TABLE routed_cases SET SCHEMA routing;
ALTER TABLE case_status_history SET SCHEMA routing;

ALTER TABLE dead_letters SET SCHEMA platform;
ALTER TABLE audit_log SET SCHEMA platform;
ALTER FUNCTION audit_log_is_append_only() SET SCHEMA platform;
