import pytest

from pipelines import cli
from sentiment_model import storage
from sentiment_model.errors import ConfigError


def test_redact_hides_credentials_and_query_tokens_of_every_url():
    text = ("--input s3://AKIA:SECRET@bucket/a.wav and "
            "https://me:pw@example.com/x.wav?X-Amz-Signature=TOKEN&b=1, "
            "gs://bucket/plain.wav")
    assert storage.redact(text) == ("--input s3://***@bucket/a.wav and "
                                    "https://***@example.com/x.wav, gs://bucket/plain.wav")
    assert storage.redact("/local/path?.wav") == "/local/path?.wav"


def _fails_with(exc):
    def job(argv):
        raise exc
    return job


def test_failures_are_one_redacted_line_and_debug_shows_the_traceback(capsys):
    secret = "s3://KEY:SECRET@bucket/in"
    assert cli.run_job(_fails_with(ConfigError(f"--input {secret}: no access")), []) == 2
    assert capsys.readouterr().err == ("audio-sentiment: error: --input s3://***@bucket/in: "
                                       "no access\n")
    assert cli.run_job(_fails_with(OSError(f"cannot open\n{secret}/a.wav")), []) == 1
    err = capsys.readouterr().err
    assert err == ("audio-sentiment: error: OSError: cannot open s3://***@bucket/in/a.wav "
                   "(--debug shows the traceback)\n")
    with pytest.raises(OSError, match="SECRET"):
        cli.run_job(_fails_with(OSError(secret)), [], debug=True)


def test_debug_is_taken_out_of_the_job_arguments(capsys):
    args = ["featurize", "--input", "s3://KEY:SECRET@bucket/*.wav", "--output", "/tmp/x"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "SECRET" not in err
    assert "s3://***@bucket/*.wav: credentials in a storage URL are not read" in err
    with pytest.raises(Exception, match="credentials in a storage URL are not read"):
        cli.main([*args[:1], "--debug", *args[1:]])
