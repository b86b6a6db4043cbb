-- Search reads tiers 1 and 2 (a name's prefix, "jo sm") from the two name
-- indexes; patients_by_first now holds every column too, as patients_by_last
-- does, so that tier 2 reads no table row either. A birth year ("smi 1980",
-- "1980") is a range of patients_by_year in the order of tier 1 and of
-- patients_by_year_first in the order of tier 2; patients_by_year also holds
-- the tokens, so rows of that year that do not match are rejected inside
-- the index.
DROP INDEX patients_by_first;
CREATE INDEX patients_by_first ON patients (first_key, last_key, id_key, archived, birth_year, tokens, other,
    id, first_name, last_name, gender, email, phone, diagnosis_code, created_at, updated_at, version);
DROP INDEX patients_by_year;
CREATE INDEX patients_by_year ON patients (birth_year, last_key, first_key, id_key, archived, tokens, other);
CREATE INDEX patients_by_year_first ON patients (birth_year, first_key, last_key, id_key, archived);
