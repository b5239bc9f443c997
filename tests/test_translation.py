"""The Simplified Chinese translation: admin pages, the breakers command and the catalogue files."""

import ast
import gettext
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.utils import translation

from circuitbreaker_app import get_breaker
from circuitbreaker_app.management.commands.breakers import Command
from circuitbreaker_app.reporting import display_width
from tests.admin_support import (
    change_url,
    changelist_url,
    live_url,
    log_in,
    record_failures,
)
from tests.factories import CircuitBreakerFactory

APP_DIR = Path(__file__).resolve().parent.parent / "circuitbreaker_app"
MESSAGES_DIR = APP_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = MESSAGES_DIR / "django.po"
MO_FILE = MESSAGES_DIR / "django.mo"
PROJECT_DIR = APP_DIR.parent
GETTEXT_MISSING = "GNU gettext is not installed: apt-get install gettext"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-+ #0-9.]*[a-z]")


# Catalogue parsing


def parse_po(path):
    """Parse a .po file into dicts with ``flags``, ``msgid``, ``msgid_plural`` and ``msgstr``.

    ``msgstr`` is a list: one item, or one per plural form. Obsolete ``#~``
    entries are skipped. The header entry (empty msgid) is included.
    """
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            entry = _start_entry(entries, entry)
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            entry = _start_entry(entries, entry)
        elif line.startswith('"'):
            _append(entry, field, ast.literal_eval(line))
        else:
            field, literal = line.split(" ", 1)
            if field in ("msgctxt", "msgid"):
                entry = _start_entry(entries, entry)
            _append(entry, field, ast.literal_eval(literal), start=True)
    return entries


def _start_entry(entries, entry):
    if entry is None or entry["msgstr"]:
        entry = {"flags": set(), "msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": []}
        entries.append(entry)
    return entry


def _append(entry, field, text, start=False):
    if field.startswith("msgstr"):
        if start:
            entry["msgstr"].append("")
        entry["msgstr"][-1] += text
    else:
        entry[field] = text if start else entry[field] + text


def without_header(entries):
    """Return the entries except the header entry, whose msgid is empty."""
    return [entry for entry in entries if entry["msgid"]]


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def po_entries():
    return parse_po(PO_FILE)


@pytest.fixture
def zh_hans(settings):
    """Serve admin pages in Simplified Chinese, and reset the active language afterwards."""
    settings.LANGUAGE_CODE = "zh-hans"
    yield
    translation.deactivate()


# Admin pages


