-- One database per service (ARCHITECTURE.md, "Stack"), owned by POSTGRES_USER.
-- The postgres image runs the files of /docker-entrypoint-initdb.d once, on an empty data
-- directory only: after adding a database here, recreate the volume (docker compose down -v).
CREATE DATABASE intake;
CREATE DATABASE deadlines;
CREATE DATABASE consolidation;
CREATE DATABASE notify;
