import os
import subprocess
import sys

from sentiment_model import quiet

SCRIPT = ("from sentiment_model import quiet; quiet.import_tensorflow(); "
          "import tensorflow as tf; print(float(tf.reduce_sum(tf.constant([1.0, 2.0]))))")


def _python(env: dict) -> subprocess.CompletedProcess:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    clean = {k: v for k, v in os.environ.items()
             if k not in ("TF_CPP_MIN_LOG_LEVEL", quiet.VERBOSE_ENV)}
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_tensorflow_starts_without_a_word_on_stderr_unless_verbose():
    done = _python({})
    assert done.returncode == 0 and done.stdout == "3.0\n"
    assert done.stderr == ""
    verbose = _python({quiet.VERBOSE_ENV: "1"})
    assert verbose.returncode == 0 and verbose.stdout == "3.0\n"
    if not quiet.has_nvidia_device():  # TensorFlow says it finds no CUDA driver
        assert "cuda" in verbose.stderr.lower()


def test_native_stderr_is_restored_after_the_silenced_block(capfd):
    with quiet.native_stderr_silenced():
        os.write(2, b"hidden\n")
    os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"
