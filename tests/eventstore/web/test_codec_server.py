"""Temporal keeps only ciphertext of a command's inputs and results; the codec endpoint shows them in
plain text to those allowed, through the `temporal` CLI as through any HTTP client, and to nobody else."""

import asyncio
import base64
import dataclasses
import json
import os
import subprocess
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.converter import DataConverter

from config.devstack.embedded import temporal_binary
from eventstore.temporal.connection import data_converter
from eventstore.temporal.payload_codec import EncryptionCodec, PayloadNotDecryptable, payload_codec
from eventstore.temporal.payload_keys import PayloadKeys
from eventstore.web.exception_handler import api_exception_handler
from payments.tokens import issue_api_token
from payments.workflows import PaymentEventSourcingWorkflow
from tests.temporal_cli import cli_env, codec_options
from tests.workflow_histories import payloads_in

UI_ORIGIN = "http://127.0.0.1:8233"  # TEMPORAL_UI_URL's default, hence the default allowed origin


def body(payloads) -> str:
    return json.dumps({"payloads": [{"metadata": {key: base64.b64encode(value).decode()
                                                  for key, value in payload.metadata.items()},
                                     "data": base64.b64encode(payload.data).decode()} for payload in payloads]})


def decoded_values(answer: dict) -> list:
    return [json.loads(base64.b64decode(payload["data"])) for payload in answer["payloads"]]


