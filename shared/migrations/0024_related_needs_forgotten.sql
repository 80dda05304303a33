-- Related needs (issue 17): routing forgets a need a while after it was routed
-- (RELATED_NEEDS_KEEP_DAYS, a year by default), oldest first, every minute: the lookup's table no
-- longer grows with every need ever routed. This index finds the oldest without reading the table.
CREATE INDEX related_needs_routed_at ON routing.related_needs (routed_at);
