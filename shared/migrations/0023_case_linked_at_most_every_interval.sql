-- Related needs (issue 17): routing tells each earlier case of a cluster of new relatives at most
-- once per link interval (RELATED_NEEDS_LINK_INTERVAL_S). A flood of near-identical reports would
-- otherwise send every case of the cluster a case.linked with each routing batch. A case that
-- gained relatives while it was told too recently is marked pending here, and routing's periodic
-- flush tells it of all of them at once when its interval has passed.
CREATE TABLE routing.linked_told (
    need_id  uuid NOT NULL,
    -- The office whose queue holds the case (an Office name, e.g. dlpw.33 or doe.10.area3).
    office   text NOT NULL,
    told_at  timestamptz NOT NULL,
    pending  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (need_id, office)
);
CREATE INDEX linked_told_pending ON routing.linked_told (told_at) WHERE pending;
CREATE INDEX linked_told_at ON routing.linked_told (told_at);
