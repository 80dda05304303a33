-- Routing keeps the screening it routed a need from, to route a case sent back again without
-- reading screening's tables. Needs routed before this get theirs from screening's records.
CREATE TABLE routing.screened_needs (
    need_id       uuid PRIMARY KEY,
    event_payload bytea NOT NULL
);
INSERT INTO routing.screened_needs (need_id, event_payload)
    SELECT s.need_id, s.event_payload FROM screening.screenings s
    WHERE EXISTS (SELECT 1 FROM routing.routed_cases r WHERE r.need_id = s.need_id);
