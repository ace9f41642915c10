"""The registration page in a real browser: Debian's headless Chromium driven by selenium.

A person's way through the form (choose the prefecture, then the municipality, type a
full-width ＠), with and without JavaScript, and screenshots of the filled form and of the
error state on a desktop (1280×900) and a phone (390×844) that must be real pictures.
Nothing is downloaded: the browser and its driver are the Debian packages
(`apt-get install chromium chromium-driver fonts-noto-cjk`).
"""

from __future__ import annotations

import base64
import shutil
import struct
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import SessionFactory
from models import Application
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="headless browser tests need Debian's chromium and chromium-driver "
    "(apt-get install chromium chromium-driver fonts-noto-cjk)",
)

if CHROMIUM.exists() and CHROMEDRIVER.exists():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait

DESKTOP = (1280, 900)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="kyoso-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        "--force-color-profile=srgb",
        "--lang=ja-JP",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: WebDriver, kyoso: RunningKyoso) -> Iterator[WebDriver]:
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    _viewport(browser, DESKTOP)
    browser.get(kyoso.base_url + "/apply/rules")  # an origin to clear cookies for
    browser.delete_all_cookies()
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def _viewport(driver: WebDriver, size: tuple[int, int]) -> None:
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _type(driver: WebDriver, field_id: str, text: str) -> None:
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def _choose(driver: WebDriver, field_id: str, visible_text: str) -> None:
    Select(driver.find_element(By.ID, field_id)).select_by_visible_text(visible_text)


def _choose_prefecture_and_wait(driver: WebDriver, prefecture: str, *, javascript: bool) -> None:
    """With JavaScript the page asks for the list by itself; without, a person presses the
    button. Either way the page comes back from the server with the list."""
    old = driver.find_element(By.ID, "lg_code")
    _choose(driver, "prefecture", prefecture)
    if not javascript:
        driver.find_element(By.ID, "lookup").click()
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.find_element(By.ID, "lg_code") != old
            and len(Select(d.find_element(By.ID, "lg_code")).options) > 1
        )
    )


def _fill_like_a_person(driver: WebDriver, base_url: str, email: str, *, javascript: bool) -> None:
    driver.get(base_url + "/apply")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    _type(driver, "name", "山田 花子")
    _type(driver, "email", email)
    _choose_prefecture_and_wait(driver, "北海道", javascript=javascript)
    # what was typed before the list came back is still there
    assert driver.find_element(By.ID, "name").get_attribute("value") == "山田 花子"
    assert driver.find_element(By.ID, "email").get_attribute("value") == email
    _choose(driver, "lg_code", "札幌市（011002）")
    _type(driver, "department", "総務局 情報システム部")
    rules = driver.find_element(By.ID, "rules")
    if not rules.is_selected():
        driver.find_element(By.CSS_SELECTOR, "label[for=rules]").click()
    assert rules.is_selected()


def _submit(driver: WebDriver) -> None:
    driver.find_element(By.ID, "submit").click()
    WebDriverWait(driver, 10).until(
        lambda d: (
            "/apply/done/" in d.current_url
            or d.find_elements(By.ID, "error-summary")
            or d.find_elements(By.ID, "notice")
        )
    )


def _screenshot(driver: WebDriver, size: tuple[int, int], path: Path, scroll_to: str) -> bytes:
    _viewport(driver, size)
    driver.execute_script(
        "var e = document.getElementById(arguments[0]);"
        "if (e) { (e.closest('.field') || e).scrollIntoView(true); window.scrollBy(0, -8); }",
        scroll_to,
    )
    png = driver.get_screenshot_as_png()
    path.write_bytes(png)
    # the whole page as well, for a person looking at the artefacts (not asserted)
    full = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.with_name(path.stem + "-full.png").write_bytes(base64.b64decode(full["data"]))
    return png


def _applications(session_factory: SessionFactory) -> list[Application]:
    with session_factory() as session:
        return list(session.scalars(select(Application)))


def test_apply_with_javascript(
    page: WebDriver,
    kyoso: RunningKyoso,
    session_factory: SessionFactory,
    emulator: SlackEmulator,
    tmp_path: Path,
) -> None:
    _fill_like_a_person(page, kyoso.base_url, "hanako.yamada＠city.sapporo.lg.jp", javascript=True)
    shots = {
        "filled-desktop": _screenshot(page, DESKTOP, tmp_path / "filled-desktop.png", "name"),
        "filled-phone": _screenshot(page, PHONE, tmp_path / "filled-phone.png", "name"),
    }
    for name, png in shots.items():
        _assert_real_picture(png, DESKTOP if "desktop" in name else PHONE, name)
    _viewport(page, DESKTOP)
    _submit(page)

    assert "/apply/done/" in page.current_url
    body = page.find_element(By.TAG_NAME, "body").text
    assert "申請を受け付けました" in body and "3開庁日以内" in body
    public_id = page.find_element(By.ID, "public-id").text
    [application] = _applications(session_factory)
    assert application.public_id == public_id
    assert application.email == "hanako.yamada＠city.sapporo.lg.jp"  # as typed
    assert application.email_normalized == "hanako.yamada@city.sapporo.lg.jp"
    _assert_real_picture(
        _screenshot(page, PHONE, tmp_path / "done-phone.png", "main"), PHONE, "done-phone"
    )
    wait_for(lambda: emulator.messages("C0REVIEW"))

    # reloading the done page is harmless
    page.refresh()
    assert len(_applications(session_factory)) == 1


