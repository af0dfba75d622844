"""Shared fixtures: fake AWS credentials, moto's in-process mocks, Lambda sources loaded by path.

The sources in layers/<unit>/*.py are deployed as `index.handler` (inlined as ZipFile), so they
are not importable packages here: each test gets a fresh module object, loaded with importlib,
inside an active `mock_aws()` (module-level client caches therefore never leak between tests).
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest
import yaml

sys.dont_write_bytecode = True  # no __pycache__ beside the Lambda sources

LAYERS = Path(__file__).resolve().parents[1]
REPO = LAYERS.parent
PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"
OTHER = {PRIMARY: SECONDARY, SECONDARY: PRIMARY}

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": PRIMARY,
    "AWS_REGION": PRIMARY,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
# Set at import time too, before anything can build a boto3 session from the real environment.
os.environ.update(FAKE_ENV)
os.environ.pop("AWS_PROFILE", None)

import botocore.loaders  # noqa: E402
import botocore.session  # noqa: E402
from moto import mock_aws  # noqa: E402  (after the fake credentials)


class _NoDuplicates(list):
    def append(self, item):
        if item not in self:
            super().append(item)


# Speed: moto gives every test a new default boto3 session, and each session would parse the
# service models again (~0.1 s per client). One shared, caching model loader avoids that; it
# only reads the JSON files shipped with botocore and boto3, so sharing it changes nothing else.
_LOADER = botocore.loaders.create_loader()
_LOADER._search_paths = _NoDuplicates(_LOADER.search_paths)
botocore.session.create_loader = lambda search_path_string=None: _LOADER


def load_source(relative):
    """A fresh module object for layers/<relative> (e.g. "routing/state_updater.py")."""
    path = LAYERS / relative
    name = "mraa_lambda_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Tagged:
    """A CloudFormation short-form tag (!Ref, !Sub, !If...) and its value."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: Tagged(suffix, (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node, deep=True))))


def load_template(name):
    """templates/<name> as data, short-form tags kept as Tagged values."""
    return yaml.load((REPO / "templates" / name).read_text(encoding="utf-8"), Loader=_CfnLoader)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Fake credentials and the primary region for every test; Lambda variables cleared."""
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "APP_CONFIG_TABLE", "APP_ID", "BUCKET_NAME",
                "PRIMARY_REGION", "ALLOWED_ORIGIN", "URL_TTL", "USERS_TABLE", "USER_POOL_ID", "COMMENTS_TABLE",
                "MAX_ATTEMPTS", "APP_MODE", "SECONDARY_REGION"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


@pytest.fixture
def aws():
    """moto's in-process mock of every AWS service, for the duration of one test."""
    with mock_aws():
        yield


@pytest.fixture
def in_region(monkeypatch):
    """Switch the region a Lambda believes it runs in (AWS_REGION and the boto3 default)."""
    def switch(region):
        monkeypatch.setenv("AWS_REGION", region)
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    return switch


class FakeContext:
    """The part of the Lambda context object the functions use."""

    def __init__(self, remaining_ms=120_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


@pytest.fixture
def context():
    return FakeContext()
