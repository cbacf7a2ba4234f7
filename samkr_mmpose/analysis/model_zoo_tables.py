# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Write the model-zoo tables of the README from the metafiles.

``model-index.yml`` imports one metafile per config family
(``configs/samkr/hrnet_coco.yml``, ...) in MMPose's format: a
``Collection`` and, per config, a ``Model`` with ``Config``, ``Metadata``
(architecture, training data, input size, branches, #Params and FLOPs as
measured by ``tools/complexity.py``) and, once a checkpoint has been
trained and evaluated, ``Results`` and ``Weights``. The paper's numbers are
kept apart in ``Paper Results`` (a field mim ignores), so they are never
shown as results of these configs.

The tables are written between ``<!-- model-zoo:NAME -->`` and
``<!-- model-zoo:end -->`` in the collection's README; ``--check`` only
reports whether they are up to date.
"""
import difflib
import os.path as osp
import re
import sys
from typing import Dict, List, Sequence

import yaml

BLOCK = re.compile(
    r'(<!-- model-zoo:(?P<name>[\w-]+) -->\n)(?P<body>.*?)'
    r'(<!-- model-zoo:end -->)', re.S)
METRIC_HEADERS = {
    'AP': 'AP',
    'AP@0.5': 'AP<sup>50</sup>',
    'AP@0.75': 'AP<sup>75</sup>',
    'AP (E)': 'AP<sup>E</sup>',
    'AP (M)': 'AP<sup>M</sup>',
    'AP (L)': 'AP<sup>L</sup>',
    'AP (H)': 'AP<sup>H</sup>',
    'AR': 'AR',
    'AR@0.5': 'AR<sup>50</sup>',
    'AR (M)': 'AR<sup>M</sup>',
    'AR (L)': 'AR<sup>L</sup>',
}
COLUMN_HEADERS = {
    'input': 'input',
    'name': 'model',
    'm': 'm',
    'c': 'c',
    'g': 'g',
    's': 's',
    'paper params': '#Params (M)',
    'paper flops': 'GFLOPs',
}
COCO_METRICS = ('AP', 'AP@0.5', 'AP@0.75', 'AP (M)', 'AP (L)', 'AR', 'AR (M)',
                'AR (L)')
# the paper's tables of SAMKR results: caption, columns of the model,
# metrics
PAPER_TABLES = {
    1: ('Table 1: COCO val2017, structure designs (HRNet-W32, 512x512)',
        ('m', 'c', 'g', 's'), ('AP', )),
    2: ('Table 2: COCO val2017, g, c and s (HRNet-W32, 512x512)',
        ('name', 'g', 'c', 's'), ('AP', 'AP (M)', 'AP (L)')),
    3: ('Table 3: COCO val2017, single-scale test',
        ('input', 'paper params', 'paper flops'), COCO_METRICS),
    4: ('Table 4: COCO test-dev2017, single-scale test', ('input', ),
        COCO_METRICS),
    5: ('Table 5: CrowdPose test', (), ('AP', 'AP@0.5', 'AP@0.75', 'AP (E)',
                                        'AP (M)', 'AP (H)')),
}


def load_metafiles(model_index: str) -> List[dict]:
    """The metafiles imported by a model index, in order.

    Args:
        model_index (str): Path of ``model-index.yml``.

    Returns:
        List[dict]: The parsed metafiles, each with its ``path``.
    """
    with open(model_index) as f:
        index = yaml.safe_load(f)
    root = osp.dirname(osp.abspath(model_index))
    metafiles = []
    for path in index['Import']:
        with open(osp.join(root, path)) as f:
            metafile = yaml.safe_load(f)
        metafile['path'] = path
        metafiles.append(metafile)
    return metafiles


def _models(metafiles: Sequence[dict]) -> List[dict]:
    return [model for metafile in metafiles for model in metafile['Models']]


def _config_link(model: dict, readme_dir: str) -> str:
    """A link to the model's config, relative to the README."""
    target = osp.relpath(model['Config'], readme_dir)
    return f'[{osp.basename(target)}](./{target})'


