"""The blind review page (``dancegen review DIR``) in a real browser (Debian's chromium driven by playwright): a
reviewer sees the photo and two playable videos whose names say nothing, answers, and only then learns which side
was which; the answer is in the study's SQLite file. A screenshot goes to the `screenshots` folder."""

from __future__ import annotations

import shutil

import pytest
from support.app_server import free_port
from support.browser import browser_page, needs_chromium

from dancegen.app.review_handlers import ReviewApp
from dancegen.app.review_page import build_review_ui, review_launch_kwargs
from dancegen.study.review import ReviewStore

pytestmark = [
    needs_chromium,
    # Gradio's own queue code trips pandas 3 deprecations.
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
VIDEO_JS = """async (id) => {
    const v = document.querySelector(`#${id} video`);
    if (v.readyState < 1) await new Promise(r => v.addEventListener('loadedmetadata', r, {once: true}));
    return {src: v.currentSrc, duration: v.duration};
}"""


@pytest.fixture()
def review_url(study, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(study.folder, folder)
    app = ReviewApp(folder)
    demo = build_review_ui(app)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **review_launch_kwargs(app))
    try:
        yield f"http://127.0.0.1:{port}/", folder
    finally:
        demo.close()


@pytest.mark.timeout(180)
def test_a_blind_judgement_in_chromium(review_url, screenshots):
    url, folder = review_url
    with browser_page(url, "#review-next") as (sync_api, page):
        page.locator("#reviewer input, #reviewer textarea").first.fill("Grace")
        page.click("#review-next")
        sync_api.expect(page.locator("#review-status")).to_contain_text("Pair 1 of 4", timeout=30_000)
        page.wait_for_selector("#review-photo img", timeout=30_000)
        page.wait_for_selector("#review-left video", timeout=30_000)
        page.wait_for_selector("#review-right video", timeout=30_000)
        videos = [page.evaluate(VIDEO_JS, side) for side in ("review-left", "review-right")]
        for video in videos:
            assert video["duration"] > 1.5, video  # 2 s of dance
            assert "identity" not in video["src"] and "baseline" not in video["src"], video
        html = page.content()
        assert "identity.mp4" not in html and "baseline.mp4" not in html and "alpha1-n" not in html
        assert "was on the" not in page.inner_text("body")  # nothing revealed yet

        page.locator("#review-person").get_by_text("Left", exact=True).click()
        page.click("#review-submit")
        status = page.locator("#review-status")
        sync_api.expect(status).to_contain_text("Recorded.", timeout=30_000)
        sync_api.expect(page.locator("#review-submit")).to_be_disabled()
        page.screenshot(path=str(screenshots / "review.png"), full_page=True)
        revealed = status.inner_text()

    table = ReviewStore.of_study(folder).table()
    assert len(table) == 1 and table.loc[0, "reviewer"] == "Grace" and table.loc[0, "person"] == "left"
    side = table.loc[0, "identity_side"]
    assert f"was on the {side}" in revealed
    assert table.loc[0, "person_choice"] == ("identity" if side == "left" else "baseline")
