"""The dashboard in headless Chromium against intake running as a process: real figures drawn, screenshots kept.

Chromium is Debian's ``chromium`` package (``make browser`` installs it); without it this test
fails, it is never skipped. Screenshots go to test-artifacts/ (git-ignored).
"""

import asyncio
import os
import struct
import subprocess
from pathlib import Path

import asyncpg
import pytest

from tests.dashboard_seed import Seeded, seed_month

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
YEAR = 2002  # the data test uses 2001
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--virtual-time-budget=10000",
]  # fmt: skip


@pytest.fixture(scope="module")
async def seeded(pool: asyncpg.Pool) -> Seeded:
    return await seed_month(pool, YEAR)


def chromium_binary() -> str:
    """Debian's Chromium, or a failure that says how to get it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the dashboard's browser test needs Debian's chromium package. "
            "Run `make browser` as root (apt-get install chromium fonts-thai-tlwg), then run the tests again."
        )
    return str(CHROMIUM)


async def chromium(url: str, profile: Path, *flags: str) -> str:
    """Run headless Chromium on ``url`` until its page is idle; return what it printed."""
    command = [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *flags, url]
    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def page_url(base: str, seeded: Seeded, token: str, *fragment: str) -> str:
    return f"{base}/dashboard?from={seeded.first_day}&to={seeded.last_day}#" + "&".join([f"key={token}", *fragment])


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


async def test_the_page_draws_the_seeded_figures_in_thai(
    intake_url: str, seeded: Seeded, admin: dict[str, str], tmp_path: Path
) -> None:
    token = admin["Authorization"].removeprefix("Bearer ")
    dom = await chromium(page_url(intake_url, seeded, token), tmp_path / "profile", "--dump-dom")
    assert 'data-state="ready"' in dom, dom[-3000:]
    assert '<html lang="th">' in dom
    for figure, value in [("needs", 8), ("routed", 8), ("open", 3), ("overdue", 3), ("dead_letters", 3)]:
        assert f'data-figure="{figure}"><span class="kpi-value">{value}</span>' in dom, figure
    for text in ["ศรีสะเกษ", "กรุงเทพมหานคร", "สำนักงานจัดหางานจังหวัด", "สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด",
                 "ค่าจ้าง / เลิกจ้างไม่เป็นธรรม", "คัดกรองโดยเจ้าหน้าที่", "ไม่รับเรื่องภายในกำหนด", "มี.ค. 2545"]:  # fmt: skip
        assert text in dom, text
    # Six bar charts (types, provinces, agencies, two of durations, dead letters): 28 SVG bars in all.
    assert dom.count('<div class="bars ') == 6
    assert dom.count('<svg class="bar"') == 7 + 4 + 5 + 2 * 5 + 2
    assert dom.count('<rect class="seg-') >= 8  # the agencies' cases, stacked by status
    assert dom.count('class="tile ') == 77
    assert '<g class="tile shade-5" data-province="33">' in dom  # the province with the most needs
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in dom  # a dead letter's error is text, never markup
    assert "<script>alert" not in dom
    assert "ไม่มีโมเดลทดลองทำงานคู่กันอยู่" in dom  # the shadow panel, with no shadow model running
    assert token not in dom


async def test_the_english_switch_and_the_screenshots(
    intake_url: str, seeded: Seeded, admin: dict[str, str], tmp_path: Path
) -> None:
    token = admin["Authorization"].removeprefix("Bearer ")
    dom = await chromium(page_url(intake_url, seeded, token, "lang=en"), tmp_path / "en", "--dump-dom")
    assert '<html lang="en">' in dom
    for text in ["Provincial Employment Office (DOE)", "Si Sa Ket", "Unfair labour practice", "Not accepted in time"]:
        assert text in dom, text

    ARTIFACTS.mkdir(exist_ok=True)
    shots = [("dashboard.png", (390, 1400), "th"), ("dashboard-desktop.png", (1280, 900), "th"),
             ("dashboard-en.png", (390, 1400), "en")]  # fmt: skip
    for name, (width, height), language in shots:
        path = ARTIFACTS / name
        path.unlink(missing_ok=True)
        await chromium(
            page_url(intake_url, seeded, token, f"lang={language}"), tmp_path / name,
            f"--screenshot={path}", f"--window-size={width},{height}",
        )  # fmt: skip
        assert png_size(path) == (width, height), name
        assert path.stat().st_size > 20_000, f"{name} looks blank"


async def test_a_key_that_is_not_an_admins_is_refused_on_the_page(
    intake_url: str, seeded: Seeded, volunteer_app: dict[str, str], tmp_path: Path
) -> None:
    token = volunteer_app["Authorization"].removeprefix("Bearer ")
    dom = await chromium(page_url(intake_url, seeded, token), tmp_path / "profile", "--dump-dom")
    assert 'data-state="need-key"' in dom
    assert "คีย์นี้ไม่ใช่คีย์ของผู้ดูแลระบบ" in dom
    assert 'id="figures" hidden' in dom
