"""The console's pages. Each view parses the request, calls one service method, renders a template.

No SQL and no policy here: the service checks role, area and the protocol,
and audits. Every value from a form goes to the service as typed; every
value shown goes through the template's autoescaping.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedalert.node.console._web import Console, guarded
from fedalert.node.disclosure import (
    DisclosureError,
    LoginFailed,
    parse_consent,
    parse_exception,
)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


# --- login --------------------------------------------------------------------------


async def login_page(request):
    console: Console = request.app.state.console
    token = console.login_token()
    resp = console.render(request, "login.html", login_csrf=token, next=_safe_next(request.query_params.get("next", "/")))
    resp.set_cookie(console.login_cookie, token, secure=True, httponly=True, samesite="strict", path="/")
    return resp


async def login_submit(request):
    console: Console = request.app.state.console
    form = await request.form()
    cookie = request.cookies.get(console.login_cookie, "")
    if not cookie or form.get("login_csrf", "") != cookie:
        return console.render(request, "error.html", 403, title="Form expired",
                              message="The login form is out of date. Reload the page and try again.")
    try:
        token, user = await console.call(console.service.login, str(form.get("user", ""))[:128],
                                         str(form.get("password", ""))[:1024], str(form.get("code", "")).strip()[:16],
                                         channel="console")
    except LoginFailed as exc:
        fresh = console.login_token()
        resp = console.render(request, "login.html", 401, error=str(exc), login_csrf=fresh,
                              next=_safe_next(str(form.get("next", "/"))))
        resp.set_cookie(console.login_cookie, fresh, secure=True, httponly=True, samesite="strict", path="/")
        return resp
    resp = _see_other(_safe_next(str(form.get("next", "/"))))
    console.set_session(resp, token)
    resp.delete_cookie(console.login_cookie, secure=True, httponly=True, samesite="strict", path="/")
    return resp


@guarded(post=True)
async def logout(request, console, user, form):
    await console.call(console.service.logout, user)
    resp = _see_other("/login")
    console.clear_session(resp)
    return resp


@guarded()
async def home(request, console, user):
    for perm, url in (("alerts.read", "/inbox"), ("disclosure.decide", "/approvals"), ("audit.read", "/audit"),
                      ("users.manage", "/users")):
        if user.can(perm):
            return _see_other(url)
    return console.render(request, "error.html", 403, user=user, title="No role", message="Your account has no role.")


# --- alerts -----------------------------------------------------------------------------


@guarded("alerts.read")
async def inbox(request, console, user):
    q = request.query_params
    box = await console.call(console.service.inbox, user, tier=q.get("tier") or None, state=q.get("state") or None,
                             area=q.get("area") or None)
    return console.render(request, "inbox.html", user=user, box=box, q=q)


@guarded("alerts.read")
async def match_page(request, console, user):
    page = await console.call(console.service.match_page, user, request.path_params["match_id"])
    return console.render(request, "match.html", user=user, page=page)


@guarded("alerts.triage", post=True)
async def triage(request, console, user, form):
    match_id = request.path_params["match_id"]
    try:
        await console.call(console.service.triage, user, match_id, state=str(form.get("state", "")),
                           note=str(form.get("note", "")), assignee=str(form.get("assignee", "")))
    except DisclosureError as exc:
        page = await console.call(console.service.match_page, user, match_id)
        return console.render(request, "match.html", 400, user=user, page=page, triage_error=str(exc))
    return _see_other(f"/matches/{quote(match_id)}")


@guarded("disclosure.request")
async def request_form(request, console, user):
    form = await console.call(console.service.request_form, user, request.path_params["match_id"])
    return console.render(request, "request_form.html", user=user, form=form, values={}, errors={})


@guarded("disclosure.request", post=True)
async def request_submit(request, console, user, form):
    match_id = request.path_params["match_id"]
    values = {k: form.getlist(k) if k in ("fields",) else str(form.get(k, "")) for k in form.keys()}
    req, errors = await console.call(console.service.submit_request, user, match_id, values)
    if req is None:
        spec = await console.call(console.service.request_form, user, match_id)
        return console.render(request, "request_form.html", 400, user=user, form=spec, values=values, errors=errors)
    return _see_other(f"/requests/{quote(req.request_id)}")


# --- requests and approvals ---------------------------------------------------------------


@guarded("requests.read")
async def requests_list(request, console, user):
    rows = await console.call(console.service.list_requests, user)
    return console.render(request, "requests.html", user=user, rows=rows)


@guarded("requests.read")
async def request_page(request, console, user):
    from fedalert.node.disclosure import render_request

    row = await console.call(console.service.get_request, user, request.path_params["request_id"])
    return console.render(request, "request.html", user=user, row=row, text=render_request(row))


@guarded("disclosure.decide")
async def approvals(request, console, user):
    queue = await console.call(console.service.approval_queue, user)
    return console.render(request, "approvals.html", user=user, queue=queue)


def _decision_inputs(form):
    consents, exceptions, errors = [], [], []
    for subject in ("victim", "perpetrator", "child"):
        status = str(form.get(f"consent_{subject}", ""))
        if status:
            reason = str(form.get(f"consent_{subject}_reason", ""))
            explicit = "explicit=gender_history" if form.get(f"consent_{subject}_gh") else ""
            try:
                consents.append(parse_consent(f"{subject}:{status}:{explicit or reason}"))
            except DisclosureError as exc:
                errors.append(str(exc))
    provision = str(form.get("exception_provision", ""))
    if provision:
        try:
            exceptions.append(parse_exception(f"gender_history:{provision}:{form.get('exception_note', '')}"))
        except DisclosureError as exc:
            errors.append(str(exc))
    return consents, exceptions, errors


@guarded("disclosure.decide")
async def approval_page(request, console, user):
    page = await console.call(console.service.approval, user, request.path_params["request_id"])
    return console.render(request, "approval.html", user=user, page=page, values={}, errors=[])


@guarded("disclosure.decide", post=True)
async def approval_submit(request, console, user, form):
    rid = request.path_params["request_id"]
    action = str(form.get("action", "preview"))
    fields = form.getlist("fields")
    consents, exceptions, errors = _decision_inputs(form)
    values = {k: str(v) for k, v in form.items()}
    if action in ("approve", "refuse") and not errors:
        try:
            if action == "approve":
                await console.call(console.service.approve, user, rid, fields=fields, reason=values.get("reason", ""),
                                   consents=consents, exceptions=exceptions)
            else:
                await console.call(console.service.refuse_with_ground, user, rid, ground=values.get("ground", ""),
                                   note=values.get("reason", ""))
            return _see_other(f"/requests/{quote(rid)}")
        except DisclosureError as exc:
            errors.append(str(exc))
    page = await console.call(console.service.approval, user, rid, fields=fields, consents=consents,
                              exceptions=exceptions)
    return console.render(request, "approval.html", 400 if errors else 200, user=user, page=page, values=values,
                          errors=errors, fields_chosen=fields)


# --- releases, statements ------------------------------------------------------------------------


@guarded("release.read")
async def releases(request, console, user):
    rows = await console.call(console.service.releases_received, user)
    return console.render(request, "releases.html", user=user, rows=rows)


@guarded("release.read", post=True)
async def release_open(request, console, user, form):
    try:
        rel = await console.call(console.service.read_release, user, request.path_params["release_id"])
    except DisclosureError as exc:
        return console.render(request, "error.html", 404, user=user, title="Release not opened", message=str(exc))
    return console.render(request, "release.html", user=user, rel=rel)


@guarded("statement.read")
async def statement(request, console, user):
    rid = request.path_params["record_id"]
    kind = request.path_params["kind"]
    if kind == "sar":
        text = await console.call(console.service.sar_listing, user, rid)
        title = "Subject access listing"
    else:
        text = await console.call(console.service.sharing_statement, user, rid, area=console.area)
        title = "Sharing statement"
    return console.render(request, "text.html", user=user, title=title, text=text)


# --- audit, users ---------------------------------------------------------------------------------


@guarded("audit.read")
async def audit_page(request, console, user):
    q = request.query_params.get("q", "")[:200]
    view = await console.call(console.service.audit_view, user, query=q)
    return console.render(request, "audit.html", user=user, view=view, q=q)


@guarded("audit.read", post=True)
async def audit_export(request, console, user, form):
    text = await console.call(console.service.audit_export_csv, user)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="audit-{console.area}.csv"'})


@guarded("users.manage")
async def users(request, console, user):
    rows = await console.call(console.service.list_users, user)
    return console.render(request, "users.html", user=user, rows=rows)


@guarded("users.manage", post=True)
async def user_disable(request, console, user, form):
    await console.call(console.service.disable_user, user, request.path_params["name"])
    return _see_other("/users")


def routes() -> list[Route]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home, methods=["GET"]),
        Route("/inbox", inbox, methods=["GET"]),
        Route("/matches/{match_id}", match_page, methods=["GET"]),
        Route("/matches/{match_id}/triage", triage, methods=["POST"]),
        Route("/matches/{match_id}/request", request_form, methods=["GET"]),
        Route("/matches/{match_id}/request", request_submit, methods=["POST"]),
        Route("/requests", requests_list, methods=["GET"]),
        Route("/requests/{request_id}", request_page, methods=["GET"]),
        Route("/approvals", approvals, methods=["GET"]),
        Route("/approvals/{request_id}", approval_page, methods=["GET"]),
        Route("/approvals/{request_id}", approval_submit, methods=["POST"]),
        Route("/releases", releases, methods=["GET"]),
        Route("/releases/{release_id}", release_open, methods=["POST"]),
        Route("/records/{record_id}/{kind:str}", statement, methods=["GET"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/audit/export", audit_export, methods=["POST"]),
        Route("/users", users, methods=["GET"]),
        Route("/users/{name}/disable", user_disable, methods=["POST"]),
    ]
