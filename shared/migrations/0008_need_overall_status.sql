-- A need's overall status, in one place, so that lists filter by it in SQL and a page holds every match.
-- resolved: every live case (not sent back as misrouted) is resolved; in_progress: an agency accepted
-- one; else routed, screened or accepted.
CREATE FUNCTION need_overall_status(screened boolean, case_states text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN cardinality(live) > 0 AND 'resolved' = ALL (live) THEN 'resolved'
        WHEN live && ARRAY['accepted', 'in_progress', 'resolved'] THEN 'in_progress'
        WHEN cardinality(case_states) > 0 THEN 'routed'
        WHEN screened THEN 'screened'
        ELSE 'accepted'
    END
    FROM (SELECT array_remove(case_states, 'misrouted') AS live) AS cases
$$;

-- Lists page through needs newest first, by (submitted_at, need_id), the cursor's position.
CREATE INDEX needs_newest ON needs (submitted_at DESC, need_id DESC);
