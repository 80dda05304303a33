-- The officers' inbox (issue 18): its own schema, and screening's and routing's record of
-- screeners' decisions.
CREATE SCHEMA IF NOT EXISTS inbox;

-- People who work cases in the browser; an office is spelled as the agency topics spell it.
CREATE TABLE inbox.officers (
    officer_id    uuid PRIMARY KEY,
    name          text        NOT NULL,
    office        text        NOT NULL,
    screener      boolean     NOT NULL DEFAULT false,
    head          boolean     NOT NULL DEFAULT false,
    password_hash text,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One-time links for setting a password; only their SHA-256 is kept.
CREATE TABLE inbox.password_links (
    token_hash bytea PRIMARY KEY,
    officer_id uuid        NOT NULL REFERENCES inbox.officers,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- Server-side sessions; the cookie holds the token, the table its SHA-256.
CREATE TABLE inbox.sessions (
    token_hash bytea PRIMARY KEY,
    officer_id uuid        NOT NULL REFERENCES inbox.officers,
    csrf_token text        NOT NULL,
    language   text        NOT NULL DEFAULT 'th',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_officer ON inbox.sessions (officer_id);

-- Failed logins by name and by address, for the rate limit.
CREATE TABLE inbox.failed_logins (
    id        bigserial PRIMARY KEY,
    name      text        NOT NULL,
    address   text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX failed_logins_recent ON inbox.failed_logins (failed_at);

-- The inbox's copy of the cases, from the agency topics (exactly what the office sees) and
-- routing's cases.updated.v1.
CREATE TABLE inbox.cases (
    case_event_id    uuid PRIMARY KEY,
    need_id          uuid        NOT NULL,
    agency           text        NOT NULL,
    office           text        NOT NULL,
    province_code    char(2)     NOT NULL,
    district_code    char(4)     NOT NULL,
    subdistrict_code char(6)     NOT NULL,
    types            text[]      NOT NULL,
    assessments      jsonb       NOT NULL,
    manual_screening boolean     NOT NULL,
    manual_reason    text,
    description      text        NOT NULL,
    volunteer_id     text,
    contact          jsonb,
    submitted_at     timestamptz NOT NULL,
    routed_at        timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'routed',
    status_at        timestamptz,
    holder           uuid REFERENCES inbox.officers,
    correction       jsonb
);
CREATE INDEX cases_office ON inbox.cases (office, routed_at);
CREATE INDEX cases_need ON inbox.cases (need_id);

-- Each case's timeline, as the inbox learnt it.
CREATE TABLE inbox.case_events (
    event_id      uuid PRIMARY KEY,
    case_event_id uuid        NOT NULL,
    kind          text        NOT NULL,
    detail        text        NOT NULL DEFAULT '',
    at            timestamptz NOT NULL
);
CREATE INDEX case_events_case ON inbox.case_events (case_event_id, at);

-- Screening: the screeners' decisions it applied, with the manual result it published (a review
-- names the agency whose correction it judged, and is applied to it whenever that arrives).
CREATE TABLE screening.screener_decisions (
    event_id        uuid PRIMARY KEY,
    need_id         uuid        NOT NULL,
    decision        text        NOT NULL,
    screener        text        NOT NULL,
    correction_of   text,
    screened_event  bytea,
    decided_at      timestamptz NOT NULL
);

-- Routing: the manual screening results it routed (a need routed before is routed again once per decision).
CREATE TABLE routing.manual_screenings (
    event_id   uuid PRIMARY KEY,
    need_id    uuid        NOT NULL,
    screened_by text       NOT NULL,
    routed_at  timestamptz NOT NULL
);

-- Officers log in with their name: one officer per name, whatever its case.
CREATE UNIQUE INDEX officers_name ON inbox.officers (lower(name));
