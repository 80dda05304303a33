-- Run by the owner after every migration; idempotent. Each service logs in as its own role, which
-- can use its own schema and append to `platform`, and nothing else but the functions listed last.
-- Every grant is taken back first, so a role holds exactly what this file says.
DO $$
DECLARE
    service text;
    role text;
BEGIN
    FOREACH service IN ARRAY ARRAY['intake', 'screening', 'routing', 'inbox'] LOOP
        role := 'needs_' || service;
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN', role);
        EXCEPTION WHEN duplicate_object THEN
            NULL;  -- made by an earlier migration, or for another database of this server
        END;
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA intake, screening, routing, inbox, platform FROM %I', role);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA intake, screening, routing, inbox, platform FROM %I', role);
        EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA intake, screening, routing, inbox, platform FROM %I', role);
        EXECUTE format('REVOKE ALL ON SCHEMA intake, screening, routing, inbox, platform FROM %I', role);
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role);
        EXECUTE format('GRANT USAGE ON SCHEMA %I, platform TO %I', service, role);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', service, role);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', service, role);
        EXECUTE format('GRANT INSERT ON platform.dead_letters, platform.audit_log TO %I', role);
        EXECUTE format('GRANT USAGE ON SEQUENCE platform.audit_log_id_seq TO %I', role);
        EXECUTE format('ALTER ROLE %I IN DATABASE %I SET search_path = %I, platform', role, current_database(), service);
    END LOOP;
    -- The owner (migrations, operator commands, tests) sees every schema without qualifying names.
    EXECUTE format('ALTER DATABASE %I SET search_path = intake, screening, routing, inbox, platform, public',
        current_database());
END $$;

-- The one way across services besides events: each a function its owner publishes, running with
-- the owner's rights over the owner's tables, that gives only what it names (migration 0013).
-- The callee's schema is usable (to name the function); its tables stay refused.
GRANT USAGE ON SCHEMA intake TO needs_routing;
GRANT EXECUTE ON FUNCTION intake.consented_contacts(uuid[]) TO needs_routing;
GRANT USAGE ON SCHEMA screening TO needs_intake;
GRANT EXECUTE ON FUNCTION screening.shadow_disagreements_report(integer, integer) TO needs_intake;
