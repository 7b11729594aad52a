"""Headless Chromium (Qt WebEngine, offscreen) for the UI tests: open a page, wait for texts, save a screenshot.

Not a test module. Run as ``python -m tests.e2e.ui_shot URL OUT.png TEXT... [--click LABEL]``: loads ``URL`` (a
JavaScript app such as the Prefect UI), clicks the element labelled ``LABEL`` once it is there (a tab: the Prefect
UI does not select tabs from the URL), polls the rendered page's text until every ``TEXT`` is on it (or
``--timeout`` passes), saves what the browser shows as ``OUT.png`` and prints the page's text; exit code 0 when
every text was found, 1 if not.
Qt WebEngine is Chromium packaged as a PyPI wheel (``PySide6-WebEngine``), so ``make test`` needs no system browser;
it runs in its own process because Qt wants the main thread and one application per process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("texts", nargs="+")
    parser.add_argument("--click", default="", help="label of an element to click first (e.g. a tab)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--size", default="1440x1400")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # No GPU and no setuid sandbox in a test container; logging off keeps the test's output readable.
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu --log-level=3")
    os.environ.setdefault("QT_LOGGING_RULES", "*.debug=false;qt.*=false")

    from PySide6.QtCore import QSize, QTimer, QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    view = QWebEngineView()
    width, height = (int(n) for n in args.size.split("x"))
    view.resize(QSize(width, height))
    view.load(QUrl(args.url))
    view.show()
    deadline = time.monotonic() + args.timeout
    outcome = {"code": 1, "text": ""}

    def done(text: str, found: bool) -> None:
        outcome.update(code=0 if found else 1, text=text)
        view.grab().save(args.out)
        app.quit()

    # Click the labelled element (the innermost one, so a tab rather than the page around it) and bring it into view.
    click = ("(() => { const all = [...document.querySelectorAll('button, a, [role=tab], li, div, span')]"
             ".filter(e => e.innerText && e.innerText.trim() === %s);"
             " const el = all[all.length - 1]; if (!el) return false;"
             " el.click(); el.scrollIntoView({block: 'start'}); return true; })()")

    def start() -> None:
        if not args.click:
            check()
            return

        def clicked(ok: object) -> None:
            if ok is True:
                QTimer.singleShot(500, check)
            elif time.monotonic() > deadline:
                done("", False)
            else:
                QTimer.singleShot(500, start)

        view.page().runJavaScript(click % json.dumps(args.click), 0, clicked)

    def check() -> None:
        def seen(text: object) -> None:
            page = text if isinstance(text, str) else ""
            if all(t in page for t in args.texts):
                QTimer.singleShot(1500, lambda: done(page, True))  # let images and fonts settle before the shot
            elif time.monotonic() > deadline:
                done(page, False)
            else:
                QTimer.singleShot(500, check)

        view.page().runJavaScript("document.body ? document.body.innerText : ''", 0, seen)

    QTimer.singleShot(1000, start)
    app.exec()
    sys.stdout.write(str(outcome["text"]) + "\n")
    return int(outcome["code"])


if __name__ == "__main__":
    sys.exit(main())
