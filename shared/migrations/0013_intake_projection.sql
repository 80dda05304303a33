-- Intake's own copy of what the other services did with its needs, projected from the events it
-- consumes (needs.screened.v1, cases.updated.v1, needs.dlq.v1), so that its reads, re-drive,
-- retention and dashboard never read another service's tables. Built here from what is stored.

-- Events already projected, whatever their topic: a redelivered batch changes nothing.
CREATE TABLE intake.projected_events (
    event_id     uuid PRIMARY KEY,
    projected_at timestamptz NOT NULL DEFAULT now()
);

-- needs.screened.v1: the screening result of each need.
CREATE TABLE intake.screening_results (
    need_id            uuid PRIMARY KEY,
    event_id           uuid        NOT NULL,
    types              jsonb       NOT NULL,
    language           text        NOT NULL,
    manual_reason      text,
    disagreement       text[]      NOT NULL DEFAULT '{}',
    classifier_version text        NOT NULL,
    screened_at        timestamptz NOT NULL
);

-- cases.updated.v1: each case a need was routed to, where it stands and which levels it missed.
CREATE TABLE intake.need_cases (
    event_id         uuid PRIMARY KEY,  -- the routed case's event id (the agency's ce_id)
    need_id          uuid        NOT NULL,
    agency           text        NOT NULL,
    province_code    char(2)     NOT NULL,
    topic            text        NOT NULL,
    types            text[]      NOT NULL,
    manual_screening boolean     NOT NULL,
    routed_at        timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'routed'
        CHECK (status IN ('routed', 'accepted', 'in_progress', 'resolved', 'misrouted')),
    status_at        timestamptz,
    accepted_at      timestamptz,
    resolved_at      timestamptz,
    escalated        text[]      NOT NULL DEFAULT '{}'
);
CREATE INDEX need_cases_need ON intake.need_cases (need_id, agency);
CREATE INDEX need_cases_routed_at ON intake.need_cases (routed_at);
CREATE INDEX need_cases_open ON intake.need_cases (status, routed_at) WHERE status IN ('routed', 'accepted', 'in_progress');

-- cases.updated.v1 (change status): the agencies' reports routing accepted, for the timeline.
CREATE TABLE intake.case_reports (
    event_id    uuid PRIMARY KEY,  -- the agency's report's event id (CaseUpdated.report_event_id)
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
CREATE INDEX case_reports_need ON intake.case_reports (need_id, reported_at);

-- needs.dlq.v1: every dead letter any consumer published, for the dashboard. Replays are marked
-- by the operators' `dlq replay` (as the owner), which also marks platform.dead_letters.
CREATE TABLE intake.dead_letters_seen (
    event_id     uuid PRIMARY KEY,
    consumer     text        NOT NULL,
    source_topic text        NOT NULL,
    error        text        NOT NULL,
    failed_at    timestamptz NOT NULL,
    replayed_at  timestamptz
);
CREATE INDEX dead_letters_seen_failed_at ON intake.dead_letters_seen (failed_at);

-- What is stored already: intake starts from where the other services are.
INSERT INTO intake.screening_results (need_id, event_id, types, language, manual_reason, disagreement,
        classifier_version, screened_at)
    SELECT need_id, event_id, types, language, manual_reason, disagreement, classifier_version, screened_at
    FROM screening.screenings;
INSERT INTO intake.need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at,
        status, status_at, accepted_at, resolved_at, escalated)
    SELECT event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at,
        status, status_at, accepted_at, resolved_at, escalated
    FROM routing.routed_cases;
INSERT INTO intake.case_reports (event_id, need_id, agency, status, note, outcome, reason, reroute_to,
        reported_at, recorded_at)
    SELECT event_id, need_id, agency, status, note, outcome, reason, reroute_to,
        reported_at, recorded_at
    FROM routing.case_status_history;
INSERT INTO intake.dead_letters_seen (event_id, consumer, source_topic, error, failed_at, replayed_at)
    SELECT event_id, consumer, source_topic, error, failed_at, replayed_at FROM platform.dead_letters;

-- Intake's interface for routing: the contact an agency's case may carry, and nothing else.
-- Routing may execute this (shared/service_roles.sql) but not read intake's tables; the person's
-- name, phone and masked national ID leave intake only where the person consented to share them.
CREATE FUNCTION intake.consented_contacts(need_ids uuid[])
RETURNS TABLE (need_id uuid, volunteer_id text, consent_to_share boolean, person_name text, person_phone text,
    national_id_masked text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = intake AS $$
    SELECT n.need_id, n.volunteer_id, n.consent_to_share,
        CASE WHEN n.consent_to_share THEN n.person_name END,
        CASE WHEN n.consent_to_share THEN n.person_phone END,
        CASE WHEN n.consent_to_share THEN n.national_id_masked END
    FROM needs n WHERE n.need_id = ANY(need_ids)
$$;
REVOKE ALL ON FUNCTION intake.consented_contacts(uuid[]) FROM PUBLIC;
-- Its place: the view that routing read until now.
DROP VIEW intake.need_contacts;

-- Screening's interface for the operators' dashboard: the shadow model running now, how often it
-- disagreed with the live one, and its latest disagreements with the need's text as screened.
CREATE FUNCTION screening.shadow_disagreements_report(latest integer, description_chars integer)
RETURNS TABLE (shadow_version text, disagreements bigint, need_id uuid, description text, live_version text,
    live_types text[], shadow_types text[], screened_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = screening AS $$
    SELECT running.version, total.disagreements, d.need_id,
        left(coalesce(convert_from(s.event_payload, 'UTF8')::jsonb -> 'need' ->> 'description', ''), description_chars),
        d.live_version, d.live_types, d.shadow_types, d.screened_at
    FROM (SELECT version FROM screening_models WHERE state = 'shadow') AS running
    CROSS JOIN LATERAL (SELECT count(*) AS disagreements FROM shadow_disagreements
                        WHERE shadow_version = running.version) AS total
    LEFT JOIN LATERAL (SELECT * FROM shadow_disagreements WHERE shadow_version = running.version
                       ORDER BY screened_at DESC, need_id LIMIT latest) AS d ON true
    LEFT JOIN screenings AS s ON s.need_id = d.need_id
    ORDER BY d.screened_at DESC, d.need_id
$$;
REVOKE ALL ON FUNCTION screening.shadow_disagreements_report(integer, integer) FROM PUBLIC;
