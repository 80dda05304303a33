-- Related needs (issue 17). Routing keeps, for each need it clustered, the place, the type, the
-- cluster and the description's normalised trigrams, so the lookup reads no other table and
-- compares no text it must first normalise. Candidates are read by (province, type), newest
-- first within the window: the index serves exactly that.
CREATE TABLE routing.related_needs (
    need_id       uuid PRIMARY KEY,
    province_code text NOT NULL,
    district_code text NOT NULL,
    need_type     text NOT NULL,
    cluster_id    uuid NOT NULL,
    -- The description's normalised trigrams, one character each (domain/related_needs.py).
    shingles      text NOT NULL,
    -- The offices the need's cases went to (Office names, e.g. dlpw.33): where case.linked goes.
    offices       text[] NOT NULL,
    routed_at     timestamptz NOT NULL,
    -- The order needs were placed in: under the lock of their (province, type), one after another.
    placed        bigserial NOT NULL
);
CREATE INDEX related_needs_lookup ON routing.related_needs (province_code, need_type, routed_at DESC);
CREATE INDEX related_needs_cluster ON routing.related_needs (cluster_id);

-- Intake's own copy of the clusters, from routing's cases.updated.v1 (never read from routing).
CREATE TABLE intake.need_clusters (
    need_id    uuid PRIMARY KEY,
    cluster_id uuid NOT NULL,
    need_type  text NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX need_clusters_cluster ON intake.need_clusters (cluster_id);
