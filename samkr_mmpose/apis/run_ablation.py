# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The ablation harness: every (config, seed) trained with the same budget
and tested, then a table and a plot of mean +- std."""
import json
import os
import os.path as osp
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Union

from .ablation_configs import load_config, on_synthetic_budget
from .ablation_table import plot_results, results_table
from .ablation_worker import RESULT_FILE
from .run_demo import point_to_data, synthetic_root


def run_name(config: str) -> str:
    """A config's name in the results: its file stem."""
    return osp.splitext(osp.basename(config))[0]


def prepare_run(config: str, seed: int, run_dir: str, root: str,
                synthetic: bool, dataset: str,
                cfg_options: Optional[dict]) -> str:
    """Write the config of one run, unless the same one is there.

    On synthetic data the head of ``config`` is trained on the demo's
    budget (:func:`on_synthetic_budget`); on a real root the config runs as
    it is, pointed at the data.

    Args:
        config (str): The config of the row.
        seed (int): The run's seed.
        run_dir (str): The run's folder.
        root (str): The dataset root.
        synthetic (bool): Whether ``root`` is the synthetic crowds.
        dataset (str): ``'coco'`` or ``'crowdpose'``.
        cfg_options (dict, optional): Overrides of the config.

    Returns:
        str: The config file of the run, ``RUN_DIR/config.py``.

    Raises:
        ValueError: If ``run_dir`` holds a run of another config, whose
            result or checkpoints must not be taken for this one.
    """
    cfg = on_synthetic_budget(config, dataset) if synthetic else \
        load_config(config)
    point_to_data(cfg, dataset, root)
    cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    os.makedirs(run_dir, exist_ok=True)
    config_file = osp.join(run_dir, 'config.py')
    # what Config.dump writes to a .py file
    text = cfg.pretty_text
    if osp.isfile(config_file):
        with open(config_file) as f:
            if f.read() != text:
                raise ValueError(
                    f'{run_dir} holds a run of another config (other '
                    'options or data?); remove it or choose another '
                    '--work-dir')
    else:
        with open(config_file, 'w') as f:
            f.write(text)
    return config_file


def run_one(config_file: str, run_dir: str,
            threads: Optional[int]) -> Union[dict, Exception]:
    """Train and test one run in a process of its own; a finished run is
    read, not run again.

    Args:
        config_file (str): The run's config.
        run_dir (str): The run's folder (``stdout.log`` is its output).
        threads (int, optional): ``OMP_NUM_THREADS`` of the process.

    Returns:
        dict | Exception: The run's result, or the error of a failed run
        (so that the other runs go on).
    """
    result_file = osp.join(run_dir, RESULT_FILE)
    if not osp.isfile(result_file):
        env = dict(os.environ)
        if threads:
            env['OMP_NUM_THREADS'] = str(threads)
        with open(osp.join(run_dir, 'stdout.log'), 'a') as log:
            try:
                subprocess.run([
                    sys.executable, '-m', 'samkr_mmpose.apis.ablation_worker',
                    config_file, run_dir
                ],
                               check=True,
                               stdout=log,
                               stderr=subprocess.STDOUT,
                               env=env)
            except subprocess.CalledProcessError as error:
                return error
    with open(result_file) as f:
        return json.load(f)


def check_runs(configs: Sequence[str], seeds: Sequence[int],
               jobs: int) -> List[str]:
    """The runs' names, after checking the arguments of
    :func:`run_ablation`."""
    if jobs < 1:
        raise ValueError(f'jobs must be >= 1, got {jobs}')
    if not configs or not seeds or len(set(seeds)) != len(seeds):
        raise ValueError('configs and distinct seeds are needed, got '
                         f'{len(configs)} configs and seeds {list(seeds)}')
    names = [run_name(c) for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f'configs must have distinct file names, got '
                         f'{names}')
    return names


def run_ablation(configs: Sequence[str],
                 seeds: Sequence[int],
                 work_dir: str,
                 data_root: Optional[str] = None,
                 dataset: str = 'coco',
                 cfg_options: Optional[dict] = None,
                 jobs: int = 1,
                 threads: Optional[int] = None,
                 num_train: int = 400,
                 num_val: int = 50) -> List[Dict]:
    """Run every (config, seed), skipping finished runs, and write
    ``results.json``, ``results.md`` and ``results.png`` to ``work_dir``.

    Args:
        configs (Sequence[str]): The configs.
        seeds (Sequence[int]): The seeds of every config, distinct.
        work_dir (str): Runs go to ``WORK_DIR/{config}/seed_{seed}``.
        data_root (str, optional): A real dataset root in MMPose's layout;
            by default the synthetic crowds (written to
            ``WORK_DIR/synthetic_{dataset}``) on the demo's budget.
        dataset (str): ``'coco'`` or ``'crowdpose'``. Defaults to
            ``'coco'``.
        cfg_options (dict, optional): Overrides of every config.
        jobs (int): Runs at a time, each a process. Defaults to 1.
        threads (int, optional): ``OMP_NUM_THREADS`` of each run.
        num_train (int): Synthetic training images (seed 0). Defaults to
            400, as the demo.
        num_val (int): Synthetic validation images. Defaults to 50.

    Returns:
        List[dict]: ``config``, ``seed`` and the run's result, per run.

    Raises:
        RuntimeError: Naming the log of every failed run, after the others
            finished and their table was written.
    """
    names = check_runs(configs, seeds, jobs)
    work_dir = osp.abspath(work_dir)
    synthetic = data_root is None
    root = synthetic_root(
        dataset, num_train, num_val, 0,
        osp.join(
            work_dir,
            f'synthetic_{dataset}')) if synthetic else osp.abspath(data_root)
    runs = []
    for config, name in zip(configs, names):
        for seed in seeds:
            run_dir = osp.join(work_dir, name, f'seed_{seed}')
            config_file = prepare_run(config, seed, run_dir, root, synthetic,
                                      dataset, cfg_options)
            runs.append((name, seed, config_file, run_dir))
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda r: run_one(r[2], r[3], threads), runs))
    records = [
        dict(config=name, seed=seed, **result)
        for (name, seed, _, _), result in zip(runs, results)
        if not isinstance(result, Exception)
    ]
    if records:
        write_results(records, names, work_dir)
    failed = [
        osp.join(run_dir, 'stdout.log')
        for (_, _, _, run_dir), result in zip(runs, results)
        if isinstance(result, Exception)
    ]
    if failed:
        raise RuntimeError(f'{len(failed)} of {len(runs)} runs failed; see '
                           f'{failed}')
    return records


def write_results(records: List[Dict], names: Sequence[str],
                  work_dir: str) -> None:
    """Write ``results.json``, ``results.md`` and ``results.png``.

    Args:
        records (List[dict]): The finished runs.
        names (Sequence[str]): The configs, in the table's order.
        work_dir (str): The harness's work dir.
    """
    names = [n for n in names if any(r['config'] == n for r in records)]
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(records, f, indent=2)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(results_table(records, names))
    plot_results(records, names, osp.join(work_dir, 'results.png'))
