"""The DAG run's note: what the run did, where the Airflow UI shows it beside the run.

A task cannot write its own run's note through the Task SDK (the execution API sets a note only
when a run is triggered), so the finish task writes it through Airflow's public REST API, as the
user of the connection ``erzl_airflow_api`` — ``http://<user>:<password>@<api-server host>:<port>``,
a user allowed to edit DAG runs (role ``User`` or above). Without that connection the note is in
the task log and on the run's Asset events only, and the task says so once; a failure to write
it is one warning line, never a failed run.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

log = logging.getLogger(__name__)
CONNECTION = "erzl_airflow_api"
TIMEOUT = 10.0


def write_note(dag_id: str, run_id: str, text: str) -> bool:
    """Set the note of DAG run ``run_id``; True when it was written."""
    import httpx
    from airflow.sdk import Connection

    try:
        conn = Connection.get(CONNECTION)
    except Exception:  # AirflowNotFoundException, or no secrets backend reachable
        log.info("no connection %s: the run's note is on its Asset events only", CONNECTION)
        return False
    scheme = conn.conn_type if conn.conn_type in ("http", "https") else "http"
    base = f"{scheme}://{conn.host}" + (f":{conn.port}" if conn.port else "")
    try:
        with httpx.Client(base_url=base, timeout=TIMEOUT) as client:
            token = client.post(
                "/auth/token", json={"username": conn.login, "password": conn.password}
            )
            token.raise_for_status()
            answer = client.patch(
                f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}",
                params={"update_mask": "note"},
                json={"note": text[:1000]},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            answer.raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        log.warning("the run's note was not written: %s%s", type(exc).__name__,
                    f" (HTTP {status})" if status else "")  # fmt: skip
        return False
    return True
