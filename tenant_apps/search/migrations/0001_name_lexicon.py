"""The name lexicon: every word of every profile and alias name once, with its keys.

- ``search_nameword(word)``: the distinct words (a few thousand, not a million);
- ``search_namekey(key, word)``: each word's deletion keys (the word with up to two
  letters taken out, keys of at least two letters) and its Double Metaphone codes
  (``#`` + ``dmetaphone`` / ``dmetaphone_alt``, from ``fuzzystrmatch``). A misspelt word
  shares a deletion key with every word within two edits of it, so one b-tree look-up of
  the query word's own keys finds them (``selectors.names``).

Statement-level triggers on ``casework_profile`` and ``casework_profilealias`` add the
words of inserted or updated names (one ``INSERT`` per statement, words already known
skipped), so every write path keeps it complete: services, merges, the demo, bulk loads.
Words are never removed: the lexicon only proposes words, and the profile query (with the
user's visibility) decides what is found. The trigger qualifies its tables with the schema
of the table written (``TG_TABLE_SCHEMA``), never the session's search path.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch WITH SCHEMA public;

CREATE TABLE search_nameword (word text PRIMARY KEY);
CREATE INDEX search_nameword_prefix ON search_nameword (word text_pattern_ops);
CREATE TABLE search_namekey (key text NOT NULL, word text NOT NULL, PRIMARY KEY (key, word));

CREATE FUNCTION search_deletion_keys(w text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(DISTINCT k) FROM (
        SELECT w AS k
        UNION ALL
        SELECT overlay(w PLACING '' FROM i FOR 1) FROM generate_series(1, length(w)) AS i
        UNION ALL
        SELECT overlay(overlay(w PLACING '' FROM i FOR 1) PLACING '' FROM j FOR 1)
        FROM generate_series(1, length(w)) AS i, generate_series(i, length(w) - 1) AS j
        WHERE length(w) <= 16
    ) AS keys WHERE length(k) >= 2 OR k = w
$$;

CREATE FUNCTION search_nameword_add() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    EXECUTE format($q$
        WITH fresh AS (
            INSERT INTO %1$I.search_nameword (word)
            SELECT DISTINCT w FROM new_rows, unnest(string_to_array(new_rows.search_name, ' ')) AS w
            WHERE w <> ''
            ON CONFLICT DO NOTHING
            RETURNING word
        )
        INSERT INTO %1$I.search_namekey (key, word)
        SELECT DISTINCT k, word FROM fresh,
            unnest(%1$I.search_deletion_keys(word)
                   || ARRAY['#' || dmetaphone(word), '#' || dmetaphone_alt(word)]) AS k
        WHERE k <> '#'
        ON CONFLICT DO NOTHING
    $q$, TG_TABLE_SCHEMA);
    RETURN NULL;
END
$body$;

CREATE TRIGGER search_profile_words_insert AFTER INSERT ON casework_profile
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_nameword_add();
CREATE TRIGGER search_profile_words_update AFTER UPDATE ON casework_profile
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_nameword_add();
CREATE TRIGGER search_alias_words_insert AFTER INSERT ON casework_profilealias
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_nameword_add();
CREATE TRIGGER search_alias_words_update AFTER UPDATE ON casework_profilealias
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_nameword_add();

-- The words already there (a partnership migrated with profiles in it).
WITH fresh AS (
    INSERT INTO search_nameword (word)
    SELECT DISTINCT w FROM (
        SELECT search_name FROM casework_profile UNION SELECT search_name FROM casework_profilealias
    ) AS names, unnest(string_to_array(names.search_name, ' ')) AS w
    WHERE w <> ''
    ON CONFLICT DO NOTHING
    RETURNING word
)
INSERT INTO search_namekey (key, word)
SELECT DISTINCT k, word FROM fresh,
    unnest(search_deletion_keys(word) || ARRAY['#' || dmetaphone(word), '#' || dmetaphone_alt(word)]) AS k
WHERE k <> '#'
ON CONFLICT DO NOTHING;
"""

REVERSE = """
DROP TRIGGER search_profile_words_insert ON casework_profile;
DROP TRIGGER search_profile_words_update ON casework_profile;
DROP TRIGGER search_alias_words_insert ON casework_profilealias;
DROP TRIGGER search_alias_words_update ON casework_profilealias;
DROP FUNCTION search_nameword_add();
DROP FUNCTION search_deletion_keys(text);
DROP TABLE search_namekey;
DROP TABLE search_nameword;
"""


class Migration(migrations.Migration):
    dependencies = [("casework", "0006_profile_name_keys")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=REVERSE)]
