import glob
import gzip

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipelines.tfrecord_sink import WriteTFRecords
from tests.conftest import make_pipeline

RECORDS = [f"record-{i}".encode() * (i + 1) for i in range(50)]


@pytest.mark.parametrize(("compression", "suffix"), [("gzip", ".tfrecord.gz"),
                                                      ("none", ".tfrecord")])
def test_shards_read_back_with_beams_own_reader(tmp_path, compression, suffix):
    prefix = str(tmp_path / "train")
    p = make_pipeline()
    written = (p | beam.Create(RECORDS)
               | WriteTFRecords(prefix, file_name_suffix=suffix, num_shards=3,
                                shard_name_template="-SSSSS-of-NNNNN", compression=compression))
    assert_that(written, equal_to([f"{prefix}-0000{i}-of-00003{suffix}" for i in range(3)]))
    p.run()
    files = sorted(glob.glob(f"{prefix}-*"))
    assert len(files) == 3
    with open(files[0], "rb") as f:
        assert (f.read(2) == b"\x1f\x8b") == (compression == "gzip")
    if compression == "gzip":
        for path in files:
            with gzip.open(path) as f:  # a standard gzip stream, fully readable
                f.read()
    p = make_pipeline()
    back = p | beam.io.ReadFromTFRecord(f"{prefix}-*")
    assert_that(back, equal_to(RECORDS))
    p.run()
