-- An agency has its own reasons to send work back, so its correction teaches nothing until a
-- screener confirms it.
ALTER TABLE screening_corrections ADD COLUMN correction_id bigint GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE screening_corrections ADD COLUMN review text NOT NULL DEFAULT 'candidate'
    CHECK (review IN ('candidate', 'confirmed', 'rejected'));
ALTER TABLE screening_corrections ADD COLUMN reviewed_by text;
ALTER TABLE screening_corrections ADD COLUMN reviewed_at timestamptz;

-- Every classifier model ever trained here, with its file; screening loads the live one and
-- the shadow one. With no live row, the model shipped in the package is live.
CREATE TABLE screening_models (
    version          text PRIMARY KEY,
    content_sha256   text        NOT NULL UNIQUE,
    model            bytea       NOT NULL,
    state            text        NOT NULL DEFAULT 'candidate'
        CHECK (state IN ('candidate', 'live', 'shadow', 'retired')),
    training_summary jsonb       NOT NULL,
    gate             jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    state_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX screening_models_one_live ON screening_models (state) WHERE state = 'live';
CREATE UNIQUE INDEX screening_models_one_shadow ON screening_models (state) WHERE state = 'shadow';

-- Each promotion, so that a rollback knows which version was live before.
CREATE TABLE screening_model_promotions (
    promotion_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version        text        NOT NULL REFERENCES screening_models (version),
    promoted_at    timestamptz NOT NULL DEFAULT now(),
    rolled_back_at timestamptz
);

-- Needs the shadow model typed differently from the live one; the text stays in screenings.
CREATE TABLE shadow_disagreements (
    need_id        uuid        NOT NULL,
    shadow_version text        NOT NULL,
    live_version   text        NOT NULL,
    live_types     text[]      NOT NULL,
    shadow_types   text[]      NOT NULL,
    screened_at    timestamptz NOT NULL,
    PRIMARY KEY (need_id, shadow_version)
);
CREATE INDEX shadow_disagreements_screened_at ON shadow_disagreements (screened_at);
