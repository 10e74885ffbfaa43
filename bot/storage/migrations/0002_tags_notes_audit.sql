-- Personal tags (个性标签), agents' notes, and the audit trail.

-- the shop's tag vocabulary: `tag` is the normalised key (NFKC, casefolded), `label`
-- how it is shown
CREATE TABLE tags (
    tag TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL
);

-- one row per time a tag was put on a customer; removing sets removed_* (history kept)
CREATE TABLE customer_tags (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    tag TEXT NOT NULL REFERENCES tags(tag) ON UPDATE CASCADE,
    added_by INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    removed_by INTEGER,
    removed_at INTEGER
);
CREATE UNIQUE INDEX customer_tags_live ON customer_tags (customer_id, tag) WHERE removed_at IS NULL;
CREATE INDEX customer_tags_by_tag ON customer_tags (tag, customer_id) WHERE removed_at IS NULL;

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    author INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_by_customer ON notes (customer_id, created_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    action TEXT NOT NULL,          -- lookup, tag, untag, note, import, agent_add ...
    customer_id INTEGER REFERENCES customers(id),
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_user ON audit_log (user_id, at);
CREATE INDEX audit_by_customer ON audit_log (customer_id, at);
