"""The chat at phone width (390x844) and on a laptop (1280x900): every header button on
screen and working, the slide-in list closed by its backdrop or Esc, "New chat" and search
in place while the list scrolls, and Rename's field focused with its text selected."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session

from tests.e2e.accounts import Account
from tests.e2e.barriers import transitions_done
from tests.e2e.chat_page import open_chat
from tests.e2e.conftest import ARTIFACTS, ServedApp

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
SIZES = pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
LONG_TITLE = "A conversation whose title is far too long to fit in a phone's header bar"
LIST_OPEN = ".sidebar-wrap.open"


def seed_conversations(app: ServedApp, owner: str, titles: list[str]) -> list[str]:
    """Conversations with these titles (and no turns yet), straight into the database."""
    from ai_chat.store.models import Conversation

    engine = sa.create_engine(app.db_url)
    ids: list[str] = []
    try:
        with Session(engine) as session:
            for title in titles:
                conversation = Conversation(owner=owner, title=title)
                session.add(conversation)
                session.flush()
                ids.append(conversation.id)
            session.commit()
    finally:
        engine.dispose()
    return ids


def _on_screen(locator: Locator, size: dict[str, int]) -> None:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    assert box["width"] > 0 and box["height"] > 0
    assert 0 <= box["x"] and box["x"] + box["width"] <= size["width"], (locator, box)
    assert 0 <= box["y"] and box["y"] + box["height"] <= size["height"], (locator, box)


def _header_controls(page: Page) -> list[str]:
    """The names of the header's visible buttons and links, each checked on screen."""
    controls = page.locator(".chat-header").locator("button:visible, a:visible")
    names = []
    for index in range(controls.count()):
        control = controls.nth(index)
        names.append(control.get_attribute("aria-label") or control.inner_text().strip())
    return names


def _more(page: Page) -> Locator:
    expect(page.get_by_role("menu")).to_have_count(0)  # the last one has closed
    page.get_by_role("button", name="More actions", exact=True).click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    return menu


def _is_dark(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.classList.contains('dark')"))


def test_phone_header_actions_are_in_one_menu_and_all_work(
    page: Page, served_app: ServedApp, user: Account
):
    page.set_viewport_size(PHONE)
    (cid,) = seed_conversations(served_app, user.user_id, [LONG_TITLE])
    open_chat(page, served_app, f"/c/{cid}")
    header = page.locator(".chat-header")
    assert _header_controls(page) == ["Show conversations", "More actions"]
    for control in header.locator("button:visible, a:visible").all():
        _on_screen(control, PHONE)
    title = page.locator(".chat-title")
    _on_screen(title, PHONE)
    # The title has the width the two buttons leave, and ends in an ellipsis.
    assert title.bounding_box()["width"] >= 250
    assert title.evaluate("el => el.scrollWidth > el.clientWidth")
    page.screenshot(path=str(ARTIFACTS / "phone-header.png"))

    page.get_by_role("button", name="Show conversations", exact=True).click()
    expect(page.locator(LIST_OPEN)).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(LIST_OPEN)).to_have_count(0)

    menu = _more(page)
    for item in menu.get_by_role("menuitem").all():
        _on_screen(item, PHONE)
    menu.get_by_role("menuitem", name="Conversation settings").click()
    dialog = page.get_by_role("dialog", name="Conversation settings")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    with page.expect_download() as download:
        _more(page).get_by_role("menuitem", name="Export as Markdown").click()
    exported = open(download.value.path(), encoding="utf-8").read()
    assert LONG_TITLE in exported

    dark = _is_dark(page)
    _more(page).get_by_role("menuitem", name=re.compile("^(Dark|Light) theme$")).click()
    page.wait_for_function(
        f"document.documentElement.classList.contains('dark') === {str(not dark).lower()}"
    )

    _more(page).get_by_role("menuitem", name=re.compile(re.escape(user.username))).click()
    expect(page).to_have_url(re.compile(r"/account$"))


def test_laptop_header_shows_its_actions_and_they_work(
    page: Page, served_app: ServedApp, user: Account
):
    page.set_viewport_size(LAPTOP)
    (cid,) = seed_conversations(served_app, user.user_id, [LONG_TITLE])
    open_chat(page, served_app, f"/c/{cid}")
    names = _header_controls(page)
    for name in ("Conversation settings", "Export conversation", "Toggle dark mode"):
        assert name in names
    assert "More actions" not in names and "Show conversations" not in names
    for control in page.locator(".chat-header").locator("button:visible, a:visible").all():
        _on_screen(control, LAPTOP)
    expect(page.locator(".chat-title")).to_have_text(LONG_TITLE)

    page.get_by_role("button", name="Conversation settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Conversation settings")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Export conversation", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Export as JSON", exact=True).click()
    assert LONG_TITLE in open(download.value.path(), encoding="utf-8").read()
    dark = _is_dark(page)
    page.get_by_role("button", name="Toggle dark mode", exact=True).click()
    page.wait_for_function(
        f"document.documentElement.classList.contains('dark') === {str(not dark).lower()}"
    )


