-- Upstream systems that post needs on Kafka (`needs-router sources add NAME`): each has the topics
-- needs.incoming.v1.<name> and needs.receipts.v1.<name>, and its needs are submitted by 'source:<name>'.
CREATE TABLE intake.sources (
    name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    added_at timestamptz NOT NULL DEFAULT now()
);
