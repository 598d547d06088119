"""Driving the console like a person: type into labelled fields, press keys, click buttons,
read what the page says. One :class:`Console` per test, over the package's browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 20


class Console:
    """*mint* turns a demo account label (``ESSC-DEMO-OPERATOR-08``) into a fresh signed
    e-SSC code, what the staff member's phone shows (``RunningBackend.essc_code``)."""

    def __init__(self, driver, base_url: str, shots: Path, mint: Callable[[str], str]):
        self.driver = driver
        self.base = base_url
        self.shots = shots
        self.mint = mint

    # --- navigation ------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base)

    def sign_out_all(self) -> None:
        self.open("/console/signin")
        self.driver.delete_all_cookies()

    def sign_in_essc(self, label: str) -> None:
        """Type a fresh code of the demo account *label* into the focused field and press
        Enter — what a USB scanner does with the code on the phone."""
        self.sign_out_all()
        self.open("/console/signin")
        # autofocus is applied once the page has loaded (a moment later on a busy machine)
        try:
            WebDriverWait(self.driver, WAIT_SECONDS).until(
                lambda d: d.switch_to.active_element.get_attribute("id") == "essc-code"
            )
        except TimeoutException:
            raise AssertionError("the code field does not get the focus") from None
        field = self.driver.switch_to.active_element
        field.send_keys(self.mint(label), Keys.ENTER)
        self.wait_signed_in()

    def sign_in_password(self, login: str, password: str, totp: str = "") -> None:
        self.sign_out_all()
        self.open("/console/signin")
        self.fill("login", login)
        self.fill("password", password)
        if totp:
            self.fill("totp", totp)
        self.by_id("totp").send_keys(Keys.ENTER)

    # --- reading ---------------------------------------------------------------------------

    def by_id(self, element_id: str):
        return self.driver.find_element(By.ID, element_id)

    def css(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector: str = "main") -> str:
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def wait_signed_in(self) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            lambda d: self.path() in ("/console/", "/console/password")
        )

    def wait_path(self, path: str) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(lambda d: self.path().startswith(path))

    def wait_text(self, selector: str, text: str) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            ec.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text)
        )

    # --- acting ----------------------------------------------------------------------------

    def fill(self, element_id: str, value: str) -> None:
        field = self.by_id(element_id)
        field.clear()
        field.send_keys(value)

    def choose(self, name: str, value: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').click()

    def press(self, label: str) -> None:
        """Click the visible button whose text is *label*."""
        for button in self.driver.find_elements(By.TAG_NAME, "button"):
            if button.text.strip() == label and button.is_displayed():
                button.click()
                return
        raise AssertionError(f"no button {label!r} on {self.path()}")

    def follow(self, text: str) -> None:
        self.driver.find_element(By.LINK_TEXT, text).click()

    def shot(self, name: str) -> Path:
        """A full-page screenshot (the window grown to the page's height) as *name*.png."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, max(768, min(int(height) + 140, 4000)))
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, 768)
        return path
