"""sentiment_model.versioned on stores without conditional writes (memory://,
local): the same contract, checked then written. S3 and GCS are tested in
test_storage_object_stores.py."""

import pytest

from sentiment_model import versioned


@pytest.mark.parametrize("base", ["memory://versioned-test", "local"])
def test_create_once_and_replace_only_the_version_read(base, tmp_path):
    uri = f"{tmp_path}/k.lock" if base == "local" else f"{base}/k.lock"
    assert versioned.read(uri) is None
    first = versioned.write(uri, b"first", version=None)
    assert versioned.write(uri, b"again", version=None) is None
    assert versioned.read(uri) == (b"first", first)
    second = versioned.write(uri, b"second", version=first)
    assert second not in (None, first)
    assert versioned.write(uri, b"late", version=first) is None
    assert versioned.read(uri).data == b"second"
    versioned.delete(uri)
    versioned.delete(uri)  # already gone: not an error
    assert versioned.read(uri) is None
