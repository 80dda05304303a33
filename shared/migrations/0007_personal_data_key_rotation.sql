-- Each national ID records the key that sealed it, so keys can be rotated and old ones retired.
-- Every value sealed so far was sealed under the lone PERSONAL_DATA_KEY, whose id is 'default'.
ALTER TABLE needs ADD COLUMN national_id_key_id text;
UPDATE needs SET national_id_key_id = 'default' WHERE national_id_encrypted IS NOT NULL;
ALTER TABLE needs ADD CONSTRAINT needs_national_id_has_its_key
    CHECK (national_id_encrypted IS NULL OR national_id_key_id IS NOT NULL);
-- What rotation looks for and what retiring a key counts: values not under a given key.
CREATE INDEX needs_national_id_key ON needs (national_id_key_id) WHERE national_id_encrypted IS NOT NULL;

-- A key retired once nothing was sealed under it. An intake still configured to seal with it
-- is refused, so no value can be sealed under a key operators are about to throw away.
CREATE TABLE retired_personal_data_keys (
    key_id     text PRIMARY KEY,
    retired_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION refuse_retired_personal_data_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM retired_personal_data_keys WHERE key_id = NEW.national_id_key_id) THEN
        RAISE EXCEPTION 'personal-data key % is retired; seal with the current key', NEW.national_id_key_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER needs_national_id_key_not_retired BEFORE INSERT OR UPDATE OF national_id_key_id ON needs
    FOR EACH ROW WHEN (NEW.national_id_key_id IS NOT NULL) EXECUTE FUNCTION refuse_retired_personal_data_key();
