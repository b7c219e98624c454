"""The Airflow side of erzl-ingest: what Airflow's own processes import by class path.

``pipelines`` never imports Airflow; the triggerer, though, must import the inbox trigger by its
class path, so it lives here, in a package of its own shipped in the same wheel.
"""
