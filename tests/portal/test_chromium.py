"""The portal in headless Chromium at a phone's width: sign in by link, read, Accept.

Uses Debian's chromium and chromium-driver packages through Selenium. Chromium treats
http://127.0.0.1 as a secure context, so it stores and sends the portal's Secure cookies
over the tests' plain HTTP.
"""

import shutil
from pathlib import Path

import pytest

from bot.slackdouble.payloads import new_ts
from tests.portal.support import ANN, issue_link
from tests.portal.test_pages import deliver_to_email, section_texts, thread_card_of
from tests.support import settle_outbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver), which provide /usr/bin/chromium and /usr/bin/chromedriver",
)

PHONE_WIDTH, PHONE_HEIGHT = 390, 844


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    # Without the networking flags Chromium tries to reach Google's servers at start-up.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={PHONE_WIDTH},{PHONE_HEIGHT}",
    ):
        options.add_argument(flag)
    # An explicit driver path keeps Selenium Manager from looking for a driver online.
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def test_phone_reads_and_accepts(bot, slack, browser, tmp_path):
    from selenium.webdriver.common.by import By

    root = new_ts()
    delivery, _recipient = deliver_to_email(bot, slack, root, ANN)
    raw = issue_link(bot.session_scope, ANN)
    link = f"{bot.server.url}/portal/signin/{raw}?next=/portal/deliveries/{delivery.id}"

    browser.get(link)

    assert browser.current_url == f"{bot.server.url}/portal/deliveries/{delivery.id}"
    assert raw not in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Casey Candidate"
    card = browser.find_element(By.CSS_SELECTOR, "article.card").text
    assert "Qualified" in card
    assert "Strong SQL & dbt" in card
    assert "Delivered by Ann Agent" in card
    transcript = browser.find_element(By.CSS_SELECTOR, "pre.transcript")
    assert transcript.is_displayed()
    assert "I know SQL and dbt" in transcript.text
    assert "Ask about the notice period" in transcript.text
    [cookie] = [c for c in browser.get_cookies() if c["name"] == "caretbot_session"]
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/portal"
    # The stylesheet loaded despite the CSP, and nothing is wider than the phone's screen.
    width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return window.innerWidth")
    assert width <= viewport
    font = browser.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font
    assert browser.save_screenshot(str(tmp_path / "delivery.png"))

    browser.find_element(By.XPATH, "//button[text()='Accept']").click()
    settle_outbox(bot)

    assert browser.current_url == f"{bot.server.url}/portal/deliveries/{delivery.id}"
    accepted = browser.find_element(By.CSS_SELECTOR, ".accepted").text
    assert accepted.startswith("You accepted this hand-off on")
    assert browser.find_elements(By.XPATH, "//button[text()='Accept']") == []
    [update] = slack.calls_to("chat.update")
    assert update.args["ts"] == thread_card_of(slack, root).response["ts"]
    assert any(
        text.startswith(f"Accepted by {ANN}") for text in section_texts(update.args["blocks"])
    )

    browser.get(f"{bot.server.url}/portal/deliveries")
    items = browser.find_elements(By.CSS_SELECTOR, "ul.deliveries li")
    assert [item.text.splitlines()[0] for item in items] == ["Casey Candidate"]
