"""The Google module through the real google-genai SDK against the local fake (both clients, one key).

Stills, speech and scripts go through the Developer API client's ``generate_content``; Veo goes through the Vertex
express-mode client and is polled by our code. Each test asserts the exact outgoing call and what comes back.
The error seam is a table (``google_api.ERRORS``): one test feeds it every exception class the SDK raises.
"""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import httpx
import httpx2
import pydantic
import pytest
from google.genai import errors

from core.errors import FatalProviderError, RetryableProviderError
from core.settings import get_settings
from media.probe import probe
from providers import google_api
from providers.base import ClipRequest, ImageRequest
from tests.fakes import media
from tests.fakes.gemini_fake import FETCH, GENERATE, PREDICT, GeminiFake

IMAGE_MODEL, TTS_MODEL, SCRIPT_MODEL = "gemini-3.1-flash-image", "gemini-2.5-flash-preview-tts", "gemini-2.5-flash"


def clip_request(tmp_path: Path, seconds: float = 6.0, aspect: str = "16:9") -> ClipRequest:
    still = tmp_path / "still.png"
    still.write_bytes(media.png(128, 72))
    return ClipRequest(image=still, prompt="The fox runs.", duration=seconds, width=1280, height=720, fps=30,
                       motion_index=1, aspect_ratio=aspect)


def test_a_still_comes_from_generate_content_with_the_aspect_ratio_and_seed(google_fake_server: GeminiFake) -> None:
    png = google_api.GoogleImageProvider(IMAGE_MODEL).generate(ImageRequest("A red fox.", 1280, 720, 42, "9:16"))
    (body,) = google_fake_server.bodies[f"generate:{IMAGE_MODEL}"]
    assert body["contents"] == [{"parts": [{"text": "A red fox."}], "role": "user"}]
    assert body["generationConfig"] == {"seed": 42, "responseModalities": ["IMAGE"],
                                        "imageConfig": {"aspectRatio": "9:16"}}
    assert png == media.png(768, 1344)
    assert google_fake_server.problems == []