def shown_payloads(cli_json: str) -> tuple[set[bytes], bytes]:
    """The encodings and the data of every payload in a `temporal workflow show --output json`."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("metadata"), dict) and "encoding" in value["metadata"]:
                found.append((base64.b64decode(value["metadata"]["encoding"]), base64.b64decode(value.get("data", ""))))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(cli_json))
    return {encoding for encoding, _ in found}, b"\n".join(data for _, data in found)


def post(path: str, payloads, **headers):
    return DjangoClient().post(path, body(payloads), content_type="application/json",
                               headers={"X-Namespace": "default", **headers})


@pytest.mark.django_db(transaction=True)
def test_a_commands_history_is_ciphertext_on_the_server_and_plain_through_the_codec_endpoint(
        temporal, run_command, command_request, live_server, codec_reader):
    secrets = {"amount": "4321.09", "description": f"rent for flat {uuid.uuid4().hex[:8]}",
               "user_id": f"user-{uuid.uuid4().hex[:8]}"}
    result = run_command(command_request(**secrets))
    assert result.success, result.message

    plain_client = Client(temporal.client.service_client, namespace=temporal.client.namespace,
                          data_converter=DataConverter.default)  # no codec: what the server holds
    raw = temporal.run(plain_client.get_workflow_handle(result.workflow_id).fetch_history())
    stored = b"".join(event.SerializeToString() for event in raw.events)
    assert [value for value in secrets.values() if value.encode() in stored] == []

    payloads = [payload for event in raw.events for payload in payloads_in(event)]
    answer = post("/codec/decode", payloads, authorization=f"Token {codec_reader[1]}")
    assert answer.status_code == 200, answer.content
    shown = json.dumps(decoded_values(answer.json()))
    assert all(value in shown for value in secrets.values())

    cli = [temporal_binary(), "workflow", "show", "--workflow-id", result.workflow_id, "--output", "json",
           "--address", temporal.address, "--namespace", temporal.client.namespace]
    without_codec = subprocess.run(cli, capture_output=True, text=True, env=cli_env(), check=True).stdout
    through_codec = subprocess.run([*cli, *codec_options(live_server, codec_reader)],
                                   capture_output=True, text=True, env=cli_env(), check=True).stdout
    encodings, data = shown_payloads(without_codec)
    assert b"binary/encrypted" in encodings and [value for value in secrets.values() if value.encode() in data] == []
    encodings, data = shown_payloads(through_codec)
    assert b"binary/encrypted" not in encodings and all(value.encode() in data for value in secrets.values())


@pytest.mark.django_db(transaction=True)
def test_a_workflow_whose_input_no_key_here_opens_fails_at_once_saying_which_key(temporal, command_request):
    stranger = dataclasses.replace(data_converter(), payload_codec=EncryptionCodec(
        PayloadKeys(current="someone-elses", keys={"someone-elses": os.urandom(32)})))
    client = Client(temporal.client.service_client, namespace=temporal.client.namespace, data_converter=stranger)

    async def run():
        handle = await client.start_workflow(PaymentEventSourcingWorkflow.run, command_request(),
                                             id=f"stranger-{uuid.uuid4()}", task_queue=temporal.task_queue)
        return await asyncio.wait_for(handle.result(), 15)

    with pytest.raises(WorkflowFailureError) as failed:
        temporal.run(run())
    assert failed.value.cause.type == "PayloadNotDecryptable"
    assert "encrypted under key 'someone-elses', which this process does not have" in failed.value.cause.message


@pytest.mark.django_db
def test_the_codec_endpoint_refuses_whoever_may_not_read_payloads(codec_reader):
    encrypted = payload_codec().encrypt(DataConverter.default.payload_converter.to_payload({"amount": "1.00"}))
    nobody = get_user_model().objects.create_user(username="nosy", password="pw", is_staff=True)

    assert post("/codec/decode", [encrypted]).status_code == 401
    assert post("/codec/decode", [encrypted], authorization="Token not-a-token").status_code == 401
    refused = post("/codec/decode", [encrypted], authorization=f"Token {issue_api_token(user=nobody, name='nobody', all_organizations=True).key}")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "Reading Temporal payloads takes the permission eventstore.decode_temporal_payloads.")
    other_namespace = post("/codec/decode", [encrypted], authorization=f"Token {codec_reader[1]}",
                           x_namespace="someone-else")
    assert other_namespace.status_code == 403
    unnamed = DjangoClient().post("/codec/decode", body([encrypted]), content_type="application/json",
                                  headers={"authorization": f"Token {codec_reader[1]}"})
    assert unnamed.status_code == 400 and "X-Namespace" in unnamed.json()["error"]["message"]
    assert "amount" not in (refused.content + other_namespace.content).decode()


@pytest.mark.django_db
def test_the_temporal_ui_reads_payloads_with_its_session_from_its_own_origin_only(client, codec_reader):
    client.force_login(codec_reader[0])
    plain = DataConverter.default.payload_converter.to_payload({"description": "seen in the UI"})

    preflight = client.options("/codec/decode", headers={
        "Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace"})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert {"content-type", "x-namespace"} <= {name.strip().lower() for name in
                                               preflight["Access-Control-Allow-Headers"].split(",")}
    assert client.options("/codec/decode", headers={"Origin": "https://evil.example"}).status_code == 403

    encoded = client.post("/codec/encode", body([plain]), content_type="application/json",
                          headers={"Origin": UI_ORIGIN, "X-Namespace": "default"})
    assert encoded.status_code == 200 and encoded["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert "seen in the UI" not in encoded.content.decode()
    decoded = client.post("/codec/decode", json.dumps(encoded.json()), content_type="application/json",
                          headers={"Origin": UI_ORIGIN, "X-Namespace": "default"})
    assert decoded.status_code == 200 and decoded_values(decoded.json()) == [{"description": "seen in the UI"}]
    elsewhere = client.post("/codec/decode", json.dumps(encoded.json()), content_type="application/json",
                            headers={"Origin": "https://evil.example", "X-Namespace": "default"})
    assert "Access-Control-Allow-Origin" not in elsewhere  # the browser keeps the answer from that page


@pytest.mark.django_db
def test_the_codec_endpoint_answers_bad_input_and_unknown_keys_with_a_clear_400(codec_reader):
    token = f"Token {codec_reader[1]}"
    under_unknown_key = EncryptionCodec(PayloadKeys(current="retired-2019", keys={"retired-2019": bytes(32)})).encrypt(
        Payload(metadata={"encoding": b"json/plain"}, data=b"{}"))

    unknown = post("/codec/decode", [under_unknown_key], authorization=token)
    assert unknown.status_code == 400
    assert "encrypted under key 'retired-2019', which this process does not have" in unknown.json()["error"]["message"]
    for bad in ('{"payloads": "x"}', '{"payloads": [{"data": "not base64!"}]}', "[]", "not json"):
        answer = DjangoClient().post("/codec/decode", bad, content_type="application/json",
                                     headers={"authorization": token, "X-Namespace": "default"})
        assert answer.status_code == 400, (bad, answer.content)
    as_text = DjangoClient().post("/codec/decode", body([under_unknown_key]), content_type="text/plain",
                                  headers={"authorization": token, "X-Namespace": "default"})
    assert as_text.status_code == 415


@pytest.mark.parametrize("met_by", ["this process", "the worker"])
def test_an_api_request_meeting_a_payload_no_key_here_opens_answers_503_not_500(met_by):
    error = PayloadNotDecryptable("A Temporal payload is encrypted under key 'k9', which this process does not have")
    if met_by == "the worker":
        error = WorkflowFailureError(cause=error)

    response = api_exception_handler(error, {})

    assert response.status_code == 503 and response.data["error"]["code"] == "unavailable"
    assert "a payload key is missing here" in response.data["error"]["message"]
