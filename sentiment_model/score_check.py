"""A split's recordings as ``score`` sees them, so that ``train`` can print
the number ``score`` + ``evaluate`` will give on the same files beside the
whole-clip one.

Each original (not augmented) labelled example of the split is read again
from its URI and scored by score's own path
(:func:`sentiment_model.scoring.score_recording`: speech detection, windows,
aggregation, default :class:`~sentiment_model.segments.SegmentConfig`), as
the mix or the channel featurize read; its ``files/`` label is compared with
the example's label. Files score rejects (``no_speech`` ...) have no label
and are counted apart, as ``evaluate`` does.
"""

from __future__ import annotations

import numpy as np

from schemas import features as fk
from sentiment_model import segments as seg
from sentiment_model import storage


def labelled_recordings(features, split: str) -> list[tuple[str, int, int]]:
    """``(uri, channel, label_id)`` of the split's original labelled examples
    (``features``: a :class:`~sentiment_model.dataset.FeatureSet`)."""
    import tensorflow as tf

    files = features.shard_files(split)
    if not files:
        return []
    spec = fk.feature_spec(fk.schema_from_text(features.schema_text))
    keep = {k: spec[k] for k in (fk.URI, fk.CHANNEL, fk.LABEL_ID, fk.AUGMENTATION)}
    compression = "GZIP" if files[0].endswith(".gz") else ""
    out = []
    for record in tf.data.TFRecordDataset(files, compression_type=compression):
        ex = tf.io.parse_single_example(record, keep)
        if int(ex[fk.LABEL_ID]) >= 0 and not ex[fk.AUGMENTATION].numpy():
            out.append((ex[fk.URI].numpy().decode(), int(ex[fk.CHANNEL]),
                        int(ex[fk.LABEL_ID])))
    return sorted(out)


def score_path_metrics(loaded, features, *, split: str = "test",
                       segment: seg.SegmentConfig | None = None) -> dict | None:
    """Metrics of the split's recordings through score's path, or ``None``
    when the split has no labelled original examples or the model reports
    label groups (its outputs are not the feature labels).

    Returns:
        ``classification_metrics`` plus ``ece``, ``n`` (files scored),
        ``rejected`` (files score rejects) and ``unreadable`` (files that
        can no longer be read from their URI).
    """
    from sentiment_model import audio as audio_lib
    from sentiment_model.calibration import expected_calibration_error
    from sentiment_model.errors import AudioSentimentError
    from sentiment_model.evaluation import classification_metrics
    from sentiment_model.scoring import score_recording

    vocabulary = list(features.metadata["label_vocabulary"])
    if loaded.card.label_groups or list(loaded.labels) != vocabulary:
        return None
    recordings = labelled_recordings(features, split)
    if not recordings:
        return None
    segment = segment or seg.SegmentConfig()
    y, probs, rejected, unreadable = [], [], 0, 0
    for uri, channel, label_id in recordings:
        try:
            decoded = audio_lib.decode_audio(storage.read_bytes(uri))
        except (OSError, AudioSentimentError):
            unreadable += 1
            continue
        samples = decoded.samples
        mode = "mix" if channel < 0 else "split"
        results = score_recording(samples, decoded.sample_rate, loaded, segment=segment,
                                  channels=mode)
        mine = [r for r in results if channel < 0 or r.channel == channel]
        if not mine or mine[0].summary is None:
            rejected += 1
            continue
        y.append(label_id)
        probs.append(np.asarray(mine[0].summary["probs"], np.float64))
    if not y:
        return {"n": 0, "rejected": rejected, "unreadable": unreadable}
    p = np.stack(probs)
    metrics = classification_metrics(np.asarray(y), p.argmax(axis=1), vocabulary)
    return {**metrics, "ece": float(expected_calibration_error(p, np.asarray(y))),
            "n": len(y), "rejected": rejected, "unreadable": unreadable}
