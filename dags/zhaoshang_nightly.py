"""
### 招商引资数据仓库 夜间作业 / Investment-attraction warehouse, nightly run

每晚 02:00（北京时间）读取 `ZHAOSHANG_RAW_DIR` 收件箱中新的或修改过的单位月报，入账、
隔离问题行、构建 dbt 汇总表、用 Great Expectations 标记疑点，全部成功后原子发布数据仓库，
最后把新疑点邮件发给督查组。

Every night at 02:00 Asia/Shanghai: load new or changed unit reports from the inbox into the
ledger (bad rows quarantined, bad files rejected), build the dbt marts, flag suspicious entries
with Great Expectations, publish the warehouse by atomic rename only when all of that succeeded,
write the analysts' Excel workbook and the work report (.docx/.html), e-mail new flags to the
inspection team and send each unit its receipt (回执). Each task is one call into the `zhaoshang`
package.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_current_context, task

WRITER_POOL = "zhaoshang_writer"  # size 1; created by `python -m zhaoshang airflow-init`


def _settings():
    """Settings from ZHAOSHANG_*; without ZHAOSHANG_SMTP_URL, Airflow's `smtp_default` connection."""
    import dataclasses

    from zhaoshang import settings

    loaded = settings.load()
    if loaded.smtp_url:
        return loaded
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get("smtp_default")
    except AirflowNotFoundException:  # no such connection: alerts go to the output dir
        return loaded
    return dataclasses.replace(
        loaded,
        smtp_url=settings.smtp_url_from_parts(
            conn.host,
            conn.port,
            conn.login,
            conn.password,
            ssl=(conn.extra_dejson or {}).get("ssl"),
        ),
    )


def _run_id() -> str:
    from zhaoshang.pipeline import make_run_id

    return make_run_id(get_current_context()["run_id"])


def _logical_date():
    """The night being processed: the period check uses it, never the wall clock."""
    context = get_current_context()
    moment = context.get("logical_date") or context["dag_run"].run_after
    return pendulum.instance(moment).in_timezone("Asia/Shanghai").date()


def notify_inspection_team(context) -> None:
    """DAG failure -> the same team as the data alerts (outbox-backed, never raises)."""
    from zhaoshang.alerts import notify_failure
    from zhaoshang.guards import failure_reason
    from zhaoshang.pipeline import make_run_id

    settings = _settings()
    run_id = str(context.get("run_id"))
    notify_failure(
        settings,
        dag_id=context["dag"].dag_id,
        run_id=run_id,
        task_id=getattr(context.get("task_instance"), "task_id", None),
        # A DAG-level callback gets no exception: a refused night's reason comes from the ledger.
        error=str(context.get("exception") or "") or failure_reason(settings, make_run_id(run_id)),
    )


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2021, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    # The office expects the night to run once the project is deployed, without a click.
    is_paused_upon_creation=False,
    # Every task writes the ledger or the warehouse (DuckDB: one writer) unless it says otherwise:
    # the pool has one slot, so on the CeleryExecutor they run one at a time on any worker.
    default_args={
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=5),
        "pool": WRITER_POOL,
    },
    on_failure_callback=notify_inspection_team,
    tags=["zhaoshang", "nightly"],
    doc_md=__doc__,
)
def zhaoshang_nightly():
    @task
    def plan_batches() -> list[int]:
        from zhaoshang import pipeline

        return pipeline.plan_batches(_settings(), _run_id(), _logical_date())

    @task(pool="default_pool")  # the one fan-out: any worker, many at once, never the ledger
    def parse_batch(index: int) -> dict:
        from zhaoshang import pipeline

        return pipeline.parse_batch(_settings(), _run_id(), index)

    @task
    def load_submissions(_parsed) -> dict:
        from zhaoshang import pipeline

        return pipeline.load_submissions(_settings(), _run_id(), _logical_date(), from_batches=True)

    @task
    def build_features(_loaded: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.build_features(_settings(), _run_id())

    @task
    def validate_entries(_features: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.validate_entries(_settings(), _run_id())

    @task
    def build_marts(_validated: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.build_marts(_settings(), _run_id(), _logical_date())

    @task
    def publish_warehouse(_marts: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.publish_warehouse(_settings(), _run_id(), _logical_date())

    @task
    def export_for_analysts(_published: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.export_for_analysts(_settings())

    @task
    def write_report(_exported: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.write_report(_settings())

    @task(retries=0)
    def send_alerts(_published: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.send_alerts(_settings(), _run_id())

    @task(retries=0)
    def send_receipts(_published: dict) -> dict:
        from zhaoshang import pipeline

        return pipeline.send_receipts(_settings(), _run_id())

    loaded = load_submissions(parse_batch.expand(index=plan_batches()))
    published = publish_warehouse(build_marts(validate_entries(build_features(loaded))))
    write_report(export_for_analysts(published))
    send_alerts(published)
    send_receipts(published)


zhaoshang_nightly()
