-- Needs as intake accepted them. The national ID is kept here only, never on a topic.
CREATE TABLE needs (
    need_id            uuid PRIMARY KEY,
    volunteer_id       text        NOT NULL,
    idempotency_key    text,
    request_digest     text        NOT NULL,
    subdistrict_code   char(6)     NOT NULL,
    district_code      char(4)     NOT NULL,
    province_code      char(2)     NOT NULL,
    description        text        NOT NULL,
    person_name        text,
    person_phone       text,
    person_national_id text,
    consent_to_share   boolean     NOT NULL DEFAULT false,
    suggested_types    text[]      NOT NULL DEFAULT '{}',
    occurred_at        timestamptz,
    submitted_at       timestamptz NOT NULL,
    -- The needs.submitted.v1 event as first published (national ID masked), for re-drive.
    event_payload      bytea       NOT NULL,
    redriven_at        timestamptz,
    redrive_count      integer     NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX needs_idempotency ON needs (volunteer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Transactional outbox: written in the same transaction as the need, deleted once published.
CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    key        bytea       NOT NULL,
    payload    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_key ON outbox (key);

CREATE TABLE screenings (
    need_id            uuid PRIMARY KEY,
    event_id           uuid        NOT NULL,
    types              jsonb       NOT NULL,
    language           text        NOT NULL,
    manual_reason      text,
    disagreement       text[]      NOT NULL DEFAULT '{}',
    classifier_version text        NOT NULL,
    screened_at        timestamptz NOT NULL,
    event_payload      bytea       NOT NULL
);

-- The routing table is data: operators change it at run time with `needs-router routes set`.
CREATE TABLE routing_rules (
    need_type  text PRIMARY KEY,
    agency     text        NOT NULL CHECK (agency IN ('doe', 'dsd', 'sso', 'dlpw', 'mol')),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO routing_rules (need_type, agency) VALUES
    ('jobs', 'doe'),
    ('migrant_labour', 'doe'),
    ('skills', 'dsd'),
    ('ss40', 'sso'),
    ('unfair_labour', 'dlpw'),
    ('drugs_workplace', 'mol'),
    ('manual_screening', 'mol');

CREATE TABLE routed_cases (
    event_id         uuid PRIMARY KEY,
    need_id          uuid        NOT NULL,
    agency           text        NOT NULL,
    province_code    char(2)     NOT NULL,
    topic            text        NOT NULL,
    types            text[]      NOT NULL,
    manual_screening boolean     NOT NULL,
    routed_at        timestamptz NOT NULL
);
CREATE INDEX routed_cases_need ON routed_cases (need_id);

CREATE TABLE dead_letters (
    event_id         uuid PRIMARY KEY,
    consumer         text        NOT NULL,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    error            text        NOT NULL,
    key              bytea,
    original         bytea       NOT NULL,
    failed_at        timestamptz NOT NULL,
    replayed_at      timestamptz,
    UNIQUE (consumer, source_topic, source_partition, source_offset)
);
