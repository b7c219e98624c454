"""The fund analysts' console as an Airflow 3 plugin: a FastAPI app under the API server at
``/erzl`` and an external view in the UI's navigation that opens it beside the DAGs.

Airflow does not protect a plugin's endpoints by itself. Every page here asks Airflow's auth
manager who the caller is (the UI's session cookie, or a bearer token from ``/auth/token``) and
whether they may use the custom view :data:`pipelines.console.app.RESOURCE`: reading for the
pages, editing (``POST``) to resolve a held record. The fund grants that permission to its
analysts' role in its auth manager (FAB: a role with ``can_read``/``can_edit`` on the view;
the simple auth manager lets every signed-in user read, and edit from role ``user`` up).

Registered through the ``airflow.plugins`` entry point of the package, so an installed wheel
is enough; no file in the plugins folder.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from fastapi import Request

from pipelines.console.app import PREFIX, RESOURCE, Auth, Caller, create_app


async def _identify(request: Request) -> Caller:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = bearer or request.cookies.get(COOKIE_NAME_JWT_TOKEN) or ""
    user = await resolve_user_from_token(token or None)  # 401 without, 403 for a bad token
    return Caller(name=user.get_name(), credential=token, user=user)


def _allowed(caller: Caller, method: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    manager = get_auth_manager()
    if method != "GET" and isinstance(manager, SimpleAuthManager):
        # the simple manager answers custom views for any viewer whatever the method:
        # deciding takes the role that may change DAG runs (user and above)
        return manager.is_authorized_dag(method="PUT", user=caller.user)
    return manager.is_authorized_custom_view(
        method=method, resource_name=RESOURCE, user=caller.user
    )


app = create_app(Auth(identify=_identify, allowed=_allowed))


class ErzlConsolePlugin(AirflowPlugin):
    name = "erzl_console"
    fastapi_apps = [  # noqa: RUF012
        {"app": app, "url_prefix": PREFIX, "name": "ERZL fund analysts' console"}
    ]
    external_views = [  # noqa: RUF012
        {
            "name": "Fund console · Консоль фонда",
            "href": f"{PREFIX}/",
            "destination": "nav",
            "url_route": "erzl-console",
        }
    ]
