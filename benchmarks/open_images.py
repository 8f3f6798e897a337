"""Opening a conversation with 20 photos, in a real browser (issue 23: "opening a conversation
with 20 images stays fast").

    .venv/bin/python -m benchmarks.open_images [--photos 20] [--opens 5]

The app as `make run` serves it (start script, one worker, SQLite, the built-in simulator);
one account sends one message carrying `--photos` camera-sized JPEGs through the paperclip,
then a fresh tab opens that conversation `--opens` times. Per open it records:

- the time from navigation to every thumbnail decoded (`img.complete` with a width), in a
  fresh browser context (nothing cached);
- the bytes the socket brought (every frame received until then: the hydrate and pushes);
- the bytes of the thumbnails (`/_files/<id>/thumb` responses) against the photos' own bytes;

and, while a reply then streams in that conversation, the largest push frame (attachment bytes
must stay out of a streaming reply's pushes). Needs Debian's chromium (`make chromium`).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from playwright.sync_api import Page, sync_playwright

from benchmarks.accounts import AccountPool
from benchmarks.servers import app_server
from tests.support.servers import ROOT

CHROMIUM = "/usr/bin/chromium"
THUMBS = ".bubble[data-role=user] img"


def photo(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A camera-like JPEG: noise, a gradient and shapes compress about like a photo."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    tint = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    img = Image.blend(Image.blend(base, noise, 0.5), tint, 0.3)
    draw = ImageDraw.Draw(img)  # shapes at every scale: detail a preview keeps
    for _ in range(300):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.choice((4, 12, 40, 120))
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _socket_bytes(page: Page) -> list[int]:
    sizes: list[int] = []

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda frame: sizes.append(len(frame)))

    page.on("websocket", on_socket)
    return sizes


def _thumb_bytes(page: Page) -> list[int]:
    sizes: list[int] = []

    def on_response(response: Any) -> None:
        if "/_files/" in response.url and response.url.endswith("/thumb"):
            sizes.append(len(response.body()))

    page.on("response", on_response)
    return sizes


def _all_decoded(page: Page, count: int) -> None:
    page.wait_for_function(
        f"""() => {{ const imgs = [...document.querySelectorAll('{THUMBS}')];
        return imgs.length >= {count} && imgs.every((i) => i.complete && i.naturalWidth > 0); }}""",
        timeout=60_000,
    )


def measure(base: str, cookie: str, photos: int, opens: int, files_dir: Path) -> dict[str, Any]:
    paths = []
    for i in range(photos):
        path = files_dir / f"photo-{i:02d}.jpg"
        path.write_bytes(photo(i))
        paths.append(path)
    name, value = cookie.split("=", 1)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": name, "value": value, "url": base}])
        page = context.new_page()
        page.goto(base + "/")
        page.locator(".attach-input").set_input_files([str(p) for p in paths])
        page.wait_for_function(
            f"document.querySelectorAll('#attach-tray .attach-chip[data-attachment-id]').length"
            f" >= {photos}",
            timeout=120_000,
        )
        box = page.get_by_role("textbox", name="Message")
        box.fill("What is in these photos? [[sim tokens=20 tps=200 ttft=0]]")
        box.press("Enter")
        page.wait_for_url("**/c/*", timeout=60_000)
        page.wait_for_selector(".bubble[data-role=assistant][data-status=complete]", timeout=60_000)
        url = page.url
        page.close()

        times, socket_totals, thumb_totals = [], [], []
        for _ in range(opens):  # a cold browser each time: nothing cached
            cold = browser.new_context(viewport={"width": 1280, "height": 900})
            cold.add_cookies([{"name": name, "value": value, "url": base}])
            tab = cold.new_page()
            frames, thumbs = _socket_bytes(tab), _thumb_bytes(tab)
            started = time.perf_counter()
            tab.goto(url)
            _all_decoded(tab, photos)
            times.append(time.perf_counter() - started)
            socket_totals.append(sum(frames))
            thumb_totals.append(sum(thumbs))
            cold.close()

        tab = context.new_page()
        frames = _socket_bytes(tab)
        tab.goto(url)
        _all_decoded(tab, photos)
        opened = len(frames)
        tab.get_by_role("textbox", name="Message").fill(
            "And again, longer [[sim tokens=400 tps=200 ttft=0]]"
        )
        tab.get_by_role("textbox", name="Message").press("Enter")
        tab.wait_for_function(
            "document.querySelectorAll('.bubble[data-role=assistant][data-status=complete]')"
            ".length >= 2",
            timeout=60_000,
        )
        streaming = frames[opened:]
        browser.close()
    return {
        "photos": photos,
        "photo_bytes": sum(p.stat().st_size for p in paths),
        "open_s_median": statistics.median(times),
        "open_s_max": max(times),
        "socket_bytes_median": statistics.median(socket_totals),
        "thumb_bytes_median": statistics.median(thumb_totals),
        "stream_frames": len(streaming),
        "stream_frame_max_bytes": max(streaming, default=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.open_images")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "results" / "open_images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'open_images.db'}"
        with app_server("open-images", out, "", db_url) as (port, _proc):
            (account,) = asyncio.run(AccountPool(db_url, port).take(1))
            result = measure(
                f"http://127.0.0.1:{port}", account.cookie, args.photos, args.opens, Path(tmp)
            )
    for key, value in result.items():
        print(f"{key:>24}: {value:,.3f}" if isinstance(value, float) else f"{key:>24}: {value:,}")


if __name__ == "__main__":
    main()
