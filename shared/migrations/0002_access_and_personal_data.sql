-- Callers of the HTTP API. Only the hash of a key's secret is kept.
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    secret_hash text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('volunteer_app', 'agency', 'admin')),
    owner       text        NOT NULL,
    agency      text        CHECK (agency IN ('doe', 'dsd', 'sso', 'dlpw', 'mol')),
    provinces   text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    CHECK ((role = 'agency') = (agency IS NOT NULL))
);

-- Who read, changed, revealed or erased what, and when. Rows are never changed or removed.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_key_id text,
    actor_role   text,
    action       text        NOT NULL,
    need_id      uuid,
    detail       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_need ON audit_log (need_id, at);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- The national ID is kept only encrypted (AES-GCM, key from PERSONAL_DATA_KEY) plus a masked form.
ALTER TABLE needs DROP COLUMN person_national_id;
ALTER TABLE needs ADD COLUMN national_id_encrypted bytea;
ALTER TABLE needs ADD COLUMN national_id_masked text;
ALTER TABLE needs ADD COLUMN submitted_by text;
ALTER TABLE needs ADD COLUMN personal_data_erased_at timestamptz;

-- Idempotency keys belong to the submitting app, not to the volunteer it names.
DROP INDEX needs_idempotency;
CREATE UNIQUE INDEX needs_idempotency ON needs (submitted_by, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- What routing may read of a need's identity to put on an agency's case.
CREATE VIEW need_contacts AS
    SELECT need_id, volunteer_id, consent_to_share, person_name, person_phone, national_id_masked
    FROM needs;
