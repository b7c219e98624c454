"""The register (ЕРЗЛ regional segment): tables, migrations, sessions and the queries on them."""
