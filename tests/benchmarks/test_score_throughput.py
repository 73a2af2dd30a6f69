from benchmarks.score_throughput import default_model_parameters
from sentiment_model import models
from sentiment_model.config import FeatureConfig
from sentiment_model.model_card import ModelCard


def card(frame_dims: int, pooled_dims: int, labels=("negative", "neutral", "positive")):
    return ModelCard(model_version="0" * 64, architecture="bilstm_stats", input_kind="frames",
                     labels=tuple(labels), feature=FeatureConfig(), schema_version=1,
                     normalization={"frames": {"mean": [0.0] * frame_dims},
                                    "pooled": {"mean": [0.0] * pooled_dims}})


def test_a_cached_model_is_compared_with_the_default_built_today():
    # the default preset's 54 columns: the BiLSTM and the nine-statistic linear member
    assert models.DEFAULT_ARCHITECTURE == "bilstm_stats"
    assert default_model_parameters(card(54, 108)) == 360_323 + 3_405
    # a model of the four-statistic linear member (1,515) is not the default any more
    assert default_model_parameters(card(54, 108)) != 360_323 + 1_515
    # the counts follow the card's shapes and classes
    assert default_model_parameters(card(40, 80)) == (
        models.bilstm_attention(3, frame_dims=40).count_params()
        + models.frame_stats(3, frame_dims=40).count_params())
    assert default_model_parameters(card(54, 108, ("a", "b"))) < default_model_parameters(
        card(54, 108))
