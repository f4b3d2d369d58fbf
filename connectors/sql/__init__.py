"""Database sources: PostgreSQL (ADBC) and MySQL/MariaDB (connectorx), read in chunks."""