def _structure(model: dict) -> Dict[str, str]:
    """The displacement branch in the paper's notation: ``m = branches x
    c`` channels, ``g`` subspaces of ``s = c / g`` per branch."""
    meta = model['Metadata']
    branches = meta['Keypoint Branches']
    c, g = meta['Channels per Branch'], meta['Subspaces per Branch']
    return dict(
        branches=str(branches),
        m=str(branches * c),
        c=str(c),
        g=str(g),
        s=str(c // g),
        name=f'{g}_SAMKR_{c}' if branches > 1 else f'{g}_SAMKR_{c} (one '
        'branch)')


def _ckpt(model: dict) -> str:
    weights = model.get('Weights')
    return f'[ckpt]({weights})' if weights else 'not released'


def _table(header: Sequence[str], rows: List[Sequence[str]],
           centred_from: int) -> str:
    """A markdown table, columns from ``centred_from`` on centred."""
    align = [':---' if i < centred_from else ':-:' for i in range(len(header))]
    lines = [header, align] + rows
    return ''.join('| ' + ' | '.join(line) + ' |\n' for line in lines)


def models_table(metafiles: Sequence[dict], readme_dir: str) -> str:
    """Every config with its structure, #Params, FLOPs and checkpoint."""
    header = ('config', 'training data', 'input', 'branches x c', 'g', 's',
              '#Params (M)', 'GFLOPs', 'ckpt')
    rows = []
    for model in _models(metafiles):
        meta, structure = model['Metadata'], _structure(model)
        rows.append(
            (_config_link(model, readme_dir), meta['Training Data'],
             meta['Input Size'], f'{structure["branches"]} x {structure["c"]}',
             structure['g'], structure['s'], f'{meta["Parameters"] / 1e6:.2f}',
             f'{meta["FLOPs"] / 1e9:.2f}', _ckpt(model)))
    return _table(header, rows, 1)


def measured_table(metafiles: Sequence[dict], readme_dir: str) -> str:
    """The ``Results`` of released checkpoints, one table per dataset."""
    by_dataset: Dict[str, List[tuple]] = {}
    for model in _models(metafiles):
        for result in model.get('Results') or []:
            by_dataset.setdefault(result['Dataset'], []).append(
                (model, result['Metrics']))
    if not by_dataset:
        return ('No checkpoint of these configs has been trained and '
                'evaluated here yet: there are no results of our own.\n')
    text = []
    for dataset, entries in by_dataset.items():
        metrics = [
            m for m in METRIC_HEADERS if any(m in e for _, e in entries)
        ]
        rows = [
            (_config_link(model, readme_dir),
             *[f'{values[m]:.3f}' if m in values else '-'
               for m in metrics], _ckpt(model)) for model, values in entries
        ]
        text.append(f'{dataset}:\n\n' +
                    _table(['config'] + [METRIC_HEADERS[m] for m in metrics] +
                           ['ckpt'], rows, 1))
    return '\n'.join(text)


def paper_table(metafiles: Sequence[dict], readme_dir: str,
                number: int) -> str:
    """The SAMKR rows of one of the paper's tables, from the
    ``Paper Results`` of the models."""
    caption, columns, metrics = PAPER_TABLES[number]
    rows, notes = [], []
    for model in _models(metafiles):
        for entry in model.get('Paper Results') or []:
            if number not in entry['Tables']:
                continue
            values = _structure(model)
            values.update({
                'input': model['Metadata']['Input Size'],
                'paper params': str(entry.get('Parameters (M)', '-')),
                'paper flops': str(entry.get('GFLOPs', '-'))
            })
            label = _config_link(model, readme_dir)
            if entry.get('Note'):
                notes.append(entry['Note'])
                label += '<sup>' + '*' * len(notes) + '</sup>'
            rows.append([label] + [values[c] for c in columns] +
                        [f'{entry["Metrics"][m]:.3f}' for m in metrics])
    header = (['config'] + [COLUMN_HEADERS[c] for c in columns] +
              [METRIC_HEADERS[m] for m in metrics])
    text = f'The paper\'s {caption}:\n\n' + _table(header, rows, 1)
    for i, note in enumerate(notes, 1):
        text += f'\n<sup>{"*" * i}</sup> {note}\n'
    return text


def blocks(metafiles: Sequence[dict], readme_dir: str) -> Dict[str, str]:
    """The generated blocks by name."""
    generated = dict(
        models=models_table(metafiles, readme_dir),
        measured=measured_table(metafiles, readme_dir))
    for number in PAPER_TABLES:
        generated[f'paper-table-{number}'] = paper_table(
            metafiles, readme_dir, number)
    return generated


def update_readme(text: str, metafiles: Sequence[dict],
                  readme_dir: str) -> str:
    """``text`` with every generated block rewritten.

    Args:
        text (str): The README.
        metafiles (Sequence[dict]): The metafiles (see
            :func:`load_metafiles`).
        readme_dir (str): The README's directory, relative to the
            repository root (for the config links).

    Returns:
        str: The updated README.
    """
    generated = blocks(metafiles, readme_dir)
    found = [m.group('name') for m in BLOCK.finditer(text)]
    unknown = sorted(set(found) - set(generated))
    if unknown:
        raise ValueError(f'unknown model-zoo blocks {unknown}; known: '
                         f'{sorted(generated)}')
    return BLOCK.sub(
        lambda m: m.group(1) + '\n' + generated[m.group('name')] + '\n' + m.
        group(4), text)


def readme_path(metafiles: Sequence[dict]) -> str:
    """The README of the collection, relative to the repository root
    (the metafile gives it relative to itself, as modelindex reads it)."""
    readmes = {
        osp.normpath(
            osp.join(osp.dirname(metafile['path']), collection['README']))
        for metafile in metafiles
        for collection in metafile.get('Collections') or []
    }
    if len(readmes) != 1:
        raise ValueError(f'expected one collection README, got {readmes}')
    return readmes.pop()


def write_model_zoo_tables(root: str, check: bool = False) -> int:
    """Rewrite the tables of the collection's README from the metafiles
    that ``model-index.yml`` in ``root`` imports.

    Args:
        root (str): The repository root.
        check (bool): Only print how the README differs from the
            generated one instead of writing it. Defaults to False.

    Returns:
        int: 1 if ``check`` and the README is not up to date, else 0.
    """
    metafiles = load_metafiles(osp.join(root, 'model-index.yml'))
    readme = readme_path(metafiles)
    with open(osp.join(root, readme)) as f:
        text = f.read()
    updated = update_readme(text, metafiles, osp.dirname(readme))
    if check:
        if updated != text:
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(True), updated.splitlines(True), readme,
                    f'{readme} (generated)'))
            return 1
        return 0
    if updated != text:
        with open(osp.join(root, readme), 'w') as f:
            f.write(updated)
        print(f'updated {readme}')
    return 0
