import csv
import dataclasses
import json
import os

import keras
import numpy as np
import pytest

from pipelines import compare as compare_job
from pipelines import train as train_job
from schemas.features import SCHEMA_VERSION
from sentiment_model import calibration, dataset, train
from sentiment_model.errors import ConfigError, InputError
from sentiment_model.model_card import CARD_FILE, ModelCard, model_digest
from tests.conftest import featurize_into


def run_train(features, model_dir, *extra) -> dict:
    """Trains; returns model_card.json as written, checked equal to the card train returns."""
    card = train_job.run(["--features", features, "--model-dir", str(model_dir), "--epochs",
                          "3", "--batch-size", "4", "--patience", "2", *extra])
    with open(os.path.join(model_dir, CARD_FILE)) as f:
        written = json.load(f)
    assert written == json.loads(json.dumps(card.to_dict()))
    typed = {"details": {}, "metrics": {}}  # JSON turns their int keys into strings
    assert (dataclasses.replace(ModelCard.from_dict(written), **typed)
            == dataclasses.replace(card, **typed))
    return written


def meta_frames_mean(features_dir) -> list[float]:
    with open(os.path.join(features_dir, "metadata.json")) as f:
        mean = json.load(f)["train_stats"]["frames"]["mean"]
    assert len(mean) == 310  # the default preset: 40 MFCCs, 14 spectral and 256 voice columns
    return mean


