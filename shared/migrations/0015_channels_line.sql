-- LINE: volunteers link their LINE user once, webhook events are kept before they are worked
-- on (LINE gets its answer at once and nothing is lost), a conversation remembers where it is,
-- and each status change pushed to a volunteer is pushed once.
CREATE TABLE intake.line_link_codes (
    code_hash    text PRIMARY KEY,  -- SHA-256 of the one-time code; the code itself is never stored
    volunteer_id text        NOT NULL,
    submitted_by text        NOT NULL,  -- the volunteer app that asked for it; LINE needs are submitted as it
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

CREATE TABLE intake.line_links (
    line_user_id text PRIMARY KEY,
    volunteer_id text        NOT NULL,
    submitted_by text        NOT NULL,
    linked_at    timestamptz NOT NULL
);
CREATE INDEX line_links_volunteer ON intake.line_links (volunteer_id, submitted_by);

CREATE TABLE intake.line_events (
    id               bigserial PRIMARY KEY,
    webhook_event_id text        NOT NULL UNIQUE,  -- LINE sends a redelivered event with the same id
    event            jsonb,                        -- emptied once worked on: the text is in the need by then
    received_at      timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    failure          text  -- why an event could not be worked on; it is kept, with its content, for a person
);
CREATE INDEX line_events_waiting ON intake.line_events (id) WHERE processed_at IS NULL;

CREATE TABLE intake.line_conversations (
    line_user_id     text PRIMARY KEY,
    description      text        NOT NULL,
    subdistrict_code text,  -- set once the volunteer said where; then the conversation waits to be confirmed
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE intake.line_pushes (
    push_id      uuid PRIMARY KEY,  -- the id of the change it reports (a status report, escalation or routing)
    need_id      uuid        NOT NULL,
    line_user_id text        NOT NULL,
    pushed_at    timestamptz NOT NULL DEFAULT now()
);
