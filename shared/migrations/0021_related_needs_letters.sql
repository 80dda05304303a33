-- Related needs compared by rarity-weighted 4-grams (issue 17). Routing keeps each clustered
-- need's description as it is compared (lower case, no spaces or punctuation: letters() in
-- services/routing/domain/related_needs.py) instead of its hashed trigrams, from which the new
-- 4-grams cannot be made. Needs placed before this migration keep their clusters but have no
-- letters, so they are no new need's match; they leave the 30-day window soon enough.
ALTER TABLE routing.related_needs DROP COLUMN shingles;
ALTER TABLE routing.related_needs ADD COLUMN letters text NOT NULL DEFAULT '';