def test_the_slide_in_list_closes_by_its_backdrop_and_by_esc(
    page: Page, served_app: ServedApp, user: Account
):
    page.set_viewport_size(PHONE)
    (cid,) = seed_conversations(served_app, user.user_id, ["Backdrop test"])
    open_chat(page, served_app, f"/c/{cid}")
    show = page.get_by_role("button", name="Show conversations", exact=True)
    nav = page.get_by_role("navigation", name="Conversations", exact=True)
    backdrop = page.locator(".sidebar-backdrop")

    show.click()
    expect(page.locator(LIST_OPEN)).to_have_count(1)
    expect(backdrop).to_be_visible()
    expect(page.get_by_role("button", name="Hide conversations", exact=True)).to_be_focused()
    page.wait_for_function(  # slid in
        "document.querySelector('.sidebar-wrap').getBoundingClientRect().left >= 0"
    )
    list_right = nav.bounding_box()["x"] + nav.bounding_box()["width"]
    assert list_right < PHONE["width"] - 40, "room beside the list to tap"
    page.screenshot(path=str(ARTIFACTS / "phone-list-backdrop.png"))
    # What a tap beside the list lands on is the backdrop, not the chat under it.
    x, y = (list_right + PHONE["width"]) / 2, PHONE["height"] / 2
    assert page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).classList.contains('sidebar-backdrop')",
        [x, y],
    )
    page.mouse.click(x, y)
    expect(page.locator(LIST_OPEN)).to_have_count(0)
    expect(backdrop).to_have_count(0)
    expect(show).to_be_focused()

    show.click()
    expect(page.locator(LIST_OPEN)).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(LIST_OPEN)).to_have_count(0)
    expect(show).to_be_focused()  # the keyboard user is back where the list came from


@SIZES
def test_new_chat_and_search_stay_put_while_the_list_scrolls(
    page: Page, served_app: ServedApp, user: Account, size: dict[str, int]
):
    page.set_viewport_size(size)
    word = uuid.uuid4().hex[:6]
    ids = seed_conversations(served_app, user.user_id, [f"Chat {i} {word}" for i in range(40)])
    open_chat(page, served_app, f"/c/{ids[0]}")
    if size is PHONE:
        page.get_by_role("button", name="Show conversations", exact=True).click()
        expect(page.locator(LIST_OPEN)).to_have_count(1)
    nav = page.get_by_role("navigation", name="Conversations", exact=True)
    expect(nav.locator(".conv-item")).to_have_count(40)
    scroller = page.locator(".sidebar-wrap")
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    assert scroller.evaluate("el => el.scrollTop") > 300, "the list scrolled"
    top = scroller.bounding_box()["y"]
    new_chat = page.get_by_role("button", name="New chat", exact=True)
    search = nav.get_by_role("searchbox", name="Search conversations", exact=True)
    for control in (new_chat, search):
        box = control.bounding_box()
        assert top <= box["y"] < top + 140, box  # still at the top of the list
        # On top of the items scrolled under it: a tap reaches the control itself.
        centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
        assert control.evaluate(
            "(el, [x, y]) => el.contains(document.elementFromPoint(x, y))", centre
        )
    search.fill(f"Chat 7 {word}")
    expect(nav.locator(".conv-item")).to_have_count(1)
    new_chat.click()
    expect(page).to_have_url(re.compile(r"/$"))


@SIZES
def test_rename_focuses_its_field_with_the_title_selected(
    page: Page, served_app: ServedApp, user: Account, size: dict[str, int]
):
    page.set_viewport_size(size)
    old = f"Old title {uuid.uuid4().hex[:6]}"
    (cid,) = seed_conversations(served_app, user.user_id, [old])
    open_chat(page, served_app, f"/c/{cid}")
    if size is PHONE:
        page.get_by_role("button", name="Show conversations", exact=True).click()
    nav = page.get_by_role("navigation", name="Conversations", exact=True)
    nav.get_by_role("button", name=f"Actions for {old}", exact=True).click()
    page.get_by_role("menuitem", name="Rename", exact=True).click()
    field = page.get_by_role("textbox", name="New title", exact=True)
    expect(field).to_be_focused()
    expect(field).to_have_value(old)
    expect(page.get_by_role("menu")).to_have_count(0)  # closed: it gave no focus back
    transitions_done(page)
    expect(field).to_be_focused()
    assert field.evaluate("f => f.selectionStart === 0 && f.selectionEnd === f.value.length")
    new = f"New name {uuid.uuid4().hex[:6]}"
    page.keyboard.type(new)  # replaces the selected title
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name=new, exact=True)).to_have_count(1)


def test_account_page_top_bar_fits_a_phone(page: Page, served_app: ServedApp, user: Account):
    page.set_viewport_size(PHONE)
    page.goto(served_app.url("/account"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    controls = page.locator("a:visible, button:visible").filter(
        has_text=re.compile(rf"Chats|{re.escape(user.username)}|Sign out")
    )
    expect(controls).to_have_count(3)
    for control in controls.all():
        _on_screen(control, PHONE)


def test_phone_menu_signs_out(page: Page, served_app: ServedApp):
    page.set_viewport_size(PHONE)
    open_chat(page, served_app)
    _more(page).get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin"))
    page.goto(served_app.url("/"))  # the session is over: back to signing in
    expect(page).to_have_url(re.compile(r"/signin"))
