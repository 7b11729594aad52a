"""``REELFLOW_INJECT_FAULTS``: task faults and scripted DNS answers, parsed in one place; scripted answers are counted
across processes and always checked by the SSRF guard."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import InvalidRequest
from core.faults import TaskFault, dns_log, lookups, parse, scripted_answer
from core.netguard import check_webhook_target
from core.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[3]
SCRIPT = "dns:Rebind.Example.Test.=93.184.215.14/127.0.0.1"


def test_task_entries_keep_their_meaning() -> None:
    faults = parse("assemble, make-image:#fail#,,speak")
    assert faults.tasks == (TaskFault("assemble"), TaskFault("make-image", "#fail#"), TaskFault("speak"))
    assert faults.task_fails("assemble")
    assert faults.task_fails("make-image", "a scene #fail# here")
    assert not faults.task_fails("make-image", "a healthy scene")
    assert not faults.task_fails("render-scene")
    assert faults.dns == {}


def test_a_dns_entry_scripts_one_name_case_and_trailing_dot_aside() -> None:
    faults = parse(f"make-image:#x#,{SCRIPT},dns:v6.example.test=2606:4700::1111")
    assert faults.tasks == (TaskFault("make-image", "#x#"),)
    assert faults.dns["rebind.example.test"] == (ipaddress.ip_address("93.184.215.14"),
                                                 ipaddress.ip_address("127.0.0.1"))
    assert faults.dns["v6.example.test"] == (ipaddress.ip_address("2606:4700::1111"),)


@pytest.mark.parametrize("entry", [
    "dns:rebind.example.test", "dns:=127.0.0.1", "dns:rebind.example.test=", "dns:rebind.example.test=localhost",
    "dns:rebind.example.test=127.0.0.1//8.8.8.8", "dns:../../etc=127.0.0.1", "dns:a b=127.0.0.1",
])
def test_a_dns_entry_that_does_not_parse_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="REELFLOW_INJECT_FAULTS"):
        parse(entry)


def test_settings_refuse_a_broken_dns_script_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_INJECT_FAULTS", "assemble,dns:rebind.example.test=not-an-address")
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings()


def test_answers_follow_the_script_then_repeat_the_last(tmp_path: Path) -> None:
    answers = [scripted_answer(SCRIPT, tmp_path, "rebind.example.test") for _ in range(3)]
    assert [str(a) for a in answers] == ["93.184.215.14", "127.0.0.1", "127.0.0.1"]
    assert lookups(tmp_path, "REBIND.example.test") == ["93.184.215.14", "127.0.0.1", "127.0.0.1"]
    assert scripted_answer(SCRIPT, tmp_path, "other.example.test") is None  # not scripted: resolved for real
    assert not dns_log(tmp_path, "other.example.test").exists()


def test_lookups_are_counted_across_processes(tmp_path: Path) -> None:
    code = ("from pathlib import Path; from core.faults import scripted_answer; "
            f"scripted_answer({SCRIPT!r}, Path({str(tmp_path)!r}), 'rebind.example.test')")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)  # another process: the API
    assert str(scripted_answer(SCRIPT, tmp_path, "rebind.example.test")) == "127.0.0.1"  # this one: the runner


def test_the_guard_checks_a_scripted_name_even_when_private_targets_are_allowed(
        monkeypatch: pytest.MonkeyPatch, clean_settings: Path) -> None:
    monkeypatch.setenv("REELFLOW_INJECT_FAULTS", SCRIPT)
    get_settings.cache_clear()
    target = check_webhook_target("http://rebind.example.test:9/hook", allow_private=True)  # the create
    assert target.addresses == (ipaddress.ip_address("93.184.215.14"),)
    with pytest.raises(InvalidRequest, match="resolves to 127.0.0.1"):  # the delivery, after the name rebound
        check_webhook_target("http://rebind.example.test:9/hook", allow_private=True)
    check_webhook_target("http://127.0.0.1:9/hook", allow_private=True)  # names the script leaves alone: as before
    assert lookups(clean_settings, "rebind.example.test") == ["93.184.215.14", "127.0.0.1"]
