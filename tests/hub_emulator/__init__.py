"""A local emulation of the Hugging Face Hub's HTTP API for Spaces, driven by the real
`huggingface_hub` client in tests (see `server.py` for the endpoints and where it departs
from the real Hub)."""

from tests.hub_emulator.server import BuildFailed, DockerRunner, HubEmulator, ProcessRunner, SpaceContext, User

__all__ = ["BuildFailed", "DockerRunner", "HubEmulator", "ProcessRunner", "SpaceContext", "User"]