def test_train_exports_model_card_metrics_plots_and_is_reproducible(features_dir, tmp_path):
    from sentiment_model import inference, models

    card = run_train(features_dir, tmp_path / "m1")
    out = tmp_path / "m1"
    model = keras.saving.load_model(str(out / "model.keras"), safe_mode=True)
    assert card["parameters"] == model.count_params()
    assert card["architecture"] == "bilstm_stats"  # the default
    assert card["label_vocabulary"] == ["negative", "neutral", "positive"]
    assert card["feature_config"]["preset"] == "default"
    assert card["model_version"] == model_digest(str(out / "model.keras"), card)
    # the default preset's 310 columns, standardised with the train statistics
    assert card["normalization"]["group"] == "none"
    assert card["normalization"]["frames"]["mean"] == meta_frames_mean(features_dir)
    assert card["validation"] == {"source": "eval split"}
    assert card["hyperparameters"]["input_noise"] == 0.0
    bilstm, stats = card["ensemble"]
    assert bilstm == {"seed": 0, "architecture": "bilstm_attention",
                      "epochs_run": card["epochs_run"], "best_epoch": card["best_epoch"]}
    assert stats["architecture"] == "frame_stats"
    assert 1 <= stats["best_epoch"] <= stats["epochs_run"] <= 3
    assert 1 <= card["best_epoch"] <= card["epochs_run"] <= 3
    # bilstm_stats: one model averaging the BiLSTM and the linear model of frame statistics
    members = [model.get_layer(f"member_{i}") for i in range(2)]
    frame_stats = models.frame_stats(3, frame_dims=len(card["normalization"]["frames"]["mean"]))
    assert members[1].count_params() == frame_stats.count_params()
    assert card["parameters"] == members[0].count_params() + members[1].count_params()
    # the linear member's statistics standardised with their moments over the
    # examples it was fitted on (the train split: the eval split validates)
    fs = dataset.load_feature_set(features_dir)
    standardise = members[1].get_layer("standardise")
    assert int(standardise.count.numpy()) == fs.examples("train")
    assert not np.allclose(standardise.adapt_mean.numpy(), 0.0)
    assert not np.allclose(standardise.adapt_variance.numpy(), 1.0)
    x, _ = next(iter(dataset.make_dataset(fs, "test", input_kind="frames", batch_size=4)))
    # ... followed by the temperature fitted on the out-of-fold probabilities
    # of the train and eval speakers (one each: two groups; no copies here)
    info = card["calibration"]
    assert info["method"] == "temperature"
    assert info["fitted_on"].startswith("out-of-fold probabilities of 2 groups of the 2 "
                                        "training speakers")
    assert 0.05 <= info["temperature"] <= 20
    assert info["examples"] == fs.examples("train") + fs.examples("eval")
    assert model.get_layer("calibrated").temperature == info["temperature"]
    np.testing.assert_allclose(
        model.predict_on_batch(x),
        calibration.apply_temperature(np.mean([m.predict_on_batch(x) for m in members],
                                              axis=0), info["temperature"]),
        rtol=1e-4, atol=1e-6)
    # the eval split's ECE before and after, of the early-stopped model (the one exported)
    assert info["eval_ece"] == pytest.approx(card["metrics"]["eval"]["ece"], abs=1e-6)
    y_val, p_val = train.predictions(model, dataset.make_dataset(fs, "eval", input_kind="frames",
                                                                  batch_size=4))
    assert info["eval_ece_uncalibrated"] == pytest.approx(calibration.expected_calibration_error(
        calibration.apply_temperature(p_val, 1 / info["temperature"]), y_val), abs=1e-4)
    assert 0 <= card["metrics"]["test"]["ece"] <= 1
    assert inference.load_model_dir(str(out)).input_kind == "frames"
    with open(out / "metrics.json") as f:
        assert json.load(f) == card["metrics"]
    with open(os.path.join(features_dir, "metadata.json")) as f:
        meta = json.load(f)
    test = card["metrics"]["test"]
    assert test["n"] == meta["examples"]["test"] == sum(map(sum, test["confusion_matrix"]))
    assert test["accuracy"] == pytest.approx(
        np.trace(test["confusion_matrix"]) / test["n"])
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == card["epochs_run"] and "val_loss" in rows[0]
    for name in ("confusion_matrix.png", "learning_curves.png", "reliability.png"):
        assert (out / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    assert os.listdir(out / "logs")

    again = run_train(features_dir, tmp_path / "m2")
    assert again["metrics"] == card["metrics"]
    with open(tmp_path / "m2" / "history.csv") as f:
        assert list(csv.DictReader(f)) == rows


def test_seed_bilstm_on_the_seed_preset_and_holdout_without_eval(corpus, tmp_path):
    feats = str(tmp_path / "seed")
    featurize_into(feats, "--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                   "--preset", "seed", "--split-ratios", "0.7,0,0.3")
    card = run_train(feats, tmp_path / "model", "--architecture", "seed_bilstm")
    assert card["parameters"] == 1_467_651
    assert card["hyperparameters"]["optimizer"] == "rmsprop"
    assert card["validation"]["source"] == "train speakers held out"
    with open(os.path.join(feats, "metadata.json")) as f:
        train_speakers = json.load(f)["speakers"]["train"]
    assert set(card["validation"]["speakers"]) < set(train_speakers)
    assert card["validation"]["speakers"] == dataset.holdout_speakers(train_speakers)


def test_clear_errors_for_unusable_features(features_dir, corpus, tmp_path):
    with pytest.raises(InputError, match=r"no metadata\.json"):
        run_train(str(tmp_path), tmp_path / "m")
    with pytest.raises(ConfigError, match="seed_cnn2d"):
        run_train(features_dir, tmp_path / "m", "--architecture", "seed_cnn2d")
    unlabelled = str(tmp_path / "unlabelled")
    featurize_into(unlabelled, "--input", corpus)
    with pytest.raises(InputError, match="at least two"):
        run_train(unlabelled, tmp_path / "m")
    old = str(tmp_path / "old")
    featurize_into(old, "--input", corpus, "--labels", os.path.join(corpus, "labels.csv"))
    path = os.path.join(old, "metadata.json")
    with open(path) as f:
        meta = json.load(f)
    meta["schema_version"] = 0
    with open(path, "w") as f:
        json.dump(meta, f)
    with pytest.raises(InputError, match="schema_version=0"):
        run_train(old, tmp_path / "m")
    meta["schema_version"] = SCHEMA_VERSION
    with open(path, "w") as f:
        json.dump(meta, f)
    os.remove(os.path.join(old, meta["shards"]["train"][0]))
    with pytest.raises(InputError, match=r"shard.*missing"):
        run_train(old, tmp_path / "m")


def test_compare_trains_each_compatible_architecture(features_dir, corpus, tmp_path, capsys):
    from tests.conftest import featurize_into

    speaker = str(tmp_path / "speaker")
    featurize_into(speaker, "--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                   "--preset", "speaker_norm")
    rows = compare_job.run(["--features", features_dir, "--features", speaker,
                            "--output", str(tmp_path), "--epochs", "1",
                            "--architectures", "seed_lstm,seed_cnn2d,bilstm_attention"])
    # pooled vectors of speaker-normalised features and MFCCs as images are skipped, saying so
    assert sorted((r["architecture"], r["preset"]) for r in rows) == [
        ("bilstm_attention", "default"), ("bilstm_attention", "speaker_norm"),
        ("seed_lstm", "default")]
    err = capsys.readouterr().err
    assert f"skipping seed_lstm on {speaker}: seed_lstm reads pooled vectors" in err
    assert f"skipping seed_cnn2d on {features_dir}: seed_cnn2d needs square" in err
    with open(tmp_path / "comparison.json") as f:
        assert json.load(f) == rows
    table = (tmp_path / "comparison.md").read_text().splitlines()
    assert table[0].startswith("| architecture | preset | evaluated_on | accuracy | uar")
    assert len(table) == 5
    seed_lstm = next(r for r in rows if r["architecture"] == "seed_lstm")
    assert seed_lstm["parameters"] == keras.saving.load_model(
        os.path.join(seed_lstm["model_dir"], "model.keras")).count_params()


def test_mixed_precision_runs_on_cpu_and_resets_the_policy(features_dir, tmp_path):
    card = train_job.run(["--features", features_dir, "--model-dir", str(tmp_path),
                          "--epochs", "1", "--mixed-precision", "--spec-augment"])
    assert card.details["hyperparameters"]["mixed_precision"] is True
    assert card.details["hyperparameters"]["spec_augment"] is True
    assert keras.mixed_precision.global_policy().name == "float32"
    model = keras.saving.load_model(str(tmp_path / "model.keras"), safe_mode=True)
    assert model.get_layer("probabilities").dtype_policy.compute_dtype == "float32"
    bilstm, stats = model.get_layer("member_0"), model.get_layer("member_1")
    assert bilstm.get_layer("attention").dtype_policy.compute_dtype == "float16"
    assert stats.get_layer("standardise").dtype_policy.compute_dtype == "float16"
    for member in (bilstm, stats):
        assert member.get_layer("probabilities").dtype_policy.compute_dtype == "float32"


def test_ensemble_exports_the_average_of_its_members(features_dir, tmp_path):
    from sentiment_model import inference

    one = ("--epochs", "2", "--architecture", "bilstm_attention", "--input-noise", "0.2",
           "--no-calibrate")
    single = run_train(features_dir, tmp_path / "one", *one, "--seed", "6")
    card = run_train(features_dir, tmp_path / "two", *one, "--ensemble", "2", "--seed", "5")
    assert card["hyperparameters"]["input_noise"] == 0.2 and card["calibration"] is None
    assert [m["seed"] for m in card["ensemble"]] == [5, 6]
    assert all(m["epochs_run"] == 2 for m in card["ensemble"])
    assert card["parameters"] == 2 * single["parameters"]
    model = keras.saving.load_model(str(tmp_path / "two" / "model.keras"), safe_mode=True)
    members = [model.get_layer(f"member_{i}") for i in range(2)]
    assert all(m.get_layer("input_noise").stddev == 0.2 for m in members)
    fs = dataset.load_feature_set(features_dir)
    x, _ = next(iter(dataset.make_dataset(fs, "test", input_kind="frames", batch_size=4)))
    np.testing.assert_allclose(
        model.predict_on_batch(x),
        np.mean([m.predict_on_batch(x) for m in members], axis=0), rtol=1e-5, atol=1e-6)
    # each member is the model a separate run with its seed trains (its own
    # initialisation and data order): member 1 is the --seed 6 run
    alone = keras.saving.load_model(str(tmp_path / "one" / "model.keras"), safe_mode=True)
    np.testing.assert_allclose(members[1].predict_on_batch(x), alone.predict_on_batch(x),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(members[0].predict_on_batch(x), alone.predict_on_batch(x),
                           atol=1e-4)
    assert card["ensemble"][1]["best_epoch"] == single["best_epoch"]
    assert inference.load_model_dir(str(tmp_path / "two")).labels == tuple(
        card["label_vocabulary"])
    with pytest.raises(ConfigError, match="--ensemble"):
        train.TrainConfig(features="f", model_dir="m", ensemble=0).validate()


def test_bilstm_stats_is_the_default_and_takes_the_bilstm_options():
    from sentiment_model import models

    assert (train.TrainConfig(features="f", model_dir="m").architecture
            == train_job.parse_known_args(["--features", "f", "--model-dir", "m"])[0].architecture
            == models.DEFAULT_ARCHITECTURE == "bilstm_stats")
    with pytest.raises(ConfigError, match="--input-noise"):
        train.TrainConfig(features="f", model_dir="m", architecture="frame_stats",
                          input_noise=0.1).validate()
    train.TrainConfig(features="f", model_dir="m", architecture="bilstm_stats",
                      input_noise=0.1, spec_augment=True).validate()


def test_each_architecture_gets_its_schedule_unless_told(features_dir, tmp_path):
    def schedule(config):
        return config.epochs, config.patience, config.min_epochs

    base = train.TrainConfig(features="f", model_dir="m")
    assert schedule(base) == (None, None, None)  # as the CLI leaves them
    assert schedule(base.resolved()) == (40, 8, 1)  # the measured default recipe
    assert schedule(train.TrainConfig(features="f", model_dir="m", architecture="seed_bilstm")
                    .resolved()) == (200, 20, 1)  # the study's
    assert schedule(train.TrainConfig(features="f", model_dir="m", epochs=3,
                                      min_epochs=2).resolved()) == (3, 8, 2)
    args = train_job.parse_known_args(["--features", "f", "--model-dir", "m"])[0]
    assert (args.epochs, args.patience, args.min_epochs) == (None, None, None)
    with pytest.raises(ConfigError, match=r"--min-epochs 41: .*\(40\)"):
        train.TrainConfig(features="f", model_dir="m", min_epochs=41).validate()
    # a run without them records the schedule it used
    card = train_job.run(["--features", features_dir, "--model-dir", str(tmp_path / "m"),
                          "--architecture", "frame_stats", "--batch-size", "4"]).to_dict()
    hyper = card["hyperparameters"]
    assert (hyper["epochs"], hyper["patience"], hyper["min_epochs"]) == (40, 8, 1)
    assert card["epochs_run"] <= 40
    assert card["epochs_run"] == card["best_epoch"] + 8 or card["epochs_run"] == 40


def test_label_groups_train_on_labels_and_export_a_model_reporting_groups(features_dir,
                                                                          tmp_path):
    from sentiment_model import inference, models

    card = run_train(features_dir, tmp_path / "g", "--epochs", "2",
                     "--label-groups", "negative=bad,neutral=ok,positive=ok")
    assert card["label_vocabulary"] == ["bad", "ok"]
    grouped = card["label_groups"]
    assert grouped["classes"] == ["negative", "neutral", "positive"]
    assert grouped["group_of"] == {"negative": "bad", "neutral": "ok", "positive": "ok"}
    # class-weighted training: "ok" holds two classes, so half the weight each
    assert grouped["weights"] == {"bad": 1.0, "ok": 0.5}
    with open(os.path.join(features_dir, "metadata.json")) as f:
        test_counts = json.load(f)["counts"]["test"]
    test = card["metrics"]["test"]
    # rows of the confusion matrix: the test examples of each group
    assert [sum(row) for row in test["confusion_matrix"]] == [
        test_counts.get("negative", 0),
        test_counts.get("neutral", 0) + test_counts.get("positive", 0)]
    classes = grouped["class_metrics"]["test"]
    assert classes["labels"] == grouped["classes"] and classes["n"] == test["n"]
    assert "2 groups" in train.summary_line(ModelCard.from_dict(card))

    model = keras.saving.load_model(str(tmp_path / "g" / "model.keras"), safe_mode=True)
    assert card["parameters"] == model.count_params()
    fs = dataset.load_feature_set(features_dir)
    x, _ = next(iter(dataset.make_dataset(fs, "test", input_kind="frames", batch_size=4)))
    p_class = model.get_layer("classes").predict_on_batch(x)
    assert p_class.shape[1] == 3
    expected = np.stack([p_class[:, 0], 0.5 * (p_class[:, 1] + p_class[:, 2])], axis=1)
    expected /= expected.sum(axis=1, keepdims=True)
    # the temperature is fitted on the groups' probabilities, after grouping
    expected = calibration.apply_temperature(expected, card["calibration"]["temperature"])
    np.testing.assert_allclose(model.predict_on_batch(x), expected, rtol=1e-4, atol=1e-6)
    assert isinstance(model.get_layer("group_probabilities"), models.GroupProbabilities)
    loaded = inference.load_model_dir(str(tmp_path / "g"))
    assert loaded.labels == ("bad", "ok")
    rng = np.random.default_rng(0)
    proba = inference.predict_proba(loaded, 0.1 * rng.standard_normal(16000), 16000)
    assert proba.shape == (2,) and proba.sum() == pytest.approx(1.0, abs=1e-5)


def test_label_groups_errors(features_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"no group for label.*positive"):
        run_train(features_dir, tmp_path / "a", "--label-groups", "negative=bad,neutral=ok")
    with pytest.raises(ConfigError, match="at least two groups"):
        run_train(features_dir, tmp_path / "b",
                  "--label-groups", "negative=x,neutral=x,positive=x")
    with pytest.raises(ConfigError, match="'positive' is not LABEL=TARGET"):
        run_train(features_dir, tmp_path / "c", "--label-groups", "negative=bad,positive")
    with pytest.raises(ConfigError, match=r"cannot read a JSON object.*emotion-sentiment"):
        run_train(features_dir, tmp_path / "d", "--label-groups", "no-such-map")


def test_compare_with_label_groups_reports_the_groups(features_dir, tmp_path):
    from sentiment_model import inference

    rows = compare_job.run(["--features", features_dir, "--output", str(tmp_path),
                            "--epochs", "1", "--architectures", "seed_lstm",
                            "--label-groups", "negative=bad,neutral=ok,positive=ok"])
    assert [r["architecture"] for r in rows] == ["seed_lstm"]
    loaded = inference.load_model_dir(rows[0]["model_dir"])
    assert loaded.labels == ("bad", "ok")
    with open(os.path.join(rows[0]["model_dir"], "metrics.json")) as f:
        assert json.load(f)["test"]["labels"] == ["bad", "ok"]


def test_refit_retrains_on_train_and_eval_for_the_best_epoch_count(features_dir, tmp_path):
    plain = run_train(features_dir, tmp_path / "plain")
    card = run_train(features_dir, tmp_path / "refit", "--refit")
    with open(os.path.join(features_dir, "metadata.json")) as f:
        examples = json.load(f)["examples"]
    assert card["refit"]["examples"] == examples["train"] + examples["eval"]
    assert card["refit"]["data"] == "train + eval splits"
    # each member (the default: the BiLSTM, then the linear model) for its own best epoch
    assert card["refit"]["epochs"] == [m["best_epoch"] for m in plain["ensemble"]] == [
        m["best_epoch"] for m in card["ensemble"]]
    assert card["refit"]["epochs"][0] == card["best_epoch"]
    assert card["hyperparameters"]["refit"] is True and plain["refit"] is None
    # eval metrics: the same early-stopped model; the exported model is the refit one
    assert card["metrics"]["eval"] == plain["metrics"]["eval"]
    assert card["model_version"] != plain["model_version"]
    assert card["metrics"]["test"]["n"] == examples["test"]
    assert "refit on" in train.summary_line(ModelCard.from_dict(card))
    # the refit linear member's statistics standardised over what it was refitted on
    model = keras.saving.load_model(str(tmp_path / "refit" / "model.keras"), safe_mode=True)
    standardise = model.get_layer("member_1").get_layer("standardise")
    assert int(standardise.count.numpy()) == examples["train"] + examples["eval"]


def test_min_epochs_keeps_no_epoch_before_it(features_dir, tmp_path):
    out = tmp_path / "m"
    card = run_train(features_dir, out, "--architecture", "frame_stats", "--epochs", "5",
                     "--min-epochs", "3", "--patience", "1", "--no-calibrate")
    assert card["hyperparameters"]["min_epochs"] == 3
    with open(out / "history.csv", newline="") as f:
        val_loss = [float(row["val_loss"]) for row in csv.DictReader(f)]
    assert len(val_loss) == card["epochs_run"] >= 4  # 3, then at least one of patience
    # the best of epochs 3.. by validation loss, whatever epochs 1-2 scored
    assert card["best_epoch"] == 3 + int(np.argmin(val_loss[2:]))
    # and the exported weights are that epoch's: the eval split scores its loss again
    model = keras.saving.load_model(str(out / "model.keras"), safe_mode=True)
    model.compile(loss="sparse_categorical_crossentropy")
    fs = dataset.load_feature_set(features_dir)
    eval_ds = dataset.make_dataset(fs, "eval", input_kind="frames", batch_size=4)
    assert model.evaluate(eval_ds, verbose=0, return_dict=True)["loss"] == pytest.approx(
        val_loss[card["best_epoch"] - 1], rel=1e-4)
    for bad in ("0", "9"):
        with pytest.raises(ConfigError, match="--min-epochs"):
            run_train(features_dir, tmp_path / "bad", "--epochs", "5", "--min-epochs", bad)


def test_calibration_folds_zero_fits_the_temperature_on_the_validation_data(features_dir,
                                                                           tmp_path):
    card = run_train(features_dir, tmp_path / "m", "--architecture", "frame_stats",
                     "--calibration-folds", "0")
    info = card["calibration"]
    fs = dataset.load_feature_set(features_dir)
    assert info["fitted_on"] == "eval split" and info["examples"] == fs.examples("eval")
    model = keras.saving.load_model(str(tmp_path / "m" / "model.keras"), safe_mode=True)
    y_val, p_val = train.predictions(model, dataset.make_dataset(fs, "eval", input_kind="frames",
                                                                  batch_size=4))
    raw = calibration.apply_temperature(p_val, 1 / info["temperature"])
    assert info["temperature"] == pytest.approx(calibration.fit_temperature(raw, y_val),
                                                rel=1e-3)
    for bad in (1, -1):
        with pytest.raises(ConfigError, match="--calibration-folds"):
            train.TrainConfig(features="f", model_dir="m", calibration_folds=bad).validate()


def test_cross_fit_predicts_each_speaker_group_with_models_that_never_saw_it(features_dir):
    config = train.TrainConfig(features=features_dir, model_dir="unused",
                               architecture="frame_stats", batch_size=4).resolved()
    data = train._training_data(config)
    members = train._Members(config, data, train.distribution_strategy()[0])
    runs = [{"seed": 0, "architecture": "frame_stats", "best_epoch": 2}]
    out = members.cross_fit(runs, 3)
    fs = data.features
    known = sorted(fs.metadata["speakers"]["train"] + fs.metadata["speakers"]["eval"])
    assert (out["groups"], out["speakers"]) == (2, 2)  # no more groups than speakers
    assert len(out["y"]) == fs.examples("train") + fs.examples("eval")
    # each speaker's probabilities: those of the model fitted on the other speaker alone
    expected = {}
    for s in known:
        def fit_ds(seed, other=tuple(o for o in known if o != s)):
            return dataset.make_dataset(fs, ("train", "eval"), keep_speakers=list(other),
                                        shuffle=True, seed=seed, input_kind="frames",
                                        batch_size=4)

        [model], _ = members.fit_for_epochs(runs, fit_ds, train._labels_of(fit_ds(0)),
                                            what="test")
        expected[s] = train.predictions(model, dataset.make_dataset(
            fs, ("train", "eval"), keep_speakers=[s], input_kind="frames", batch_size=4))
    matches = [np.array_equal(out["y"], np.concatenate([expected[a][0], expected[b][0]]))
               and np.allclose(out["probs"], np.concatenate([expected[a][1], expected[b][1]]),
                               atol=1e-6)
               for a, b in (known, known[::-1])]
    assert sum(matches) == 1
    assert not np.allclose(expected[known[0]][1], expected[known[0]][1].mean(axis=0))


def test_balanced_class_weights_make_each_present_class_weigh_the_same():
    weights = train.balanced_class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights == pytest.approx({0: 4 / 9, 1: 4 / 3, 2: 0.0})
    # each present class weighs n / n_classes in all
    assert 3 * weights[0] == pytest.approx(1 * weights[1]) == pytest.approx(4 / 3)
