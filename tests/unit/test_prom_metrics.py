"""Prometheus metrics: textfile written atomically, pushed to a (local) Pushgateway."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import unquote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.scale_servers import free_port
from vmsg.errors import TemporaryError
from vmsg.metrics import JobMetrics, MetricsSink, QueueDepthCollector, push, write_textfile


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


@pytest.fixture
def metrics(monkeypatch) -> JobMetrics:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    m = JobMetrics()
    m.job_finished("done", 4.2)
    m.job_finished("done", 12.0)
    m.job_finished("failed")
    m.stage_done("render", 0.7)
    m.stage_done("render", 3.0)
    m.stage_done("segment", 0.2)
    return m


def test_textfile_has_jobs_and_stage_durations(metrics, tmp_path):
    path = write_textfile(tmp_path / "node" / "vmsg.prom", metrics.output_registry())
    got = samples(path.read_text())
    assert got[("vmsg_jobs_total", (("status", "done"),))] == 2
    assert got[("vmsg_jobs_total", (("status", "failed"),))] == 1
    assert got[("vmsg_jobs_total", (("status", "retried"),))] == 0
    assert got[("vmsg_stage_seconds_count", (("stage", "render"),))] == 2
    assert got[("vmsg_stage_seconds_sum", (("stage", "render"),))] == pytest.approx(3.7)
    assert got[("vmsg_stage_seconds_bucket", (("le", "1.0"), ("stage", "render")))] == 1
    assert got[("vmsg_job_seconds_count", ())] == 2
    assert got[("vmsg_last_job_done_timestamp_seconds", ())] > 1.7e9
    assert [p.name for p in path.parent.iterdir()] == ["vmsg.prom"], "no temporary file may be left"


def test_textfile_replaces_the_old_one_whole(metrics, tmp_path):
    path = tmp_path / "vmsg.prom"
    path.write_text("stale garbage that is not prometheus format {{{\n" * 1000)
    write_textfile(path, metrics.output_registry())
    assert "stale" not in path.read_text()
    assert samples(path.read_text())[("vmsg_jobs_total", (("status", "done"),))] == 2


class _Gateway(BaseHTTPRequestHandler):
    pushes: list = []

    def do_PUT(self):
        self.pushes.append((self.command, unquote(self.path), self.rfile.read(int(self.headers["Content-Length"])).decode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_push_to_gateway_under_job_and_instance(metrics):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        push(f"http://127.0.0.1:{server.server_port}", metrics.output_registry(), instance="worker-a@host")
    finally:
        server.shutdown()
    method, path, body = _Gateway.pushes[-1]
    assert (method, path) == ("PUT", "/metrics/job/vmsg/instance/worker-a@host")
    assert samples(body)[("vmsg_jobs_total", (("status", "failed"),))] == 1


def test_unreachable_gateway_is_temporary_and_sink_never_raises(metrics, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TemporaryError, match="pushgateway"):
        push(url, metrics.output_registry())
    MetricsSink(textfile=tmp_path / "m.prom", pushgateway=url).flush()
    assert (tmp_path / "m.prom").is_file()


def test_queue_depth_reports_broker_down():
    collector = QueueDepthCollector(f"redis://127.0.0.1:{free_port()}/0")
    families = {f.name: f for f in collector.collect()}
    assert families["vmsg_broker_up"].samples[0].value == 0
    assert "vmsg_queue_depth" not in families
