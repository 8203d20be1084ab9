"""Screenshots of the back office for the README: the workbench and the organisation tree with one node expanded.

Needs a running server with the demo data (`make run`) and Debian's Chromium (`apt-get install chromium
fonts-noto-cjk`); Playwright only drives it, no browser is downloaded.

    .venv/bin/python scripts/screenshots.py                      # server at http://127.0.0.1:8000
    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8765

Writes docs/img/workbench.png and docs/img/org-tree.png (or under --out).
"""

import argparse
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gonghui.demo.logins import DEMO_PASSWORD  # noqa: E402
from scripts.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402

MAX_BYTES = 400 * 1024


def _check_server(base: str) -> None:
    try:
        with urllib.request.urlopen(f"{base}/admin/login/", timeout=5) as response:  # noqa: S310 (http(s) only)
            if response.status != 200:
                raise SystemExit(f"{base}/admin/login/ answered {response.status}; is this the gonghui server?")
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"No server at {base} ({exc}). Start it with `make run` (demo data included).") from exc


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
    if page.url.rstrip("/") != f"{base}/admin":
        raise SystemExit(f"Sign-in as {username} did not reach the workbench (now at {page.url}).")


def _settle(page) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.evaluate("window.scrollTo(0, 0)")


def _save(page, path: Path, **options) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), type="png", **options)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {size // 1024} KB")
    if size > MAX_BYTES:
        print(f"  warning: larger than {MAX_BYTES // 1024} KB", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="server address (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"), help="directory for the PNGs")
    parser.add_argument("--username", default="qu_ganbu")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args()
    base = args.base.rstrip("/")
    out = Path(args.out).resolve()

    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"Chromium not installed at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    _check_server(base)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", device_scale_factor=1)
            context.set_default_timeout(15_000)
            page = context.new_page()
            _sign_in(page, base, args.username, args.password)

            _settle(page)
            _save(page, out / "workbench.png")

            page.locator("#nav-sidebar").get_by_role("link", name="组织树").click()
            page.wait_for_url(f"{base}/admin/orgs/tree/")
            node = page.locator("li.gh-node").filter(has=page.locator(":scope > button.gh-toggle")).first
            with page.expect_response(lambda r: "/admin/orgs/tree/children/" in r.url):
                node.locator(":scope > button.gh-toggle").click()
            node.locator(":scope > ul.gh-subtree > li").first.wait_for()
            _settle(page)
            _save(page, out / "org-tree.png")

            page.locator("#nav-sidebar").get_by_role("link", name="数据质量").click()
            page.wait_for_url(f"{base}/admin/registry/quality/")
            _settle(page)
            _save(page, out / "data-quality.png")

            page.locator("#nav-sidebar").get_by_role("link", name="会员名册").click()
            page.wait_for_url(f"{base}/admin/members/membership/")
            page.locator("#result_list tbody tr").first.locator("a").first.click()
            page.wait_for_url(f"{base}/admin/registry/members/**")
            _settle(page)
            _save(page, out / "member.png")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
