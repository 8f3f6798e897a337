"""Failures, before and after the stream opens, as the real SDK reports them."""

from __future__ import annotations

import anthropic
import httpx2
import pytest

from ai_chat.simulator import SimulatorServer, reply_text

MODEL = "claude-sim-test"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "exc_class", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (402, anthropic.PaymentRequiredError, "billing_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (504, anthropic.GatewayTimeoutError, "timeout_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
async def test_error_status_maps_to_sdk_exception(
    client: anthropic.AsyncAnthropic,
    sim: SimulatorServer,
    tag: str,
    status: int,
    exc_class: type[anthropic.APIStatusError],
    error_type: str,
) -> None:
    content = f"Hi [[sim error={status} retry_after=7 tag={tag}]]"
    with pytest.raises(exc_class) as info:
        async with client.messages.stream(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": content}]
        ) as stream:
            await stream.get_final_message()
    err = info.value
    assert type(err) is exc_class  # not just a base class
    assert err.status_code == status and err.type == error_type
    assert err.request_id is not None and err.request_id.startswith("req_sim_")
    assert err.body["request_id"] == err.request_id  # type: ignore[index]
    assert "x-should-retry" not in err.response.headers
    if status in (429, 529):
        assert err.response.headers["retry-after"] == "7"
    else:
        assert "retry-after" not in err.response.headers
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert record.outcome == f"error:{status}" and record.status == status


@pytest.mark.asyncio
async def test_unknown_model_is_not_found(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        await client.messages.create(
            model="gpt-4", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
        )
    assert info.value.api_message == "model: gpt-4"


@pytest.mark.asyncio
async def test_invalid_body_is_bad_request(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        await client.messages.create(
            model=MODEL, max_tokens=0, messages=[{"role": "user", "content": "Hi"}]
        )
    with pytest.raises(anthropic.BadRequestError, match="messages"):
        await client.messages.create(model=MODEL, max_tokens=5, messages=[])


@pytest.mark.asyncio
async def test_invalid_directive_is_bad_request(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "[[sim tps=-3]]"}]
        )
    assert info.value.type == "invalid_request_error"
    assert "tps" in (info.value.api_message or "")
    with pytest.raises(anthropic.BadRequestError, match="x-sim-options"):
        await client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"x-sim-options": "bogus=1"},
        )


@pytest.mark.asyncio
async def test_missing_api_key_is_401(sim: SimulatorServer) -> None:
    async with httpx2.AsyncClient(timeout=5) as http:
        body = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
        resp = await http.post(f"{sim.base_url}/v1/messages", json=body)
        assert resp.status_code == 401
        assert resp.json()["error"]["type"] == "authentication_error"
        assert resp.headers["request-id"].startswith("req_sim_")
        resp = await http.post(
            f"{sim.base_url}/v1/messages", json=body, headers={"authorization": "Bearer t"}
        )
        assert resp.status_code == 200


async def _collect(stream: anthropic.AsyncMessageStreamManager, into: list[str]) -> None:
    async with stream as s:
        async for text in s.text_stream:
            into.append(text)


@pytest.mark.asyncio
async def test_midstream_error_frame(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    got: list[str] = []
    content = f"Hi [[sim midstream_error=overloaded_error at=8 tag={tag}]]"
    with pytest.raises(anthropic.APIStatusError) as info:
        await _collect(
            client.messages.stream(
                model=MODEL, max_tokens=50, messages=[{"role": "user", "content": content}]
            ),
            got,
        )
    assert "".join(got) == reply_text("Hi", 8)
    assert info.value.status_code == 200  # the HTTP status of the stream, not an error code
    assert info.value.type == "overloaded_error" and info.value.api_message == "Overloaded"
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert record.outcome == "midstream_error:overloaded_error" and record.tokens_sent == 8


@pytest.mark.asyncio
async def test_drop_is_a_protocol_error(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    got: list[str] = []
    content = f"Hi [[sim drop=5 tag={tag}]]"
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
        await _collect(
            client.messages.stream(
                model=MODEL, max_tokens=50, messages=[{"role": "user", "content": content}]
            ),
            got,
        )
    assert "".join(got) == reply_text("Hi", 5)
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert record.outcome == "dropped" and record.tokens_sent == 5


@pytest.mark.asyncio
async def test_silent_stall_hits_the_read_timeout(sim: SimulatorServer, tag: str) -> None:
    got: list[str] = []
    content = f"Hi [[sim stall=4 ping=0 tag={tag}]]"
    async with anthropic.AsyncAnthropic(
        base_url=sim.base_url,
        api_key="sk-test",
        max_retries=0,
        timeout=httpx2.Timeout(5, read=0.5),
    ) as slow_client:
        with pytest.raises(httpx2.ReadTimeout):
            await _collect(
                slow_client.messages.stream(
                    model=MODEL, max_tokens=50, messages=[{"role": "user", "content": content}]
                ),
                got,
            )
    assert "".join(got) == reply_text("Hi", 4)
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    # The server stays silent until the client gives up and closes the connection.
    assert record.outcome == "disconnected" and record.tokens_sent == 4
    assert record.disconnected_at is not None
