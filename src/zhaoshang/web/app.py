"""The inspection team's pages (FastAPI + Jinja2, server-rendered, plain HTML forms).

Why these parts: FastAPI/Starlette and Jinja2 are well kept, already in the lock, and need no
build step; plain forms (no htmx, no CDN) work on an intranet without internet and in any
browser the county has. Sessions are Starlette's signed cookies (itsdangerous) with a fixed
lifetime; every form carries a per-session CSRF token; only inspectors may post decisions.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from zhaoshang import decisions, triage
from zhaoshang.quality.rules import SEVERITY_ZH, load_rules
from zhaoshang.settings import Settings
from zhaoshang.web import auth, data

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
STATUS_FILTERS = ("open", "follow_up", "confirmed", "dismissed", "cleared", "all")


def _secret(settings: Settings) -> str:
    """The configured secret, or one generated once in the state dir (owner-only)."""
    if settings.web_secret:
        return settings.web_secret
    path = settings.state_dir / "web_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _safe_next(target: str | None) -> str:
    """Only a local path may be the after-login target (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/flags"
    return target


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
    templates.env.globals.update(severity_zh=SEVERITY_ZH, status_zh=data.STATUS_ZH)
    lifetime_s = settings.web_session_minutes * 60

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = secrets.token_urlsafe(32)
            request.session["csrf"] = token
        return token

    def csrf_ok(request: Request, submitted: str | None) -> bool:
        expected = request.session.get("csrf")
        if not isinstance(expected, str) or not submitted:
            return False
        return hmac.compare_digest(expected, submitted)

    def user_of(request: Request) -> auth.User | None:
        name = request.session.get("user")
        login_at = request.session.get("login_at", 0)
        if not name or time.time() - login_at > lifetime_s:
            return None
        with decisions.writer(settings) as con:
            return auth.current_user(con, name)

    def login_redirect(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    def page(request: Request, name: str, user: auth.User | None, status_code=200, **context):
        context |= {"user": user, "csrf_token": csrf_token(request)}
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def refused(request: Request, user, message: str, status_code: int) -> HTMLResponse:
        return page(request, "error.html", user, status_code=status_code, message=message)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response: Response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "style-src-attr 'unsafe-inline'; form-action 'self'"
        )
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    # added after the header middleware, so it runs first and sessions exist inside it
    app.add_middleware(
        SessionMiddleware,
        secret_key=_secret(settings),
        session_cookie="zhaoshang_session",
        max_age=lifetime_s,
        same_site="strict",
    )
    app.mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static")

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None):
        return page(request, "login.html", None, next=_safe_next(next), error=None)

    @app.post("/login")
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf_token_field: str = Form("", alias="csrf_token"),
        next: str = Form("/flags"),
    ):
        if not csrf_ok(request, csrf_token_field):
            return refused(
                request, None, "请求无效（缺少或错误的安全令牌），请刷新页面后重试。", 403
            )
        with decisions.writer(settings) as con:
            locked = auth.is_locked(con, username.strip()[:40])
            user = None if locked else auth.authenticate(con, username, password)
        if user is None:
            log.warning("failed login (name withheld)")
            error = (
                f"登录失败次数过多，请{auth.LOCKOUT_MINUTES}分钟后再试。"
                if locked
                else "用户名或密码错误。"
            )
            return page(
                request, "login.html", None, status_code=401, next=_safe_next(next), error=error
            )
        request.session.clear()
        request.session.update(
            {"user": user.name, "login_at": time.time(), "csrf": secrets.token_urlsafe(32)}
        )
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token_field: str = Form("", alias="csrf_token")):
        if not csrf_ok(request, csrf_token_field):
            return refused(request, user_of(request), "请求无效（缺少安全令牌）。", 403)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(request: Request):
        return RedirectResponse("/flags", status_code=303)

    @app.get("/flags", response_class=HTMLResponse)
    def flag_list(
        request: Request,
        unit: str = "",
        rule: str = "",
        severity: str = "",
        period: str = "",
        status: str = "open",
    ):
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        try:
            with data.open_inspection_db(settings) as con:
                flags = data.all_flags(con, settings)
                published = data.manifest(con)
                unit_names = data.units(con)
        except data.NotPublished:
            return refused(request, user, "数据仓库尚未发布，请等夜间作业完成后再来。", 503)
        status = status if status in STATUS_FILTERS else "open"
        shown = [
            f
            for f in flags
            if (not unit or f["unit_name"] == unit)
            and (not rule or f["rule"] == rule)
            and (not severity or f["severity"] == severity)
            and (not period or f["period"] == period)
            and (status == "all" or f["status"] == status)
        ]
        periods = sorted(
            {f["period"] for f in flags if f["period"]},
            key=lambda p: tuple(int(x) for x in p.replace("年", " ").rstrip("月").split()),
        )
        return page(
            request,
            "flags.html",
            user,
            flags=shown,
            total=len(flags),
            units=unit_names,
            rules=load_rules(),
            periods=periods,
            filters={
                "unit": unit,
                "rule": rule,
                "severity": severity,
                "period": period,
                "status": status,
            },
            status_filters=STATUS_FILTERS,
            published=published,
        )

    @app.get("/flags/{flag_key}", response_class=HTMLResponse)
    def flag_page(request: Request, flag_key: str, saved: int = 0):
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        try:
            with data.open_inspection_db(settings) as con:
                flags = data.all_flags(con, settings)
                flag = next((f for f in flags if f["flag_key"] == flag_key), None)
                if flag is None:
                    newer = data.successor(con, flag_key)
                    if newer:
                        return RedirectResponse(f"/flags/{newer}", status_code=303)
                    return refused(request, user, "没有这条疑点。", 404)
                cells = data.source_row(
                    con, flag.get("submission_id"), flag.get("sheet"), flag.get("row_number")
                )
                typed = data.typed_cells(
                    con, flag.get("submission_id"), flag.get("sheet"), flag.get("row_number")
                )
                related = data.related(con, flag, flags)
        except data.NotPublished:
            return refused(request, user, "数据仓库尚未发布。", 503)
        same_file = [
            f
            for f in flags
            if f["flag_key"] != flag_key
            and f["is_current"]
            and flag.get("submission_id")
            and f.get("submission_id") == flag.get("submission_id")
        ]
        events = [
            e | {"change_zh": data.CHANGE_ZH.get(e["change"], e["change"])}
            for e in triage.subject_events(settings, flag.get("subject_key"))
        ]
        with decisions.writer(settings) as con:
            history = decisions.history(con, flag_key)
            if flag.get("previous_flag_key"):
                history += decisions.history(con, flag["previous_flag_key"])
        return page(
            request,
            "flag.html",
            user,
            flag=flag,
            cells=cells,
            typed=typed,
            events=events,
            related=related,
            same_file=same_file,
            history=history,
            published_decision=flag if flag.get("decided_by") else None,
            decisions_zh=decisions.DECISIONS_ZH,
            saved=bool(saved),
            error=None,
        )

    @app.post("/flags/{flag_key}/decision")
    def decide(
        request: Request,
        flag_key: str,
        decision: str = Form(""),
        note: str = Form(""),
        csrf_token_field: str = Form("", alias="csrf_token"),
    ):
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        if not csrf_ok(request, csrf_token_field):
            return refused(request, user, "请求无效（缺少或错误的安全令牌），结论未保存。", 403)
        if not user.may_decide:
            return refused(request, user, "只有督查员可以登记结论；您的账号为只读。", 403)
        with data.open_inspection_db(settings) as con:
            known = data.find_flag(con, settings, flag_key)
        if known is None or not known["is_current"]:
            return refused(request, user, "这条疑点不存在或已消除，无需登记结论。", 404)
        try:
            with decisions.writer(settings) as con:
                decisions.record(
                    con, flag_key=flag_key, decision=decision, note=note, decided_by=user.name
                )
        except decisions.DecisionRejected as error:
            return refused(request, user, str(error), 400)
        return RedirectResponse(f"/flags/{flag_key}?saved=1", status_code=303)

    @app.get("/units/{unit_name}", response_class=HTMLResponse)
    def unit_view(request: Request, unit_name: str):
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        with data.open_inspection_db(settings) as con:
            context = data.unit_page(con, settings, unit_name)
            if unit_name not in data.units(con):
                return refused(request, user, "没有这个单位。", 404)
        return page(request, "unit.html", user, unit_name=unit_name, **context)

    @app.get("/changes", response_class=HTMLResponse)
    def changes(request: Request):
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        with data.open_inspection_db(settings) as con:
            flags = data.all_flags(con, settings)
            published = data.manifest(con)
        tonight = [f for f in flags if f.get("change_run_id") == published.run_id]
        return page(
            request,
            "changes.html",
            user,
            published=published,
            new=[f for f in tonight if f["change"] == "new"],
            escalated=[f for f in tonight if f["change"] == "escalated"],
            cleared_tonight=[f for f in tonight if f["change"] == "cleared"],
            cleared=[f for f in flags if not f["is_current"]],
        )

    @app.get("/overview", response_class=HTMLResponse)
    def overview(request: Request):
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        from zhaoshang.report.charts import CHARTS

        with data.open_inspection_db(settings) as con:
            context = data.overview(con, settings)
            published = data.manifest(con)
        return page(
            request, "overview.html", user, published=published, charts=list(CHARTS), **context
        )

    chart_cache: dict[tuple[str, str], bytes] = {}

    @app.get("/overview/charts/{key}.png")
    def overview_chart(request: Request, key: str):
        """The report's own charts (zhaoshang.report), drawn once per published night."""
        user = user_of(request)
        if user is None:
            return login_redirect(request)
        from zhaoshang.report import charts, figures

        if key not in charts.CHARTS:
            return Response(status_code=404)
        path = data.inspection_db_path(settings)
        with data.open_inspection_db(settings) as con:
            run_id = data.manifest(con).run_id
            period = data.latest_period(con)
        if period is None:
            return Response(status_code=404)
        if (run_id, key) not in chart_cache:
            report_data = figures.read(path, *period, settings.units_csv)
            chart_cache.clear() if len(chart_cache) > 20 else None
            chart_cache[(run_id, key)] = charts.CHARTS[key](report_data)
        return Response(chart_cache[(run_id, key)], media_type="image/png")

    templates.env.globals["query"] = lambda **kw: urlencode({k: v for k, v in kw.items() if v})
    return app