def test_speech_is_24_khz_pcm_wrapped_as_wav_with_word_timings(google_fake_server: GeminiFake) -> None:
    speech = google_api.GoogleSpeechProvider(TTS_MODEL).synthesize("The fox runs home.", "Kore")
    (body,) = google_fake_server.bodies[f"generate:{TTS_MODEL}"]
    assert body["generationConfig"]["responseModalities"] == ["AUDIO"]
    with wave.open(io.BytesIO(speech.wav)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        assert wav.getnframes() == len(media.speech_pcm("The fox runs home.", 24000)) // 2
    assert speech.duration == pytest.approx(len(media.speech_pcm("The fox runs home.", 24000)) / 2 / 24000)
    assert [w.text for w in speech.words] == ["The", "fox", "runs", "home."]
    assert speech.rendered_by == "google"
    assert google_fake_server.problems == []


def test_the_script_writer_sends_the_json_schema_and_returns_the_object(google_fake_server: GeminiFake) -> None:
    google_fake_server.script = {"style": {"subject": "a fox"}, "scenes": []}
    schema = {"type": "object", "properties": {"style": {"type": "object"}}, "required": ["style"]}
    script = google_api.write_script("You write scripts.", "A fox story.", schema, model=SCRIPT_MODEL)
    (body,) = google_fake_server.bodies[f"generate:{SCRIPT_MODEL}"]
    assert body["systemInstruction"]["parts"] == [{"text": "You write scripts."}]
    assert body["generationConfig"] == {"responseMimeType": "application/json", "responseJsonSchema": schema}
    assert script == {"style": {"subject": "a fox"}, "scenes": []}


@pytest.mark.parametrize(("mode", "error", "text"), [
    ("length", RetryableProviderError, "cut off at the length limit"),
    ("broken", RetryableProviderError, "not valid JSON"),
])
def test_script_outcomes(google_fake_server: GeminiFake, mode: str, error: type[Exception], text: str) -> None:
    google_fake_server.script_mode = mode
    with pytest.raises(error, match=text):
        google_api.write_script("s", "u", {"type": "object"}, model=SCRIPT_MODEL)


def test_veo_clip_is_polled_by_our_code_and_comes_back_inline(google_fake_server: GeminiFake, tmp_path: Path) -> None:
    out = google_api.GoogleVideoProvider("veo-3.1-generate-001").animate(clip_request(tmp_path), tmp_path / "c.mp4")
    (body,) = google_fake_server.bodies["veo"]
    assert body["parameters"] == {"sampleCount": 1, "durationSeconds": 6, "aspectRatio": "16:9",
                                  "generateAudio": False}
    assert body["instances"][0]["prompt"] == "The fox runs."
    assert google_fake_server.calls[f"POST {PREDICT}"] == 1
    assert google_fake_server.calls[f"POST {FETCH}"] == 2  # not done, then done
    info = probe(out)
    assert info.duration == pytest.approx(6.0, abs=0.05)
    assert google_fake_server.problems == []


def test_veo_clip_delivered_as_a_uri_is_downloaded(google_fake_server: GeminiFake, tmp_path: Path) -> None:
    google_fake_server.video_as_uri = True
    out = google_api.GoogleVideoProvider("veo-3.1-generate-001").animate(clip_request(tmp_path, 4.0, "9:16"),
                                                                         tmp_path / "c.mp4")
    info = probe(out)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (180, 320)
    assert google_fake_server.calls["GET /files/(?P<name>[\\w.\\-]+)"] == 1


def test_a_veo_safety_filter_is_fatal_and_names_google_and_the_reason(
    google_fake_server: GeminiFake, tmp_path: Path
) -> None:
    google_fake_server.content_policy = True
    with pytest.raises(FatalProviderError) as caught:
        google_api.GoogleVideoProvider("veo-3.1-generate-001").animate(clip_request(tmp_path), tmp_path / "c.mp4")
    assert str(caught.value).startswith("Google refused the content (content policy): Veo filtered the video")
    assert "usage guidelines" in str(caught.value)


def test_a_blocked_prompt_is_fatal(google_fake_server: GeminiFake) -> None:
    google_fake_server.content_policy = True
    with pytest.raises(FatalProviderError, match=r"^Google refused the content \(content policy\): prompt blocked"):
        google_api.GoogleImageProvider(IMAGE_MODEL).generate(ImageRequest("x", 64, 36, 1, "16:9"))


def test_a_veo_job_past_our_deadline_is_retryable(
    google_fake_server: GeminiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFLOW_PROVIDER_JOB_TIMEOUT", "0.2")
    get_settings.cache_clear()
    google_fake_server.video_polls = 10_000
    with pytest.raises(RetryableProviderError, match=r"^Google did not finish the video clip within 0.2 s"):
        google_api.GoogleVideoProvider("veo-3.1-generate-001").animate(clip_request(tmp_path), tmp_path / "c.mp4")


def test_a_wrong_key_is_an_authentication_failure_naming_the_variable(google_fake_server: GeminiFake,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSy-not-the-right-key-000000000")
    get_settings.cache_clear()
    with pytest.raises(FatalProviderError) as caught:
        google_api.GoogleImageProvider(IMAGE_MODEL).generate(ImageRequest("x", 64, 36, 1, "16:9"))
    assert str(caught.value) == "Google rejected the request: invalid API key (401); check GEMINI_API_KEY"
    assert google_fake_server.calls[f"POST {GENERATE}"] == 1


def test_the_developer_api_client_cannot_make_videos_so_veo_uses_vertex_express_mode(
    google_fake_server: GeminiFake,
) -> None:
    with pytest.raises(ValueError, match="only supported in"):
        google_api.client().models.generate_videos(model="veo-3.1-generate-001", source={"prompt": "x"})
    assert google_api.client(vertex=True).vertexai
    assert google_api.client(vertex=True) is not google_api.client()


def _client_error(status: int, body: dict[str, object]) -> errors.APIError:
    cls = errors.ClientError if status < 500 else errors.ServerError
    return cls(status, body, None)


RATE_LIMITED = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota",
                          "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]}}
BAD_KEY = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "API key not valid.",
                     "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}


def _validation_error() -> pydantic.ValidationError:
    try:
        pydantic.TypeAdapter(int).validate_python("x")
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


CASES = [
    (_client_error(400, {"error": {"code": 400, "message": "bad"}}), FatalProviderError,
     "Google rejected the request: bad request (400): bad"),
    (_client_error(400, BAD_KEY), FatalProviderError,
     "Google rejected the request: invalid API key (401); check GEMINI_API_KEY"),
    (_client_error(403, {"error": {"code": 403, "message": "denied"}}), FatalProviderError,
     "Google rejected the request: permission denied (403); check GEMINI_API_KEY"),
    (_client_error(400, {"error": {"code": 400, "message": "Blocked by the safety filters."}}), FatalProviderError,
     "Google refused the content (content policy): Blocked by the safety filters."),
    (_client_error(404, {"error": {"code": 404, "message": "no model"}}), FatalProviderError,
     "Google rejected the request: model or resource not found (404): no model"),
    (_client_error(429, RATE_LIMITED), RetryableProviderError, "Google failed temporarily: rate limited (429): Quota"),
    (_client_error(503, {"error": {"code": 503, "message": "busy"}}), RetryableProviderError,
     "Google failed temporarily: server error (503): busy"),
    (errors.APIError(302, {"error": {"code": 302, "message": "moved"}}, None), FatalProviderError,
     "Google rejected the request: request refused (302): moved"),
    (httpx2.ReadTimeout("slow"), RetryableProviderError, "Google did not answer the call in time (timeout)"),
    (httpx2.ConnectError("down"), RetryableProviderError, "Google could not be reached: connection error"),
    (httpx.ReadTimeout("slow"), RetryableProviderError, "Google did not answer the call in time (timeout)"),
    (httpx.ConnectError("down"), RetryableProviderError, "Google could not be reached: connection error"),
    (_validation_error(), RetryableProviderError, "Google sent an unusable response: the call answer did not match"),
    (json.JSONDecodeError("x", "doc", 0), RetryableProviderError, "Google sent an unusable response: the call answer "
                                                                  "is not JSON"),
    (ValueError("only supported in Agent Platform mode"), FatalProviderError,
     "Google client error on the call: only supported in Agent Platform mode"),
]


@pytest.mark.parametrize(("exc", "kind", "message"), CASES)
def test_every_sdk_exception_maps_through_the_table(exc: BaseException, kind: type[Exception], message: str) -> None:
    mapped = google_api.translate(exc, "the call")
    assert type(mapped) is kind
    assert str(mapped).startswith(message)


def test_the_table_covers_every_row_and_keeps_the_retry_delay() -> None:
    mapped = google_api.translate(_client_error(429, RATE_LIMITED), "x")
    assert mapped is not None
    assert mapped.retry_after == 7.0
    assert google_api.translate(KeyError("x"), "x") is None  # not an SDK error: re-raised untouched
    first_rows = {next(i for i, (cls, _) in enumerate(google_api.ERRORS) if isinstance(exc, cls))
                  for exc, _, _ in CASES}
    assert first_rows == set(range(len(google_api.ERRORS))), "a row of the table has no case"
