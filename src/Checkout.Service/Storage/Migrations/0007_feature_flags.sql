-- Feature flags changed at run time by operators (`flags set`, `flags kill`): the current state,
-- read by every replica twice a second, and every change with who made it and when.
CREATE TABLE feature_flags (
    name        TEXT PRIMARY KEY,
    enabled     BOOLEAN NOT NULL,
    percent     INTEGER NOT NULL,
    regions     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  {{timestamptz}} NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE feature_flag_changes (
    seq         {{identity}},
    name        TEXT NOT NULL,
    change      TEXT NOT NULL,
    changed_at  {{timestamptz}} NOT NULL,
    changed_by  TEXT NOT NULL
);
