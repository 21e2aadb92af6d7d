"""The feature study behind ceiling_fan.py: which cheap per-axis features make the Mahalanobis
detector work, measured on validation files only (the test files of ceiling_fan.py's split are
never read here).

    python3 examples/ceiling-fan/ceiling_fan.py --compare-features [--subset N]

Two validation protocols, both inside the non-test files:
- random: the normal train + validation files re-split 75/25 with 5 seeds (60/20 of all
  files), averaged; the unbalanced validation files (half of each unbalanced folder);
- chronological: the same pool in recording order, the first 75% for training and the last
  25% for validation. The recordings drift slowly (at high speed the total variation falls by
  about 12% from the first fifth of the files to the last): does the detector survive that?
Each fits mean and covariance on the training part and sets the threshold to mean + 3 std of
the validation distances, as ceiling_fan.py does.
"""

from __future__ import annotations

import numpy as np

from ceiling_fan import OTHER_NORMAL, SEED, SPEEDS, features, squared_distance


def mad(w):
    """Median absolute deviation per axis (the original analysis, without its 1.4826 factor,
    which a Mahalanobis distance does not see)."""
    w = w.astype(np.float64)
    return np.median(np.abs(w - np.median(w, axis=1, keepdims=True)), axis=1)


def std(w):
    return w.astype(np.float64).std(axis=1)


def zero_crossings(w):
    """Sign changes of each axis around its window mean."""
    centered = w - w.astype(np.float64).mean(axis=1, keepdims=True)
    return (np.diff(np.signbit(centered), axis=1) != 0).sum(axis=1).astype(np.float64)


CANDIDATES = {
    "MAD (original)": (lambda w: mad(w),
                       "2 medians of 128 per axis: selection, 128-sample buffers"),
    "STD": (lambda w: std(w), "sum, sum of squares, square root"),
    "TV": (lambda w: features(w), "sum of |a[n]-a[n-1]|: streaming, adds only"),
    "MAD + TV": (lambda w: np.hstack([mad(w), features(w)]), "MAD's cost + TV"),
    "STD + TV": (lambda w: np.hstack([std(w), features(w)]), "STD + TV, streaming"),
    "TV + TV/STD": (lambda w: np.hstack([features(w), features(w) / std(w)]),
                    "STD + TV + a division"),
    "STD + ZCR": (lambda w: np.hstack([std(w), zero_crossings(w)]), "two passes"),
}


def evaluate(train, val, unbalanced):
    """(detection per speed, validation false alarms per speed, AUC)."""
    X_train = np.vstack(train)
    location = X_train.mean(axis=0)
    precision = np.linalg.inv(np.cov(X_train, rowvar=False))
    distance = [np.sqrt(squared_distance(X, location, precision)) for X in val]
    pooled = np.concatenate(distance)
    threshold = pooled.mean() + 3 * pooled.std()
    bad = [np.sqrt(squared_distance(X, location, precision)) for X in unbalanced]
    detection = np.array([np.mean(d > threshold) for d in bad])
    false_alarm = np.array([np.mean(d > threshold) for d in distance])
    bad_pooled = np.concatenate(bad)
    auc = np.mean(pooled[:, None] < bad_pooled[None, :])
    return detection, false_alarm, auc


