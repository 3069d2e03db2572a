"""Screenshots of the inbox, the request page, the decision form and an email, against a
running server with the demo.

    make run                                  # in another terminal (seeds the demo users)
    .venv/bin/python docs/screenshots.py      # writes docs/screenshots/*.png

Options: --base-url (default http://127.0.0.1:8000), --password (the demo's), --out,
--chromium (default $CHROMIUM_PATH or /usr/bin/chromium). Each page is taken at 1280 and
390 px wide, logged in as risk (an approver), mlops (files requests from CI) and auditor.

The password prompt of the decision form appears only when the last sign-in is over
10 minutes old; to show it without waiting, the script ages risk's session in the server's
database (it reads the same settings and .env as manage.py; pass the server's
DATABASE_URL if you overrode it). Nothing else is written: the decision form is submitted
empty, then without the password the aged session needs; the server refuses both before
recording anything.

The request pages are the credit scorecard's request waiting for risk (declared against
recomputed metrics, approvals due) and the recommender's emergency hotfix (bypass, review).
The email is the newest "Approval needed" message `make run` wrote under var/mail (--mail).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = {"desktop": 1280, "mobile": 390}
INBOX_TABS = {
    "risk": ["waiting", "mine", "scope", "decided"],
    "mlops": ["waiting", "mine", "scope"],
    "auditor": ["waiting", "scope", "decided"],
}


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    if "/login/" in page.url:
        sys.exit(f"could not log in as {username} at {base}: is the demo seeded (make run)?")


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    said(path)


def said(path: Path) -> None:
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def age_session(session_key: str, minutes: int = 11) -> bool:
    """Move the session's sign-in time back, as if the user had logged in `minutes` ago."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    # Playwright's sync API runs an event loop in this thread; this one ORM write is safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        import django

        django.setup()
        from datetime import timedelta

        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import timezone

        from governance.web.reauth import SESSION_KEY

        session = SessionStore(session_key=session_key)
        if not session.exists(session_key):
            return False
        session[SESSION_KEY] = (timezone.now() - timedelta(minutes=minutes)).timestamp()
        session.save()
        return True
    except Exception as exc:  # a docs helper: say why and carry on without that picture
        print(f"(no password-prompt screenshot: cannot reach the server's sessions: {exc})")
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--password", default="demo-password-2026")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    parser.add_argument("--mail", default=str(ROOT / "var" / "mail"), help="where make run writes emails")
    args = parser.parse_args()
    base, out = args.base_url.rstrip("/"), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
        for size, width in WIDTHS.items():
            for user, tabs in INBOX_TABS.items():
                context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
                page = context.new_page()
                log_in(page, base, user, args.password)
                for tab in tabs:
                    page.goto(f"{base}/?tab={tab}")
                    shoot(page, out / f"inbox-{tab}-{user}-{size}.png")
                context.close()

            # The decision form: risk's first waiting request, as it opens, refused empty, and
            # with the password prompt of a sign-in older than 10 minutes.
            context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
            page = context.new_page()
            log_in(page, base, "risk", args.password)
            page.goto(f"{base}/?tab=waiting")
            link = page.locator("tr[data-inbox-item] td a").first
            if link.count() == 0:
                print("(no request waits for risk: no decision form screenshots)")
                context.close()
                continue
            link.click()
            page.wait_for_load_state("networkidle")
            panel = page.locator("#decide")
            panel.scroll_into_view_if_needed()
            panel.screenshot(path=str(out / f"decision-form-{size}.png"))
            said(out / f"decision-form-{size}.png")
            # Empty, past the browser's own checks: the server's refusal, nothing recorded.
            page.eval_on_selector("#decide form", "form => { form.noValidate = true; }")
            page.click("#decide button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.locator("#decide").screenshot(path=str(out / f"decision-form-refused-{size}.png"))
            said(out / f"decision-form-refused-{size}.png")
            session = next((c["value"] for c in context.cookies() if c["name"] == "sessionid"), None)
            if session and age_session(session):
                # Filled in but for the password, which an old sign-in now needs: refused, and
                # the form asks for it. (Only after ageing worked: else this would decide.)
                page.check("#decide input[name=decision][value=request_changes]")
                page.select_option("#decide select[name=risk_class]", "medium")
                page.fill("#decide textarea[name=reason]", "Screenshot of the password prompt.")
                page.eval_on_selector("#decide form", "form => { form.noValidate = true; }")
                page.click("#decide button[type=submit]")
                page.wait_for_load_state("networkidle")
                page.locator("#decide").screenshot(path=str(out / f"decision-form-password-{size}.png"))
                said(out / f"decision-form-password-{size}.png")
            context.close()

            # The request page: the credit request as risk reads it, and the emergency hotfix.
            context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
            page = context.new_page()
            log_in(page, base, "owner", args.password)
            for name, model in (("credit", "credit-risk-scorecard"), ("emergency", "ecommerce-recommender")):
                page.goto(f"{base}/models/{model}/")
                link = page.locator("ol.timeline a[href^='/requests/']").first
                if link.count() == 0:
                    continue
                page.goto(base + link.get_attribute("href"))
                page.wait_for_load_state("networkidle")
                shoot(page, out / f"request-{name}-{size}.png")
            context.close()

            html = newest_email_html(Path(args.mail), "Approval needed")
            if html:
                context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
                page = context.new_page()
                page.set_content(html)
                shoot(page, out / f"email-approval-needed-{size}.png")
                context.close()
        browser.close()


def newest_email_html(folder: Path, subject: str) -> str:
    """The HTML part of the newest email file whose subject has `subject` ("" if none)."""
    from email import message_from_binary_file, policy

    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []:
        with path.open("rb") as fh:
            message = message_from_binary_file(fh, policy=policy.default)
        if subject in str(message["subject"]):
            part = message.get_body(preferencelist=("html",))
            return part.get_content() if part else ""
    print(f"(no email with {subject!r} under {folder}: run make run first)")
    return ""


if __name__ == "__main__":
    main()
