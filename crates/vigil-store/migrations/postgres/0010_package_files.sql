-- The sealed bytes of packages built here, so they can be handed out after
-- the build (the API's GET /api/packages/{id}/file) and fetched again if a
-- copy is lost. Hex text keeps the backup dump plain text. Ciphertext of
-- records and hashes only: packages never carry media.
CREATE TABLE package_files (
    package_id BIGINT PRIMARY KEY REFERENCES packages(id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes_hex TEXT NOT NULL,
    created_at TEXT NOT NULL
);
