-- Files are streamed in and out in chunks (FileStore), so no upload or download has to fit in memory.
-- A new file's chunks are written under a fresh content_id while its bytes arrive; the files row that
-- names them (by SHA-256) is inserted last, in the same transaction, and the foreign key is checked at
-- commit. Rows written before this migration keep their bytes inline in files.data.
ALTER TABLE files ALTER COLUMN data DROP NOT NULL;
ALTER TABLE files DROP CONSTRAINT files_check;
ALTER TABLE files ADD COLUMN content_id uuid UNIQUE;
ALTER TABLE files ADD CONSTRAINT files_content_check CHECK (
    (data IS NOT NULL AND content_id IS NULL AND octet_length(data) = size) OR (data IS NULL AND content_id IS NOT NULL));

CREATE TABLE file_chunks (
    content_id uuid NOT NULL REFERENCES files (content_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    seq        integer NOT NULL CHECK (seq >= 0),
    data       bytea NOT NULL,
    PRIMARY KEY (content_id, seq)
);
