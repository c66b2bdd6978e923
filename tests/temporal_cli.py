"""Running the `temporal` CLI against the suite's dev server, through the web app's codec endpoint."""

import os


def codec_options(live_server, codec_reader) -> list[str]:
    """The CLI's options that encrypt and decrypt payloads through the codec endpoint of `live_server`,
    as the `codec_reader` fixture's user."""
    return ["--codec-endpoint", f"{live_server.url}/codec", "--codec-auth", f"Token {codec_reader[1]}"]


def cli_env() -> dict:
    """The environment of a CLI run: none of the project's TEMPORAL_* settings, which the CLI would read
    as its own options."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}