def compare_features(conditions: dict, seeds: int = 5) -> dict:
    """Prints the study's table; returns {name: {"detection", "mean", "false_alarm", "auc",
    "chronological"}}."""
    pools = {}
    for speed in SPEEDS:
        c = conditions[("normal", speed)]
        s = c["splits"]
        pool = np.r_[np.arange(len(c["order"]))[s["val"]], np.arange(len(c["order"]))[s["train"]]]
        pools[speed] = pool
    print("Feature study: validation files only (see feature_study.py); detection = unbalanced "
          "windows flagged,\nfalse alarm = validation normal windows flagged (the same windows "
          "set the threshold), AUC = normal vs unbalanced distances.\n")
    print(f"{'':16}{'random split, 5 seeds':^54}")
    print(f"{'features':16}{'detection low/med/high':>26}{'mean':>7}{'false alarm':>16}{'AUC':>7}"
          f"{'chronological':>15}   cost")
    study = {}
    for name, (function, cost) in CANDIDATES.items():
        F = {key: function(c["windows"]) for key, c in conditions.items()}
        unbalanced = [F[("unbalanced", s)][conditions[("unbalanced", s)]["splits"]["val"]]
                      for s in SPEEDS]
        results = []
        for r in range(seeds):
            rng = np.random.default_rng([SEED, r])
            train, val = [], []
            for speed in SPEEDS:
                pool = rng.permutation(pools[speed])
                n_val = len(pool) // 4
                train.append(F[("normal", speed)][pool[n_val:]])
                val.append(F[("normal", speed)][pool[:n_val]])
            results.append(evaluate(train, val, unbalanced))
        detection = np.mean([r[0] for r in results], axis=0)
        false_alarm = np.mean([r[1] for r in results], axis=0)
        auc = np.mean([r[2] for r in results])
        train, val = [], []
        for speed in SPEEDS:
            c = conditions[("normal", speed)]
            pool = pools[speed][np.argsort(c["order"][pools[speed]])]  # recording order
            n_train = len(pool) - len(pool) // 4
            train.append(F[("normal", speed)][pool[:n_train]])
            val.append(F[("normal", speed)][pool[n_train:]])
        chrono = evaluate(train, val, unbalanced)[0]
        false_alarms = " ".join(f"{100 * f:.1f}" for f in false_alarm) + "%"
        print(f"{name:16}{' '.join(f'{100 * d:7.1f}%' for d in detection):>26}"
              f"{100 * detection.mean():6.1f}%{false_alarms:>16}{auc:7.3f}"
              f"{100 * chrono.mean():14.1f}%   {cost}")
        study[name] = {"detection": detection.tolist(), "mean": float(detection.mean()),
                       "false_alarm": false_alarm.tolist(), "auc": float(auc),
                       "chronological": float(chrono.mean())}
    print("\ndetection: mean detection rate over low/med/high; chronological: the same with the "
          "chronological split.")
    study["training sets"] = compare_training_sets(conditions, seeds)
    return study


def compare_training_sets(conditions: dict, seeds: int = 5) -> dict:
    """TV features, random protocol: train on low/med/high only, or add the fan-off and the
    moved-around recordings (their validation half, re-split 75/25 like the normal pool)."""
    F = {key: features(c["windows"]) for key, c in conditions.items()}
    pools = {}
    for key, c in conditions.items():
        positions = np.arange(len(c["order"]))
        s = c["splits"]
        pools[key] = positions[s["val"]] if key[0] != "normal" else np.r_[positions[s["val"]],
                                                                         positions[s["train"]]]
    unbalanced = [F[("unbalanced", s)][conditions[("unbalanced", s)]["splits"]["val"]]
                  for s in SPEEDS]
    print("\nTraining set (TV features, random split, 5 seeds): detection on unbalanced "
          "validation windows, alarms on\nvalidation windows of each normal condition.")
    print(f"{'trained on':24}{'detection low/med/high':>26}{'mean':>7}"
          f"{'alarms low/med/high/off/moving':>36}")
    table = {}
    for label, extra in (("low/med/high", ()), ("+ off", ("off",)), ("+ moving", ("moving",)),
                         ("+ off + moving", ("off", "moving"))):
        detections, alarms = [], []
        for r in range(seeds):
            rng = np.random.default_rng([SEED, r])
            train, val, checked = [], [], []
            for key in [("normal", s) for s in SPEEDS] + [("other", k) for k in OTHER_NORMAL]:
                pool = rng.permutation(pools[key])
                n_val = len(pool) // 4
                if key[0] == "normal" or key[1] in extra:
                    train.append(F[key][pool[n_val:]])
                    val.append(F[key][pool[:n_val]])
                checked.append(F[key][pool[:n_val]])
            X_train = np.vstack(train)
            location = X_train.mean(axis=0)
            precision = np.linalg.inv(np.cov(X_train, rowvar=False))
            distance = np.sqrt(squared_distance(np.vstack(val), location, precision))
            threshold = distance.mean() + 3 * distance.std()
            flagged = [np.mean(np.sqrt(squared_distance(X, location, precision)) > threshold)
                       for X in unbalanced + checked]
            detections.append(flagged[:3])
            alarms.append(flagged[3:])
        detection = np.mean(detections, axis=0)
        alarm = np.mean(alarms, axis=0)
        print(f"{label:24}{' '.join(f'{100 * d:7.1f}%' for d in detection):>26}"
              f"{100 * detection.mean():6.1f}%"
              f"{' '.join(f'{100 * a:5.1f}%' for a in alarm):>36}")
        table[label] = {"detection": detection.tolist(), "mean": float(detection.mean()),
                        "alarms": alarm.tolist()}
    return table
