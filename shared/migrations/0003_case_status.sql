-- Where each routed case stands at its agency, kept current for queries and timers.
ALTER TABLE routed_cases ADD COLUMN status text NOT NULL DEFAULT 'routed'
    CHECK (status IN ('routed', 'accepted', 'in_progress', 'resolved', 'misrouted'));
ALTER TABLE routed_cases ADD COLUMN status_at timestamptz;
ALTER TABLE routed_cases ADD COLUMN accepted_at timestamptz;
ALTER TABLE routed_cases ADD COLUMN resolved_at timestamptz;
ALTER TABLE routed_cases ADD COLUMN escalated text[] NOT NULL DEFAULT '{}';
CREATE INDEX routed_cases_open ON routed_cases (status, routed_at) WHERE status IN ('routed', 'accepted', 'in_progress');

-- Every report an agency made, as made; the timeline of a need reads it.
CREATE TABLE case_status_history (
    event_id    uuid PRIMARY KEY,
    need_id     uuid        NOT NULL,
    agency      text        NOT NULL,
    status      text        NOT NULL,
    note        text        NOT NULL DEFAULT '',
    outcome     text,
    reason      text,
    reroute_to  text,
    reported_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_status_history_need ON case_status_history (need_id, reported_at);

-- What screening got wrong, with the original text, to measure the next classifier version.
CREATE TABLE screening_corrections (
    need_id          uuid        NOT NULL,
    corrected_by     text        NOT NULL,
    description      text        NOT NULL,
    classified_types text[]      NOT NULL,
    corrected_agency text        NOT NULL,
    corrected_types  text[]      NOT NULL DEFAULT '{}',
    reason           text        NOT NULL,
    corrected_at     timestamptz NOT NULL,
    PRIMARY KEY (need_id, corrected_by)
);