def test_apply_without_javascript(
    page: WebDriver, kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    page.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    _fill_like_a_person(page, kyoso.base_url, "jiro.sato@city.sapporo.lg.jp", javascript=False)
    _submit(page)
    assert "/apply/done/" in page.current_url
    assert len(_applications(session_factory)) == 1


def test_choosing_a_national_agency_shows_its_list(
    page: WebDriver, kyoso: RunningKyoso, tmp_path: Path
) -> None:
    """CSS alone (`:checked`) swaps the organisation fields: no JavaScript needed."""
    page.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    page.get(kyoso.base_url + "/apply")
    assert page.find_element(By.ID, "prefecture").is_displayed()
    assert not page.find_element(By.ID, "agency").is_displayed()
    page.find_element(By.CSS_SELECTOR, "label[for=org_kind_agency]").click()
    assert page.find_element(By.ID, "agency").is_displayed()
    assert not page.find_element(By.ID, "prefecture").is_displayed()
    _choose(page, "agency", "デジタル庁")
    # the full rules, linked from the form
    page.get(kyoso.base_url + "/apply/rules")
    assert "機密性3" in page.find_element(By.TAG_NAME, "main").text
    png = _screenshot(page, PHONE, tmp_path / "rules-phone.png", "main")
    _assert_real_picture(png, PHONE, "rules-phone")


def test_the_error_state(
    page: WebDriver, kyoso: RunningKyoso, session_factory: SessionFactory, tmp_path: Path
) -> None:
    # a look-alike domain: refused, shown again with the reason
    _fill_like_a_person(
        page, kyoso.base_url, "hanako＠city.sapporo.lg.jp.example.com", javascript=True
    )
    _submit(page)
    summary = page.find_element(By.ID, "error-summary")
    assert "入力内容をご確認ください" in summary.text
    assert "lg.jp" in summary.text and "似ていますが" in summary.text
    # the summary has the focus, and links to the field
    assert page.switch_to.active_element == summary
    assert page.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"
    assert page.find_element(By.ID, "name").get_attribute("value") == "山田 花子"
    assert _applications(session_factory) == []
    for name, size in (("error-desktop", DESKTOP), ("error-phone", PHONE)):
        png = _screenshot(page, size, tmp_path / f"{name}.png", "error-summary")
        _assert_real_picture(png, size, name)

    # missing fields, on a phone
    _viewport(page, PHONE)
    page.get(kyoso.base_url + "/apply?lang=en")
    _submit(page)
    summary = page.find_element(By.ID, "error-summary")
    assert "Please enter your name." in summary.text
    assert "tick the box to agree" in summary.text
    png = _screenshot(page, PHONE, tmp_path / "error-phone-en.png", "error-summary")
    _assert_real_picture(png, PHONE, "error-phone-en")
    # the page fits the phone: nothing wider than the screen
    width = page.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0]
    assert _applications(session_factory) == []


# --------------------------------------------------------------------------------------
# PNG, read with zlib only


def _png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and every pixel (as bytes) of an 8-bit, non-interlaced RGB(A) PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += data
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    offset = 0
    for _ in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1 : offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    pixels = [bytes(row[x : x + 3]) for row in rows for x in range(0, stride, channels)]
    return width, height, pixels


def _assert_real_picture(png: bytes, size: tuple[int, int], name: str) -> None:
    width, height, pixels = _png_pixels(png)
    assert (width, height) == size, f"{name}: {width}×{height}, expected {size[0]}×{size[1]}"
    colours = Counter(pixels)
    assert len(colours) > 64, f"{name}: only {len(colours)} colours: a blank page?"
    most_common = colours.most_common(1)[0][1]
    assert most_common < 0.9 * len(pixels), f"{name}: one colour covers almost everything"
    # text was drawn: dark pixels (glyphs) exist, not only the page's backgrounds
    dark = sum(count for rgb, count in colours.items() if sum(rgb) < 200)
    assert dark > 500, f"{name}: hardly any dark pixels: no text rendered?"
