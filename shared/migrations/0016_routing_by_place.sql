-- Routing rules by place: a rule matches a need type everywhere, in one province or in one
-- district (its province is the district code's first two digits), and names an agency or one
-- office (`doe.10.area3`). One rule per type and place: two of equal rank would tie.
ALTER TABLE routing.routing_rules DROP CONSTRAINT routing_rules_pkey;
ALTER TABLE routing.routing_rules
    ADD COLUMN province_code char(2),
    ADD COLUMN district_code char(4),
    ADD COLUMN office text,
    ADD CONSTRAINT routing_rules_place CHECK (
        district_code IS NULL OR (province_code IS NOT NULL AND left(district_code, 2) = province_code)),
    -- An office is named only by a rule of its own province (the code checks it is a known office).
    ADD CONSTRAINT routing_rules_office CHECK (
        office IS NULL OR (province_code IS NOT NULL AND split_part(office, '.', 1) = agency
                           AND split_part(office, '.', 2) = province_code)),
    ADD CONSTRAINT routing_rules_one_per_place UNIQUE NULLS NOT DISTINCT (need_type, province_code, district_code);

-- A need's case of an agency is its newest one (a re-route to another office of the same agency
-- is a new case); reports update that one. A case's office is its topic: agency.<office>.
CREATE INDEX routed_cases_need_agency ON routing.routed_cases (need_id, agency, routed_at);

-- An agency key may be scoped to area offices (`doe.10.area3`) as well as to provinces.
ALTER TABLE intake.api_keys ADD COLUMN offices text[] NOT NULL DEFAULT '{}';