@pytest.mark.django_db
def test_changelist_in_chinese(client, zh_hans):
    CircuitBreakerFactory(name="tripped", failure_threshold=2)
    CircuitBreakerFactory(name="held")
    CircuitBreakerFactory(name="trial")
    CircuitBreakerFactory(name="quiet")
    record_failures("tripped", 2)
    get_breaker("held").force_open(hold=True)
    get_breaker("trial").force_half_open()
    log_in(client, "superuser")

    response = client.get(changelist_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    assert (
        'data-cb-name="tripped" data-cb-field="state" class="cb-badge" data-state="open">打开<'
        in html
    )
    assert 'data-state="open">打开 · 已保持<' in html
    assert 'data-state="half_open">半开<' in html
    assert 'data-state="closed">关闭<' in html
    assert "打开 2 · 半开 1 · 关闭 1 · 保持 1" in html
    assert "<span>失败数 / 阈值</span>" in html
    assert "<span>距半开</span>" in html
    assert "<span>上次状态转换</span>" in html
    assert "秒前，运维人员强制更改" in html
    assert ">保持打开所选熔断器</option>" in html
    assert "实时状态" in html
    assert "Hold open the selected breakers" not in html


@pytest.mark.django_db
def test_live_endpoint_in_chinese(client, zh_hans):
    CircuitBreakerFactory(name="held")
    get_breaker("held").force_open(hold=True)
    log_in(client, "superuser")

    payload = client.get(live_url()).json()

    assert payload["summary"]["text"] == "打开 1 · 半开 0 · 关闭 0 · 保持 1"
    display = payload["breakers"][0]["display"]
    assert display["state"] == "打开 · 已保持"
    assert display["retry"] == "直到解除保持"
    assert display["last_transition"].endswith("秒前，运维人员强制更改")


@pytest.mark.django_db
def test_confirmation_page_in_chinese(client, zh_hans):
    row = CircuitBreakerFactory(name="payments-api")
    log_in(client, "operator")

    response = client.post(changelist_url(), {"action": "hold_open", "_selected_action": [row.pk]})
    html = response.content.decode()

    assert response.status_code == 200
    assert "你确定吗？" in html
    assert "拒绝所有调用，直到运维人员解除保持。" in html
    assert "这些熔断器处于打开状态期间，经过它们的调用都会被拒绝。" in html
    assert "<th>熔断器</th><th>状态</th><th>失败数 / 阈值</th>" in html
    assert ">原因</label>" in html
    assert 'value="是的，我确定"' in html
    assert "不，返回" in html


@pytest.mark.django_db
def test_force_message_in_chinese(client, zh_hans):
    row = CircuitBreakerFactory(name="payments-api")
    log_in(client, "operator")

    response = client.post(
        changelist_url(),
        {"action": "hold_open", "_selected_action": [row.pk], "post": "yes", "reason": "演练"},
    )

    assert response.status_code == 302
    message_texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert message_texts == ["保持打开：已对 1 个熔断器执行（payments-api）。"]


@pytest.mark.django_db
def test_change_page_in_chinese(client, zh_hans):
    row = CircuitBreakerFactory(name="payments-api", failure_threshold=3)
    record_failures("payments-api", 1)
    log_in(client, "superuser")

    html = client.get(change_url(row)).content.decode()

    assert "<h2>实时状态</h2>" in html
    assert "熔断策略" in html
    assert "重试等待时长" in html
    assert "最近事件（最新在前，最多 20 条）" in html
    assert "调用 1 次，失败 1 次" in html
    assert ">保持打开</a>" in html


# The breakers command


def run_command(*args):
    out = io.StringIO()
    with translation.override("zh-hans"):
        call_command("breakers", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def char_index_at(line, column):
    """Return the index of the character that starts at display column ``column``."""
    width = 0
    for index, char in enumerate(line):
        if width == column:
            return index
        width += display_width(char)
    raise AssertionError(f"no character starts at column {column} in {line!r}")


@pytest.mark.django_db
def test_command_table_in_chinese(make_breaker):
    make_breaker("a", failure_threshold=3).force_open(hold=True)
    make_breaker("much-longer-name", failure_threshold=3)
    make_breaker("trial").force_half_open()

    lines = run_command().splitlines()

    assert lines[0].split() == [
        "名称",
        "状态",
        "保持",
        "失败",
        "时间窗口",
        "距半开",
        "上次状态转换",
    ]
    assert lines[1].split()[:3] == ["a", "打开", "保持打开"]
    assert lines[2].split()[:2] == ["much-longer-name", "关闭"]
    assert lines[3].split()[:2] == ["trial", "半开"]
    assert lines[1].endswith("秒前，运维人员强制更改")
    assert lines[4] == "打开 1 · 半开 1 · 关闭 1"


@pytest.mark.django_db
def test_command_columns_aligned_in_chinese(make_breaker):
    make_breaker("a", failure_threshold=3).force_open(hold=True)
    make_breaker("much-longer-name", failure_threshold=3)
    header, *rows = run_command().splitlines()[:3]

    for title in ("状态", "保持", "失败", "时间窗口"):
        column = display_width(header[: header.index(title)])
        for row in rows:
            index = char_index_at(row, column)
            assert row[index] != " ", (title, row)
            assert row[index - 1] == " ", (title, row)


@pytest.mark.django_db
def test_command_action_message_in_chinese(make_breaker):
    make_breaker("payments-api")

    output = run_command("close", "payments-api")

    assert output.strip() == "熔断器 payments-api 现处于关闭状态。"


def test_command_help_in_chinese():
    with translation.override("zh-hans"):
        text = Command().create_parser("manage.py", "breakers").format_help()

    assert "显示每个熔断器的实时状态" in text
    assert "输出 JSON 文档而不是表格。" in text


# The catalogue files


def test_catalogue_fully_translated(po_entries):
    header = po_entries[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    for entry in without_header(po_entries):
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert all(entry["msgstr"]), entry["msgid"]
        if entry["msgid_plural"]:
            assert len(entry["msgstr"]) == 1, entry["msgid"]


def test_catalogue_keeps_placeholders(po_entries):
    for entry in without_header(po_entries):
        expected = placeholders(entry["msgid"])
        for translated in entry["msgstr"]:
            assert placeholders(translated) == expected, entry["msgid"]


def test_compiled_catalogue_matches_po(po_entries):
    with MO_FILE.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in without_header(po_entries):
        if entry["msgid_plural"]:
            expected[(entry["msgid"], 0)] = entry["msgstr"][0]
        else:
            expected[entry["msgid"]] = entry["msgstr"][0]
    compiled = {key: value for key, value in catalog.items() if key != ""}
    assert compiled == expected, "django.mo is stale: run compilemessages (docs/translation.md)"


def test_msgfmt_check_passes():
    assert shutil.which("msgfmt"), GETTEXT_MISSING
    result = subprocess.run(
        ["msgfmt", "--check", "--output-file=/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_catalogue_covers_marked_strings(po_entries, tmp_path, monkeypatch):
    assert shutil.which("xgettext"), GETTEXT_MISSING
    copy = tmp_path / "circuitbreaker_app"
    shutil.copytree(APP_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)

    call_command("makemessages", locale=["zh_Hans"], verbosity=0)

    fresh = {
        entry["msgid"] for entry in without_header(parse_po(copy / PO_FILE.relative_to(APP_DIR)))
    }
    shipped = {entry["msgid"] for entry in without_header(po_entries)}
    missing = sorted(fresh - shipped)
    stale = sorted(shipped - fresh)
    assert not missing, f"not in django.po, run makemessages (docs/translation.md): {missing}"
    assert not stale, f"no longer in the source, run makemessages (docs/translation.md): {stale}"


# The built wheel

NOT_PACKAGED = (".git", ".venv*", "build", "*.egg-info", "__pycache__", "*.sqlite3", ".*_cache")

# Runs against the wheel's copy of the app, with no database and no cache.
INSTALLED_APP_SCRIPT = """
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "circuitbreaker_app"],
    LANGUAGE_CODE="zh-hans",
)
django.setup()

import circuitbreaker_app
from circuitbreaker_app.states import State

print(circuitbreaker_app.__file__)
print(State.HALF_OPEN.label)
"""


def test_wheel_ships_compiled_catalogue(tmp_path):
    source, wheel_dir, unpacked = tmp_path / "source", tmp_path / "wheel", tmp_path / "site"
    # pip builds in the source tree, so a copy keeps setuptools' build/ folder
    # and its stale files out of the checkout.
    shutil.copytree(PROJECT_DIR, source, ignore=shutil.ignore_patterns(*NOT_PACKAGED))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            wheel_dir,
            source,
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheel_dir.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("circuitbreaker_app/locale/zh_Hans/LC_MESSAGES/django.mo")
        assert packaged == MO_FILE.read_bytes()
        archive.extractall(unpacked)

    result = subprocess.run(
        [sys.executable, "-c", INSTALLED_APP_SCRIPT],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        check=True,
    )

    module_file, label = result.stdout.splitlines()
    assert Path(module_file).is_relative_to(unpacked)
    assert label == "半开"
